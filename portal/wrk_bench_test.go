package portal

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// BenchmarkPortalWRK drives the real portal over HTTP with wrk (Debian's
// package; installed when missing and running as root) on this machine:
// the catalog list API, a 100-row page of a 1,000,000-row catalog (first
// and last page) with 64 connections, and the full CSV download of that
// catalog, whose rows per second and heap growth it prints.
//
//	go run ./cmd/gobdatos testdb -- go test -run '^$' -bench PortalWRK -benchtime 1x ./portal/
func BenchmarkPortalWRK(b *testing.B) {
	wrk := ensureWrk(b)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewURL(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	const rows = 1_000_000
	start := time.Now()
	seedBenchCatalogs(b, pool, rows, 40)
	fmt.Printf("seeded %d rows and 40 catalogs in %s\n", rows, time.Since(start).Round(time.Millisecond))

	srv, err := New(Options{Pool: pool, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)

	lastCursor := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`["%d"]`, rows-100)))
	for i := 0; i < b.N; i++ {
		for _, sc := range []struct{ name, path string }{
			{"catalog list", "/api/v1/catalogs"},
			{"rows, first page of 100", "/api/v1/catalogs/bench/rows?limit=100"},
			{"rows, last page of 100", "/api/v1/catalogs/bench/rows?limit=100&after=" + lastCursor},
		} {
			checkOK(b, ts.URL+sc.path)
			res := runWrk(b, wrk, ts.URL+sc.path)
			fmt.Printf("%-26s %8.0f req/s   p50 %6.2f ms   p99 %6.2f ms   (wrk -t2 -c64 -d10s)\n", sc.name, res.rps, res.p50, res.p99)
			b.ReportMetric(res.rps, strings.ReplaceAll(sc.name, " ", "_")+"_req/s")
		}
		n, elapsed, heap := downloadCSV(b, ts.URL+"/api/v1/catalogs/bench/download.csv")
		fmt.Printf("%-26s %8.0f rows/s   %d rows in %s   heap growth during the download %.1f MiB\n",
			"CSV download", float64(n)/elapsed.Seconds(), n, elapsed.Round(time.Millisecond), float64(heap)/(1<<20))
		b.ReportMetric(float64(n)/elapsed.Seconds(), "csv_rows/s")
		if n != rows {
			b.Fatalf("csv: %d rows, want %d", n, rows)
		}
	}
}

func ensureWrk(b *testing.B) string {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p
	}
	if os.Geteuid() == 0 {
		cmd := exec.Command("apt-get", "install", "-y", "-q", "wrk")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Logf("apt-get install wrk: %v\n%s", err, out)
		}
		if p, err := exec.LookPath("wrk"); err == nil {
			return p
		}
	}
	b.Skip("wrk is not installed (Debian: apt-get install -y wrk)")
	return ""
}

func seedBenchCatalogs(b *testing.B, pool *pgxpool.Pool, rows, others int) {
	ctx := context.Background()
	var dep int64
	if err := pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SFIA', 'Secretaría de Finanzas, Inversión y Administración') RETURNING id`).Scan(&dep); err != nil {
		b.Fatal(err)
	}
	store := catalog.NewStore(pool, nil)
	def := tableschema.Resource{Name: "cat_bench", Title: "Catálogo de prueba de carga", Description: "Un millón de registros.",
		Schema: tableschema.Schema{Fields: []tableschema.Field{
			{Name: "id_registro", Type: "integer", Constraints: tableschema.Constraints{Required: true}},
			{Name: "clave", Type: "string", Description: "Clave del registro."},
			{Name: "nombre", Type: "string", Description: "Nombre del registro."},
			{Name: "valor", Type: "number", Description: "Un importe."},
			{Name: "fecha", Type: "date", Description: "Una fecha."},
		}, PrimaryKey: tableschema.StringList{"id_registro"}}}
	c, err := store.Create(ctx, catalog.System(), catalog.NewCatalog{Resource: def, Clave: "bench", DependenciaID: dep, Publish: true,
		Metadata: catalog.Metadata{Keywords: []string{"prueba"}}})
	if err != nil {
		b.Fatal(err)
	}
	err = pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO cat.cat_bench (id_registro, clave, nombre, valor, fecha)
			SELECT g, lpad(g::text, 7, '0'), 'Registro número ' || g, round((g * 1.37)::numeric, 2), date '2020-01-01' + (g % 1500)
			FROM generate_series(1, $1) g`, rows); err != nil {
			return err
		}
		_, err := catalog.PublishFirstLoad(ctx, tx, c, catalog.System(), nil)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for i := range others {
		d := def
		d.Name, d.Title = fmt.Sprintf("cat_lista_%02d", i), fmt.Sprintf("Catálogo de la lista número %d", i)
		if _, err := store.Create(ctx, catalog.System(), catalog.NewCatalog{Resource: d, DependenciaID: dep, Publish: i%4 != 0,
			Metadata: catalog.Metadata{Keywords: []string{"lista", "prueba"}}}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE cat.cat_bench`); err != nil {
		b.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE meta.catalog`); err != nil {
		b.Fatal(err)
	}
}

func checkOK(b *testing.B, u string) {
	res, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("%s: %d %s", u, res.StatusCode, body)
	}
}

type wrkResult struct{ rps, p50, p99 float64 }

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	wrkLatency = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([0-9.]+)(us|ms|s)\s*$`)
)

func runWrk(b *testing.B, wrk, u string) wrkResult {
	out, err := exec.Command(wrk, "-t2", "-c64", "-d10s", "--latency", u).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	var r wrkResult
	m := wrkRPS.FindSubmatch(out)
	if m == nil {
		b.Fatalf("wrk: no Requests/sec in\n%s", out)
	}
	r.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, l := range wrkLatency.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(l[2]), 64)
		switch string(l[3]) {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		}
		if string(l[1]) == "50" {
			r.p50 = v
		} else {
			r.p99 = v
		}
	}
	if strings.Contains(string(out), "Non-2xx") {
		b.Fatalf("wrk: errors\n%s", out)
	}
	return r
}

// downloadCSV reads the whole download, counting its rows, while sampling
// the heap of this process (the server runs in it).
func downloadCSV(b *testing.B, u string) (rows int64, elapsed time.Duration, heapGrowth uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	start := time.Now()
	res, err := http.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		rows++
	}
	res.Body.Close()
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	elapsed = time.Since(start)
	close(stop)
	<-done
	if p := peak.Load(); p > base {
		heapGrowth = p - base
	}
	return rows - 1, elapsed, heapGrowth // minus the header
}
