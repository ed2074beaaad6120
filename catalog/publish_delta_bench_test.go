package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// BenchmarkPublishDelta measures what a re-load of 1,000,000 rows with 1%
// changed spends publishing: in one transaction, the 10,000 keys not found
// unchanged are copied into a temporary table (as the pipeline's
// stageRemoved does), catalog.PublishDelta joins them and the 10,000
// staged rows to the live table, and the transaction commits. The staged
// rows are copied before the clock starts, as the pipeline stages them
// before it publishes; the live table is not analyzed after its first
// load, as in the pipeline. The monto of every hundredth row changes, then
// changes back, so from the second publication on the changed rows have
// history. Six publications are timed, then two more right after a
// CHECKPOINT: the first change of each page after one writes the whole
// page to the WAL, as a re-load pays when a checkpoint came after the
// previous load. GOBDATOS_EXPLAIN=1 prints each statement's plan.
func BenchmarkPublishDelta(b *testing.B) {
	const every, plain, afterCheckpoint = 100, 6, 2
	bb := setup(b)
	ctx := bb.ctx
	c, err := bb.store.Create(ctx, bb.super, catalog.NewCatalog{Resource: benchDef(), DependenciaID: bb.dep, Publish: true})
	require.NoError(b, err)
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	require.NoError(b, pgdb.WithTx(ctx, bb.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cat", "cat_bench"}, benchCols, &genRows{n: benchRows, base: base}); err != nil {
			return err
		}
		_, err := catalog.PublishFirstLoad(ctx, tx, c, bb.super, nil)
		return err
	}))
	conn := deltaConn(b, bb)
	// staged returns the changed rows (or, changed false, the same rows
	// as first loaded) and their keys as COPY text.
	staged := func(changed bool) (rows [][]any, keys []byte) {
		g := &genRows{base: base}
		if changed {
			g.every = every
		}
		for g.i = every; g.i <= benchRows; g.i += every {
			r, err := g.Values()
			require.NoError(b, err)
			rows = append(rows, r)
			keys = append(append(keys, r[0].(string)...), '\n')
		}
		return rows, keys
	}
	var times [2][]time.Duration // plain, after a checkpoint
	n := 0
	for b.Loop() {
		for round := range plain + afterCheckpoint {
			n++
			c, err := bb.store.ByClave(ctx, c.Clave)
			require.NoError(b, err)
			_, err = conn.Exec(ctx, `DROP TABLE IF EXISTS public.stg_delta;
				CREATE UNLOGGED TABLE public.stg_delta (LIKE cat.cat_bench INCLUDING DEFAULTS);
				ALTER TABLE public.stg_delta DROP COLUMN activo, DROP COLUMN fecha_alta, DROP COLUMN fecha_modificacion`)
			require.NoError(b, err)
			rows, keys := staged(n%2 == 1)
			_, err = conn.CopyFrom(ctx, pgx.Identifier{"public", "stg_delta"}, benchCols, pgx.CopyFromRows(rows))
			require.NoError(b, err)
			kind := 0
			if round >= plain {
				kind = 1
				_, err := conn.Exec(ctx, "CHECKPOINT")
				require.NoError(b, err)
			}
			start := time.Now()
			var v catalog.Version
			require.NoError(b, pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				if os.Getenv("GOBDATOS_EXPLAIN") != "" {
					if _, err := tx.Exec(ctx, `LOAD 'auto_explain'; SET LOCAL auto_explain.log_min_duration = 0;
						SET LOCAL auto_explain.log_analyze = on; SET LOCAL auto_explain.log_buffers = on;
						SET LOCAL auto_explain.log_nested_statements = on; SET LOCAL auto_explain.log_level = notice`); err != nil {
						return err
					}
				}
				if _, err := tx.Exec(ctx, `CREATE TEMP TABLE rem_delta (id_bench varchar(12)) ON COMMIT DROP`); err != nil {
					return err
				}
				if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(keys), `COPY pg_temp.rem_delta FROM STDIN`); err != nil {
					return err
				}
				v, err = catalog.PublishDelta(ctx, tx, c, "public.stg_delta", "pg_temp.rem_delta", c.CurrentVersion, bb.super, nil)
				return err
			}))
			times[kind] = append(times[kind], time.Since(start))
			require.EqualValues(b, benchRows/every, v.Changed)
			require.Equal(b, c.CurrentVersion+1, v.Number)
		}
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	report := func(ts []time.Duration) string {
		each := make([]string, len(ts))
		for i, d := range ts {
			each[i] = fmt.Sprintf("%.0f", ms(d))
		}
		return fmt.Sprintf("median %.0f ms (each: %s ms)", ms(median(ts)), strings.Join(each, ", "))
	}
	fmt.Printf("catalog PublishDelta, %d rows × %d columns, %d changed, per publication: %s; right after a CHECKPOINT %s\n",
		benchRows, len(benchCols), benchRows/every, report(times[0]), report(times[1]))
	b.ReportMetric(ms(median(times[0])), "ms/publication")
	b.ReportMetric(ms(median(times[1])), "ms/publication-after-checkpoint")
}

// deltaConn is a connection of its own, which prints the server's notices
// (auto_explain's plans).
func deltaConn(b *testing.B, bb *bundle) *pgx.Conn {
	cfg := bb.pool.Config().ConnConfig.Copy()
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { fmt.Println(n.Message) }
	conn, err := pgx.ConnectConfig(bb.ctx, cfg)
	require.NoError(b, err)
	b.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
