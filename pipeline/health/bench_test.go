package health_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/pipeline/schedule"
)

// BenchmarkConnectivity1000 schedules 1,000 connectors at a 1-minute
// interval against local endpoints — HTTP servers, the test PostgreSQL, the
// machine's MariaDB, and dead ones (closed ports) — and runs the real scheduler for
// GOBDATOS_BENCH_MINUTES minutes (default 3). It prints whether every
// connector was checked every minute, the process's CPU as a share of one
// core (which includes the in-process HTTP endpoints; PostgreSQL's own CPU is
// not counted), and goroutines, heap and database sessions after the first
// minute and at the end.
func BenchmarkConnectivity1000(b *testing.B) {
	minutes := 3
	if v, err := strconv.Atoi(os.Getenv("GOBDATOS_BENCH_MINUTES")); err == nil && v >= 2 {
		minutes = v
	}
	for range b.N {
		benchConnectivity(b, 1000, minutes)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type sample struct {
	goroutines int
	heap       uint64
	sessions   int
}

func benchConnectivity(b *testing.B, n, minutes int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.StopTimer()
	bd := setup(b, nil)
	var servers []*httptest.Server
	for range 8 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `[{"clave": "001", "nombre": "Abasolo"}]`)
		}))
		defer srv.Close()
		servers = append(servers, srv)
	}
	deadHTTP := httptest.NewServer(http.NotFoundHandler())
	deadHTTP.Close()
	_, err := bd.pool.Exec(ctx, `CREATE TABLE public.municipio (clave text, nombre text)`)
	require.NoError(b, err)
	cfg := bd.pool.Config().ConnConfig
	pgURL := fmt.Sprintf("postgres://%s:%d/%s?sslmode=disable", cfg.Host, cfg.Port, cfg.Database)
	myURL := mariaDB(b)
	kinds := map[string]int{}
	for i := range n {
		in := registry.Input{Dependencia: []string{"SEG", "SFIA"}[i%2], Name: fmt.Sprintf("Conector %04d", i),
			CheckInterval: 60, CheckTimeout: 5}
		switch {
		case i%10 == 9: // 10 % dead: closed HTTP, PostgreSQL and MySQL ports
			switch i % 30 {
			case 9:
				in.Kind, in.Address = "http", deadHTTP.URL+"/datos.json"
			case 19:
				in.Kind, in.Address, in.Object = "postgres", "postgres://127.0.0.1:1/datos", "municipio"
			default:
				in.Kind, in.Address, in.Object = "mysql", "mysql://127.0.0.1:1/datos", "municipio"
			}
			in.Credentials = &registry.Credentials{User: "nadie"}
			kinds["dead"]++
		case i%10 < 2: // 20 % PostgreSQL
			in.Kind, in.Address, in.Object = "postgres", pgURL, "public.municipio"
			in.Credentials = &registry.Credentials{User: cfg.User}
			in.ExpectedColumns = []string{"clave", "nombre"}
			kinds["postgres"]++
		case i%10 < 4: // 20 % MariaDB
			in.Kind, in.Address, in.Object = "mysql", myURL, "municipio"
			in.Credentials = &registry.Credentials{User: "root"}
			in.ExpectedColumns = []string{"clave", "nombre"}
			kinds["mysql"]++
		default: // 50 % HTTP
			in.Kind, in.Address = "http", servers[i%len(servers)].URL+"/municipios.json"
			in.ExpectedColumns = []string{"clave", "nombre"}
			kinds["http"]++
		}
		_, err := bd.reg.Create(ctx, in, who)
		require.NoError(b, err)
	}

	sched, err := schedule.New(bd.pool, nil)
	require.NoError(b, err)
	jobs := &health.Jobs{Sched: sched, Checker: bd.checker}
	ready := make(chan struct{})
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- jobs.Run(ctx, func() { close(ready) }) }()
	<-ready
	schedDone := make(chan error, 1)
	start := time.Now()
	cpu0 := cpuTime()
	b.StartTimer()
	go func() { schedDone <- sched.Run(ctx) }()

	measure := func() sample {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		var sessions int
		require.NoError(b, bd.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()`).Scan(&sessions))
		return sample{goroutines: runtime.NumGoroutine(), heap: ms.HeapAlloc, sessions: sessions}
	}
	time.Sleep(time.Minute)
	cpu1, t1 := cpuTime(), time.Now()
	first := measure()
	time.Sleep(time.Duration(minutes-1) * time.Minute)
	cpu2, t2 := cpuTime(), time.Now()
	last := measure()
	b.StopTimer()
	cancel()
	require.NoError(b, <-jobsDone)
	require.NoError(b, <-schedDone)

	// Every connector in every full minute after the first one.
	var missed, double, checks int
	var slowDead float64
	require.NoError(b, bd.pool.QueryRow(context.Background(), `
		WITH w AS (SELECT g AS k, $1::timestamptz + make_interval(mins => g) AS lo FROM generate_series(0, $3 - 1) g),
		per AS (SELECT c.id, w.k, count(k.id) AS n FROM meta.connector c CROSS JOIN w
			LEFT JOIN meta.connectivity_check k ON k.connector_id = c.id AND k.checked_at >= w.lo AND k.checked_at < w.lo + interval '1 minute'
			GROUP BY c.id, w.k)
		SELECT count(*) FILTER (WHERE n = 0), count(*) FILTER (WHERE n > 1),
			(SELECT count(*) FROM meta.connectivity_check WHERE checked_at >= $1 AND checked_at < $2),
			(SELECT coalesce(max(latency_ms), 0) FROM meta.connectivity_check WHERE status IN ('refused', 'timeout', 'dns'))
		FROM per`, start, t2, minutes).Scan(&missed, &double, &checks, &slowDead))
	var statuses string
	require.NoError(b, bd.pool.QueryRow(context.Background(), `SELECT string_agg(status || '=' || n, ' ' ORDER BY status) FROM
		(SELECT status, count(*) n FROM meta.connectivity_check GROUP BY status) s`).Scan(&statuses))

	wall := t2.Sub(start)
	cpuShare := float64(cpu2-cpu0) / float64(wall)
	steadyShare := float64(cpu2-cpu1) / float64(t2.Sub(t1))
	fmt.Printf("connectivity: %d connectors (%d http, %d postgres, %d mariadb, %d dead) at 1 min for %s; %d checks (%s)\n",
		n, kinds["http"], kinds["postgres"], kinds["mysql"], kinds["dead"], wall.Round(time.Second), checks, statuses)
	fmt.Printf("connectivity: connector-minutes without a check: %d of %d; with two or more: %d; slowest dead classified in %.0f ms (timeout 5000)\n",
		missed, n*minutes, double, slowDead)
	fmt.Printf("connectivity: CPU %.1f%% of one core over the run, %.1f%% after the first minute (process incl. the in-process HTTP endpoints)\n",
		100*cpuShare, 100*steadyShare)
	fmt.Printf("connectivity: after minute 1 → end: goroutines %d → %d, heap %.1f → %.1f MiB, database sessions %d → %d\n",
		first.goroutines, last.goroutines, float64(first.heap)/(1<<20), float64(last.heap)/(1<<20), first.sessions, last.sessions)
	b.ReportMetric(100*cpuShare, "%cpu")
	b.ReportMetric(float64(missed), "missed")
}
