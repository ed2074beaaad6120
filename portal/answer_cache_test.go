package portal

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
)

// A change to the registry — whoever makes it — shows in the very next
// list answer of every instance, and ETags follow the content.
func TestCatalogListSeesChangesAtOnce(t *testing.T) {
	t.Parallel()
	a := setupAPI(t)
	ctx := context.Background()
	// A second instance on the same database, as behind a load balancer.
	other, err := New(Options{Pool: a.pool, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test"})
	require.NoError(t, err)
	ts := httptest.NewServer(other.Handler())
	t.Cleanup(ts.Close)
	instances := map[string]string{"same": a.http.URL, "other": ts.URL}
	store := catalog.NewStore(a.pool, nil)

	list := func(t *testing.T, base, path string, signedIn bool, etag string) (*http.Response, catalogList) {
		t.Helper()
		req, err := http.NewRequest("GET", base+path, nil)
		require.NoError(t, err)
		if signedIn {
			req.Header.Set("Authorization", "Bearer "+a.token)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		var out catalogList
		if res.StatusCode == http.StatusOK {
			require.NoError(t, json.Unmarshal(raw, &out), string(raw))
		}
		return res, out
	}
	claves := func(l catalogList) string {
		var s []string
		for _, c := range l.Items {
			s = append(s, c.Clave+"="+c.Title+"/"+c.DependenciaNombre+"/"+string(rune('0'+c.CurrentVersion)))
		}
		return strings.Join(s, " ")
	}

	steps := []struct {
		name     string
		change   func(t *testing.T)
		path     string
		signedIn bool
		want     string
	}{
		{"before any change", nil, "/api/v1/catalogs", false,
			"municipio=Municipios de Guanajuato/Dependencia SFIA/2"},
		{"a draft's edit, signed in", func(t *testing.T) {
			_, err := store.Edit(ctx, catalog.System(), a.draft.Clave, catalog.Edit{Title: "Borrador corregido"})
			require.NoError(t, err)
		}, "/api/v1/catalogs", true,
			"municipio=Municipios de Guanajuato/Dependencia SFIA/2 municipio-borrador=Borrador corregido/Dependencia SFIA/1"},
		{"publishing the draft", func(t *testing.T) {
			for _, act := range []catalog.Action{catalog.Submit, catalog.Approve, catalog.Publish} {
				_, err := store.Transition(ctx, catalog.System(), a.draft.Clave, act, "")
				require.NoError(t, err)
			}
		}, "/api/v1/catalogs", false,
			"municipio=Municipios de Guanajuato/Dependencia SFIA/2 municipio-borrador=Borrador corregido/Dependencia SFIA/1"},
		{"a new version loaded, straight in the database", func(t *testing.T) {
			c, err := store.ByClave(ctx, a.draft.Clave)
			require.NoError(t, err)
			a.publishVersion(t, c, municipioRows(5))
		}, "/api/v1/catalogs?q=borrador", false,
			"municipio-borrador=Borrador corregido/Dependencia SFIA/2"},
		{"the dependencia renamed", func(t *testing.T) {
			_, err := a.pool.Exec(ctx, `UPDATE meta.dependencia SET nombre = 'Secretaría de Finanzas' WHERE clave = 'SFIA'`)
			require.NoError(t, err)
		}, "/api/v1/catalogs", false,
			"municipio=Municipios de Guanajuato/Secretaría de Finanzas/2 municipio-borrador=Borrador corregido/Secretaría de Finanzas/2"},
		{"retiring one", func(t *testing.T) {
			_, err := store.Transition(ctx, catalog.System(), a.pub.Clave, catalog.Retire, "")
			require.NoError(t, err)
		}, "/api/v1/catalogs", false,
			"municipio-borrador=Borrador corregido/Secretaría de Finanzas/2"},
	}
	etags := map[string]string{} // the last answer's ETag by instance, path and caller
	for _, st := range steps {
		if st.change != nil {
			st.change(t)
		}
		for name, base := range instances {
			key := name + " " + st.path + map[bool]string{true: " (signed in)"}[st.signedIn]
			// Revalidating the previous answer gets the new one; asking
			// again is served from the cache; its ETag then revalidates.
			for i, etag := range []string{etags[key], ""} {
				res, out := list(t, base, st.path, st.signedIn, etag)
				require.Equal(t, http.StatusOK, res.StatusCode, "%s, %s instance, request %d", st.name, name, i+1)
				require.Equal(t, st.want, claves(out), "%s, %s instance, request %d", st.name, name, i+1)
				require.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
				require.Contains(t, res.Header.Get("Vary"), "Authorization")
				require.NotEqual(t, etags[key], res.Header.Get("ETag"), "%s, %s instance: a new answer, a new ETag", st.name, name)
				if i == 1 {
					etags[key] = res.Header.Get("ETag")
				}
			}
			res, _ := list(t, base, st.path, st.signedIn, `"otra", W/`+etags[key])
			require.Equal(t, http.StatusNotModified, res.StatusCode, "%s, %s instance: an unchanged answer revalidates", st.name, name)
			require.Equal(t, etags[key], res.Header.Get("ETag"))
		}
	}
	// The anonymous and the signed-in answers are kept apart.
	_, anon := list(t, a.http.URL, "/api/v1/catalogs?state=retirado", false, "")
	_, signed := list(t, a.http.URL, "/api/v1/catalogs?state=retirado", true, "")
	require.Empty(t, anon.Items)
	require.Equal(t, "municipio=Municipios de Guanajuato/Secretaría de Finanzas/2", claves(signed))
}

// Every caller gets a generation read after it asked, and callers that
// arrive during a read share the next one.
func TestFreshGeneration(t *testing.T) {
	t.Parallel()
	t.Run("never older than the call", func(t *testing.T) {
		t.Parallel()
		var committed atomic.Int64
		g := newFreshGeneration(func(context.Context) (int64, error) {
			n := committed.Load()
			time.Sleep(100 * time.Microsecond)
			return n, nil
		})
		stop := make(chan struct{})
		var writer sync.WaitGroup
		writer.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
					committed.Add(1)
					time.Sleep(50 * time.Microsecond)
				}
			}
		})
		var readers sync.WaitGroup
		for range 32 {
			readers.Go(func() {
				for range 50 {
					before := committed.Load()
					n, err := g.Current(context.Background())
					if err != nil || n < before {
						t.Errorf("read %d (err %v) after %d was committed", n, err, before)
						return
					}
				}
			})
		}
		readers.Wait()
		close(stop)
		writer.Wait()
	})
	t.Run("shared by those who wait", func(t *testing.T) {
		t.Parallel()
		var reads atomic.Int64
		release := make(chan struct{})
		g := newFreshGeneration(func(context.Context) (int64, error) {
			<-release
			return reads.Add(1), nil
		})
		const callers = 40
		var asked atomic.Int64
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				asked.Add(1)
				if _, err := g.Current(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		for asked.Load() < callers {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		close(release)
		wg.Wait()
		// One read for the first caller, one for all who waited behind it;
		// a few more only if the machine let some caller straggle past 50 ms.
		require.LessOrEqual(t, reads.Load(), int64(10), "40 callers waiting together share reads")
	})
	t.Run("a caller that gives up does not stop the others", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		g := newFreshGeneration(func(ctx context.Context) (int64, error) {
			<-release
			return 7, ctx.Err()
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { _, err := g.Current(ctx); done <- err }()
		var n int64
		var err error
		got := make(chan struct{})
		go func() { n, err = g.Current(context.Background()); close(got) }()
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
		close(release)
		<-got
		require.NoError(t, err)
		require.Equal(t, int64(7), n)
	})
}

func TestAnswerCache(t *testing.T) {
	t.Parallel()
	c := newAnswerCache(10)
	a := newCachedAnswer([]byte("abcd"))
	c.put(5, "k", a)
	got, ok := c.get(5, "k")
	require.True(t, ok)
	require.Equal(t, a, got)
	_, ok = c.get(6, "k")
	require.False(t, ok, "another generation misses")
	c.put(4, "old", a)
	_, ok = c.get(5, "old")
	require.False(t, ok, "an answer of an older generation is not kept")
	c.put(6, "k2", a)
	_, ok = c.get(5, "k")
	require.False(t, ok, "a newer generation drops the older answers")
	c.put(6, "k3", a)
	c.put(6, "k4", a) // 12 bytes > 10: starts over
	_, ok = c.get(6, "k2")
	require.False(t, ok)
	_, ok = c.get(6, "k4")
	require.True(t, ok)
	c.put(6, "big", newCachedAnswer([]byte("0123456789ab")))
	_, ok = c.get(6, "big")
	require.False(t, ok, "an answer larger than the cache is not kept")

	for _, tt := range []struct {
		header string
		match  bool
	}{
		{"", false}, {`"x"`, false}, {a.etag, true}, {"W/" + a.etag, true}, {`"x", ` + a.etag, true}, {"*", true},
	} {
		require.Equal(t, tt.match, etagMatches(tt.header, a.etag), tt.header)
	}
}
