package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
	httpsrc "github.com/dgtit-gto/gobdatos/connectors/http"
	"github.com/dgtit-gto/gobdatos/connectors/postgres"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// runSource loads clave from src and returns the run.
func (b *loadBundle) runSource(t *testing.T, clave string, src connectors.Source, req Request) *Run {
	t.Helper()
	c, err := b.store.ByClave(b.ctx, clave)
	require.NoError(t, err)
	req.Catalog, req.Actor = c, b.actor
	req.Open = func(ctx context.Context) (Stream, error) { return src.Open(ctx, connectors.Options{BatchSize: 500}) }
	run, err := b.loader.Run(b.ctx, req)
	require.NoError(t, err)
	return run
}

func TestLoadFromHTTPServerThatStalls(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "entidad", entidades, 10).State)
	before := b.live(t, "cat_entidad", "id_entidad, nombre")
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprint(w, "id_entidad,nombre\n01,Aguascalientes\n")
		w.(http.Flusher).Flush()
		<-release // and then nothing more
	}))
	defer srv.Close()
	defer close(release)
	src := httpsrc.Source{URL: srv.URL + "/entidades.csv", Timeout: 2 * time.Second, IdleTimeout: 300 * time.Millisecond, RetryMax: -1}
	run := b.runSource(t, "entidad", src, Request{RowBase: 2})
	require.Equal(t, Failed, run.State)
	require.Equal(t, CodeSource, run.ErrorCode)
	require.Contains(t, run.Error, "dejó de enviar datos")
	require.Equal(t, before, b.live(t, "cat_entidad", "id_entidad, nombre"))
}

func TestLoadTooManyRows(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "entidad", entidades, 10).State)
	var text strings.Builder
	text.WriteString("id_entidad,nombre\n")
	for i := range 30 {
		fmt.Fprintf(&text, "%02d,Entidad %d\n", i+1, i+1)
	}
	c, err := b.store.ByClave(b.ctx, "entidad")
	require.NoError(t, err)
	run, err := b.loader.Run(b.ctx, Request{Catalog: c, Actor: b.actor, MaxRows: 10 * 3, RowBase: 2,
		Open: func(ctx context.Context) (Stream, error) {
			return newCSVStream(t, nil, text.String()+"31,Una más\n", 4), nil
		}})
	require.NoError(t, err)
	require.Equal(t, Failed, run.State)
	require.Equal(t, CodeTooManyRows, run.ErrorCode)
	require.Contains(t, run.Error, "más de 30 filas")
	require.Equal(t, "(01,Aguascalientes);(11,Guanajuato);(14,Jalisco)", b.live(t, "cat_entidad", "id_entidad, nombre"))
}

// A PostgreSQL source whose connection drops mid-stream fails the run with
// the source's error; nothing is published.
func TestLoadFromDatabaseThatDrops(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "entidad", entidades, 10).State)
	before := b.live(t, "cat_entidad", "id_entidad, nombre")

	srcURL := pgtest.NewURL(t)
	src, err := pgxpool.New(b.ctx, srcURL)
	require.NoError(t, err)
	defer src.Close()
	_, err = src.Exec(b.ctx, `CREATE TABLE origen AS SELECT lpad((i % 100)::text, 2, '0') AS id_entidad, 'Entidad ' || i AS nombre
		FROM generate_series(1, 300000) i`)
	require.NoError(t, err)

	var dropped atomic.Bool
	b.loader.ProgressEvery = 20 * time.Millisecond
	run := b.runSource(t, "entidad", postgres.Source{URL: srcURL, Table: "origen"}, Request{RowBase: 1, MaxRows: -1,
		OnProgress: func(p Progress) {
			if p.Rows > 0 && !dropped.Load() {
				dropped.Store(true)
				_, err := src.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
					WHERE datname = current_database() AND pid <> pg_backend_pid()`)
				require.NoError(t, err)
			}
		}})
	require.True(t, dropped.Load(), "the source was still being read")
	require.Equal(t, Failed, run.State, run.Error)
	require.Equal(t, CodeSource, run.ErrorCode)
	require.Contains(t, run.Error, "la lectura del origen falló")
	require.Equal(t, before, b.live(t, "cat_entidad", "id_entidad, nombre"))
}

func TestDefaultRowLimitIsTenTimesThePublishedRows(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	c := b.create(t, entidadCatalog, false)
	limit, err := expectedRows(b.ctx, b.pool, c)
	require.NoError(t, err)
	require.EqualValues(t, MinRowLimit, limit, "no data yet: the floor")

	var text strings.Builder
	text.WriteString("id_entidad,nombre\n")
	for i := range 12_000 {
		fmt.Fprintf(&text, "%02d,Entidad %d\n", i%100, i)
	}
	// Keys repeat: publish the valid rows to get a version of 100 rows.
	_, err = b.pool.Exec(b.ctx, `UPDATE meta.catalog SET publish_valid_rows = true WHERE id = $1`, c.ID)
	require.NoError(t, err)
	run := b.load(t, "entidad", text.String(), 1000)
	require.Equal(t, Succeeded, run.State, run.Error)
	c, err = b.store.ByClave(b.ctx, "entidad")
	require.NoError(t, err)
	limit, err = expectedRows(b.ctx, b.pool, c)
	require.NoError(t, err)
	require.EqualValues(t, MinRowLimit, limit, "100 rows: still the floor")
}
