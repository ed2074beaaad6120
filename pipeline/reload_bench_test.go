package pipeline

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/benchdata"
	"github.com/dgtit-gto/gobdatos/connectors/decode"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// BenchmarkReload measures, in this process, a first load of the benchmark
// file (GOBDATOS_BENCH_ROWS rows) and re-loads of it, unchanged and with 1%
// of the rows changed, each against the first load of the same run (the
// goal is at most 40%). BenchmarkLoad measures the same through the
// gobdatos binary and HTTP, with its other baselines.
func BenchmarkReload(b *testing.B) {
	rows := envInt("GOBDATOS_BENCH_ROWS", benchdata.DefaultRows)
	dir := b.TempDir()
	first := writeBenchFile(b, dir, "carga.csv", rows, 0)
	changed := writeBenchFile(b, dir, "cambios.csv", rows, 100)
	ctx := context.Background()
	pool := connectTB(b, pgtest.NewURL(b))
	var dep int64
	require.NoError(b, pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('DGTIT', 'Dirección General de Tecnologías') RETURNING id`).Scan(&dep))
	store := catalog.NewStore(pool, nil)
	loader := &Loader{Pool: pool}
	load := func(c *catalog.Catalog, path string) (time.Duration, *Run) {
		c, err := store.ByClave(ctx, c.Clave)
		require.NoError(b, err)
		start := time.Now()
		run, err := loader.Run(ctx, Request{Catalog: c, Actor: catalog.System(), Source: path, RowBase: 2, MaxRows: -1,
			Open: func(ctx context.Context) (Stream, error) {
				f, err := os.Open(path)
				if err != nil {
					return nil, err
				}
				return decode.Open(ctx, decode.Input{R: f, Name: path, Closer: f}, connectors.Options{Format: connectors.FormatCSV})
			}})
		require.NoError(b, err)
		require.Equal(b, Succeeded, run.State, run.Error)
		return time.Since(start), run
	}
	var tFirst, tSame, tChanged time.Duration
	for i := 0; b.Loop(); i++ {
		c, err := store.Create(ctx, catalog.System(), catalog.NewCatalog{Resource: benchResource(fmt.Sprintf("cat_recarga_%d", i)), DependenciaID: dep, Publish: true})
		require.NoError(b, err)
		tFirst, _ = load(c, first)
		var run *Run
		tSame, run = load(c, first)
		require.Equal(b, "unchanged", run.ErrorCode)
		// 1% changed, then changed back.
		tChanged, run = load(c, changed)
		require.EqualValues(b, rows/100, run.RowsChanged)
		tBack, back := load(c, first)
		require.EqualValues(b, rows/100, back.RowsChanged)
		stages := func(r *Run) string {
			return fmt.Sprintf("validate %.2f s, keys %.2f s, publish %.2f s", r.Timings[StageValidate], r.Timings[StageKeys], r.Timings[StagePublish])
		}
		fmt.Printf("recarga, %d filas: primera carga %.2f s; sin cambios %.2f s (%.0f%%); con 1%% cambiadas %.2f s (%.0f%%; %s) y de vuelta %.2f s (%.0f%%; %s); meta ≤ 40%%\n",
			rows, tFirst.Seconds(), tSame.Seconds(), 100*tSame.Seconds()/tFirst.Seconds(),
			tChanged.Seconds(), 100*tChanged.Seconds()/tFirst.Seconds(), stages(run), tBack.Seconds(), 100*tBack.Seconds()/tFirst.Seconds(), stages(back))
	}
	b.ReportMetric(100*tSame.Seconds()/tFirst.Seconds(), "%unchanged/first")
	b.ReportMetric(100*tChanged.Seconds()/tFirst.Seconds(), "%reload/first")
}
