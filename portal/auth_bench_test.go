package portal

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// BenchmarkAuthentication measures what identifying the caller costs a
// request: GET /api/v1/me with a bearer token and with a session cookie,
// against /healthz (no identity) as the baseline; 16 concurrent clients,
// 4,000 requests each way. It prints requests/s and the p99 latency.
//
//	go run ./cmd/gobdatos testdb -- go test -run '^$' -bench Authentication -benchtime 1x ./portal/
func BenchmarkAuthentication(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.New(b)
	srv, err := New(Options{Pool: pool, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "bench"})
	require.NoError(b, err)
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)
	users := account.NewStore(pool)
	u, err := users.Create(ctx, account.NewUser{Login: "bench", Email: "bench@x.mx", FullName: "Bench", Profile: account.Admin})
	require.NoError(b, err)
	_, token, err := users.NewToken(ctx, u.ID, "bench", nil)
	require.NoError(b, err)
	session, _, err := users.NewSession(ctx, u.ID, account.DefaultSessionPolicy, "", "")
	require.NoError(b, err)

	cases := []struct {
		name, path, header, value string
	}{
		{"baseline_healthz", "/healthz", "", ""},
		{"bearer_me", "/api/v1/me", "Authorization", "Bearer " + token},
		{"session_me", "/api/v1/me", "Cookie", sessionCookie + "=" + session},
	}
	const clients, requests = 16, 4000
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	b.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			for range b.N {
				lat := make([]time.Duration, requests)
				var wg sync.WaitGroup
				start := time.Now()
				for w := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := w; i < requests; i += clients {
							req, _ := http.NewRequest("GET", ts.URL+tc.path, nil)
							if tc.header != "" {
								req.Header.Set(tc.header, tc.value)
							}
							t0 := time.Now()
							res, err := hc.Do(req)
							if err != nil {
								b.Error(err)
								return
							}
							_, _ = io.Copy(io.Discard, res.Body)
							res.Body.Close()
							if res.StatusCode != 200 {
								b.Errorf("%s: status %d", tc.path, res.StatusCode)
								return
							}
							lat[i] = time.Since(t0)
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				b.ReportMetric(float64(requests)/elapsed.Seconds(), "req/s")
				b.ReportMetric(float64(lat[requests*99/100].Microseconds())/1000, "p99_ms")
			}
		})
	}
}
