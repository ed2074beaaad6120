package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/connectors/benchdata"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// BenchmarkLoad measures the load pipeline end to end, with its baselines
// measured in the same run (see README «Cargas»):
//
//   - a 1,000,000-row, 12-column CSV served over HTTP loaded into a new
//     catalog with a primary key, against psql \copy of the same file into
//     an equivalent table with its primary key, and against pgloader;
//   - the peak memory (RSS) of `gobdatos ingest` for 1M and 5M rows;
//   - re-loading the catalog with 1% of the rows changed;
//   - a PostgreSQL table copied into a new catalog, against
//     psql \copy … to stdout | psql \copy … from stdin.
//
// The rows are GOBDATOS_BENCH_ROWS (1,000,000) and GOBDATOS_BENCH_ROWS_LARGE
// (5,000,000; 0 skips). GOBDATOS_BENCH_PROFILE names a folder where each
// ingest writes its CPU profile (N-CLAVE.pprof). It runs the gobdatos binary of `make build`
// (bin/gobdatos), so that memory is the command's own.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		benchLoad(b)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

func benchLoad(b *testing.B) {
	rows := envInt("GOBDATOS_BENCH_ROWS", benchdata.DefaultRows)
	large := envInt("GOBDATOS_BENCH_ROWS_LARGE", 5*benchdata.DefaultRows)
	bin := gobdatosBinary(b)
	ctx := context.Background()
	url := pgtest.NewURL(b)
	pool := connectTB(b, url)
	dir := b.TempDir()
	first := writeBenchFile(b, dir, "carga.csv", rows, 0)
	writeBenchFile(b, dir, "cambios.csv", rows, 100)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()

	var dep int64
	require.NoError(b, pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('DGTIT', 'Dirección General de Tecnologías') RETURNING id`).Scan(&dep))
	store := catalog.NewStore(pool, nil)
	create := func(table string) string {
		c, err := store.Create(ctx, catalog.System(), catalog.NewCatalog{Resource: benchResource(table), DependenciaID: dep, Publish: true})
		require.NoError(b, err)
		return c.Clave
	}
	env := append(os.Environ(), "DATABASE_URL="+url, "GOBDATOS_LOG_LEVEL=warn")
	var notes []string
	ingest := func(clave, source string, extra ...string) (time.Duration, int64) {
		if dir := os.Getenv("GOBDATOS_BENCH_PROFILE"); dir != "" {
			extra = append(extra, "--cpuprofile", filepath.Join(dir, fmt.Sprintf("%d-%s.pprof", len(notes)+1, clave)))
		}
		start := time.Now()
		cmd := exec.Command(bin, append([]string{"ingest", "--catalog", clave, "--source", source, "--json"}, extra...)...)
		cmd.Env = env
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		cmd.Stderr = os.Stderr
		require.NoError(b, cmd.Run(), stdout.String())
		wall := time.Since(start)
		var run Run
		require.NoError(b, json.Unmarshal(stdout.Bytes(), &run))
		require.Equal(b, Succeeded, run.State, run.Error)
		cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		notes = append(notes, fmt.Sprintf("    %s: etapas open %.1f s, validate %.1f s, keys %.1f s, publish %.1f s; CPU del proceso %.1f s",
			clave, run.Timings[StageOpen], run.Timings[StageValidate], run.Timings[StageKeys], run.Timings[StagePublish], cpu.Seconds()))
		return wall, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
	}
	psql := func(script string) time.Duration {
		start := time.Now()
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(os.Environ(), "PSQL_URL="+url)
		out, err := cmd.CombinedOutput()
		require.NoError(b, err, string(out))
		return time.Since(start)
	}
	ddl := benchDDL()
	_, err := pool.Exec(ctx, "CREATE TABLE public.bench_copy "+ddl+"; CREATE TABLE public.bench_pipe "+ddl+"; CREATE TABLE public.bench_pgloader "+ddl)
	require.NoError(b, err)

	// 1. CSV over HTTP into a new catalog, against psql \copy and pgloader.
	tLoad, rss1 := ingest(create("cat_bench_csv"), srv.URL+"/carga.csv")
	tCopy := psql(fmt.Sprintf(`psql -q -v ON_ERROR_STOP=1 "$PSQL_URL" -c "\copy public.bench_copy FROM '%s' WITH (FORMAT csv, HEADER true)"`, first))
	tPgloader, pgloaderErr := runPgloader(url, first)

	// 2. Re-load with 1% of the rows changed.
	tReload, rssReload := ingest("bench-csv", srv.URL+"/cambios.csv")

	// 3. A PostgreSQL table into a new catalog, against psql | psql.
	tPG, _ := ingest(create("cat_bench_pg"), url, "--table", "public.bench_copy")
	tPipe := psql(`psql -q -v ON_ERROR_STOP=1 "$PSQL_URL" -c "\copy (SELECT * FROM public.bench_copy) TO stdout" | psql -q -v ON_ERROR_STOP=1 "$PSQL_URL" -c "\copy public.bench_pipe FROM stdin"`)

	// 4. Memory for the large file.
	var rssLarge int64
	if large > 0 {
		writeBenchFile(b, dir, "grande.csv", large, 0)
		_, rssLarge = ingest(create("cat_bench_grande"), srv.URL+"/grande.csv")
	}

	mb := func(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/1e6) }
	rate := func(d time.Duration) string {
		return fmt.Sprintf("%s filas/s", thousandsBench(int64(float64(rows)/d.Seconds())))
	}
	pct := func(base, ours time.Duration) string { return fmt.Sprintf("%.0f%%", 100*base.Seconds()/ours.Seconds()) }
	var out strings.Builder
	fmt.Fprintf(&out, "\nCargas — %s filas × 12 columnas (%s), %s\n", thousandsBench(int64(rows)), mb(fileSize(b, first)), time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&out, "  CSV por HTTP → catálogo nuevo con llave: gobdatos %.1f s (%s)\n", tLoad.Seconds(), rate(tLoad))
	fmt.Fprintf(&out, "    psql \\copy a tabla con llave:           %.1f s → gobdatos rinde %s de psql (meta ≥ 60%%)\n", tCopy.Seconds(), pct(tCopy, tLoad))
	if pgloaderErr != nil {
		fmt.Fprintf(&out, "    pgloader:                              no se midió (%v)\n", pgloaderErr)
	} else {
		fmt.Fprintf(&out, "    pgloader:                              %.1f s → gobdatos %.1f× más rápido\n", tPgloader.Seconds(), tPgloader.Seconds()/tLoad.Seconds())
	}
	fmt.Fprintf(&out, "  memoria máxima (RSS) de gobdatos ingest:  %s con %s filas", mb(rss1), thousandsBench(int64(rows)))
	if large > 0 {
		fmt.Fprintf(&out, ", %s con %s filas", mb(rssLarge), thousandsBench(int64(large)))
	}
	fmt.Fprintf(&out, " (meta < 300 MB e igual)\n")
	fmt.Fprintf(&out, "  recarga con 1%% de filas cambiadas:       %.1f s = %.0f%% de la primera carga (meta ≤ 40%%); memoria máxima %s\n",
		tReload.Seconds(), 100*tReload.Seconds()/tLoad.Seconds(), mb(rssReload))
	fmt.Fprintf(&out, "  tabla PostgreSQL → catálogo nuevo:       gobdatos %.1f s; psql \\copy | psql \\copy %.1f s → %s (meta ≥ 60%%)\n", tPG.Seconds(), tPipe.Seconds(), pct(tPipe, tPG))
	fmt.Fprintf(&out, "  detalle de gobdatos:\n%s\n", strings.Join(notes, "\n"))
	fmt.Print(out.String())
	b.ReportMetric(float64(rows)/tLoad.Seconds(), "rows/s")
	b.ReportMetric(100*tCopy.Seconds()/tLoad.Seconds(), "%of-psql-copy")
	b.ReportMetric(100*tReload.Seconds()/tLoad.Seconds(), "%reload/first")
	b.ReportMetric(float64(rss1)/1e6, "MB-RSS")
}

func benchResource(table string) tableschema.Resource {
	res := tableschema.Resource{Name: table, Title: "Banco de pruebas de cargas", Description: "Catálogo sintético del banco de pruebas de cargas."}
	for _, f := range benchdata.Fields {
		fld := tableschema.Field{Name: f.Name, Type: f.Type, Description: "Campo " + f.Name + "."}
		if f.Name == "clave" {
			fld.Constraints.Required = true
		}
		res.Schema.Fields = append(res.Schema.Fields, fld)
	}
	res.Schema.PrimaryKey = tableschema.StringList{"clave"}
	return res
}

// benchDDL is the table the baselines load: the catalog's columns, types
// and primary key.
func benchDDL() string {
	var cols []string
	for _, f := range benchdata.Fields {
		t, _ := tableschema.Field{Name: f.Name, Type: f.Type}.SQLType()
		cols = append(cols, f.Name+" "+t.String())
	}
	return "(" + strings.Join(cols, ", ") + ", PRIMARY KEY (clave))"
}

// writeBenchFile writes the benchmark CSV; every changeEvery-th row (0:
// none) comes from another seed: same key, other values.
func writeBenchFile(b *testing.B, dir, name string, rows, changeEvery int) string {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	require.NoError(b, err)
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = w.Write(benchdata.Header())
	require.NoError(b, err)
	var line []byte
	for i := 1; i <= rows; i++ {
		seed := uint64(1)
		if changeEvery > 0 && i%changeEvery == 0 {
			seed = 2
		}
		line = benchdata.AppendRow(line[:0], i, seed)
		_, err = w.Write(line)
		require.NoError(b, err)
	}
	require.NoError(b, w.Flush())
	require.NoError(b, f.Close())
	return path
}

func fileSize(b *testing.B, path string) int64 {
	st, err := os.Stat(path)
	require.NoError(b, err)
	return st.Size()
}

// runPgloader loads the file with pgloader (installed with apt when
// missing and possible).
func runPgloader(url, file string) (time.Duration, error) {
	if _, err := exec.LookPath("pgloader"); err != nil {
		if os.Getuid() != 0 {
			return 0, fmt.Errorf("pgloader no está instalado (apt-get install pgloader)")
		}
		if out, err := exec.Command("apt-get", "install", "-y", "-q", "pgloader").CombinedOutput(); err != nil {
			return 0, fmt.Errorf("apt-get install pgloader: %v: %s", err, lastLine(out))
		}
	}
	var names []string
	for _, f := range benchdata.Fields {
		names = append(names, f.Name)
	}
	start := time.Now()
	cmd := exec.Command("pgloader", "--type", "csv", "--field", strings.Join(names, ","),
		"--with", "skip header = 1", "--with", "fields terminated by ','", "--with", `fields optionally enclosed by '"'`,
		file, strings.SplitN(url, "?", 2)[0]+"?tablename=bench_pgloader")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%v: %s", err, lastLine(out))
	}
	return time.Since(start), nil
}

func lastLine(out []byte) string {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	return string(lines[len(lines)-1])
}

// gobdatosBinary is bin/gobdatos of `make build`, built here when missing.
func gobdatosBinary(b *testing.B) string {
	if p, err := filepath.Abs("../bin/gobdatos"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p := filepath.Join(b.TempDir(), "gobdatos")
	out, err := exec.Command("go", "build", "-o", p, "../cmd/gobdatos").CombinedOutput()
	require.NoError(b, err, string(out))
	return p
}

func connectTB(b *testing.B, url string) *pgxpool.Pool {
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(b, err)
	b.Cleanup(pool.Close)
	return pool
}

func thousandsBench(n int64) string {
	return message.NewPrinter(language.MustParse("es-MX")).Sprint(n)
}
