package portal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// BenchmarkConnectorsPage measures GET /conectores for an administrator
// with 50 and 100 connectors checked every 5 minutes for 30 days (432,000
// and 864,000 checks, one in 50 failed): uptime, last check and the two
// SVG charts of every connector. It prints the median and p99 of 50
// requests.
//
//	go run ./cmd/gobdatos testdb -- go test -run '^$' -bench ConnectorsPage -benchtime 1x ./portal/
func BenchmarkConnectorsPage(b *testing.B) {
	for _, n := range []int{50, 100} {
		b.Run(fmt.Sprintf("connectors=%d", n), func(b *testing.B) { benchConnectorsPage(b, n) })
	}
}

func benchConnectorsPage(b *testing.B, connectors int) {
	ctx := context.Background()
	pool := pgtest.New(b)
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)))
	require.NoError(b, err)
	srv, err := New(Options{Pool: pool, Keys: keys, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "bench"})
	require.NoError(b, err)
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	_, err = pool.Exec(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad')`)
	require.NoError(b, err)
	store := &registry.Store{DB: pool, Keys: keys}
	for i := range connectors {
		_, err := store.Create(ctx, registry.Input{Dependencia: "SEG", Name: fmt.Sprintf("Fuente %03d", i), Kind: "postgres",
			Address: "postgres://db.seg.example:5432/fuente", Object: "tabla"}, audit.Entry{})
		require.NoError(b, err)
	}
	_, err = pool.Exec(ctx, `INSERT INTO meta.connectivity_check (connector_id, dependencia_id, checked_at, status, latency_ms)
		SELECT c.id, c.dependencia_id, now() - make_interval(mins => 5 * g), CASE WHEN g % 50 = 0 THEN 'timeout' ELSE 'ok' END, 3
		FROM meta.connector c, generate_series(0, 8639) g`)
	require.NoError(b, err)
	_, err = pool.Exec(ctx, `ANALYZE meta.connectivity_check; ANALYZE meta.connectivity_hour`)
	require.NoError(b, err)
	users := account.NewStore(pool)
	u, err := users.Create(ctx, account.NewUser{Login: "bench", Email: "bench@x.mx", FullName: "Bench", Profile: account.Admin})
	require.NoError(b, err)
	session, _, err := users.NewSession(ctx, u.ID, account.DefaultSessionPolicy, "", "")
	require.NoError(b, err)

	b.ResetTimer()
	for range b.N {
		const requests = 50
		lat := make([]time.Duration, requests)
		for i := range lat {
			req, _ := http.NewRequest("GET", ts.URL+"/conectores", nil)
			req.Header.Set("Cookie", sessionCookie+"="+session)
			t0 := time.Now()
			res, err := http.DefaultClient.Do(req)
			require.NoError(b, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			lat[i] = time.Since(t0)
			require.Equal(b, 200, res.StatusCode)
			require.Equal(b, connectors*2, strings.Count(string(body), `class="grafica-disponibilidad"`))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		b.ReportMetric(float64(lat[requests/2].Milliseconds()), "median_ms")
		b.ReportMetric(float64(lat[requests*99/100].Milliseconds()), "p99_ms")
		fmt.Printf("GET /conectores, %d connectors, %d checks: median %s, p99 %s\n",
			connectors, connectors*8640, lat[requests/2].Round(time.Millisecond), lat[requests*99/100].Round(time.Millisecond))
	}
}
