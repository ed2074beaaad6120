package catalog_test

import (
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

const benchRows = 1_000_000

func benchDef() tableschema.Resource {
	n := func(i int) *int { return &i }
	return tableschema.Resource{
		Name: "cat_bench", Title: "Catálogo de referencia", Description: "Catálogo de un millón de filas para medir la publicación.",
		Schema: tableschema.Schema{
			Fields: []tableschema.Field{
				{Name: "id_bench", Type: "string", Description: "Clave.", Constraints: tableschema.Constraints{Required: true, MaxLength: n(12)}},
				{Name: "nombre", Type: "string", Description: "Nombre con acentos.", Constraints: tableschema.Constraints{MaxLength: n(100)}},
				{Name: "clave_grupo", Type: "string", Description: "Grupo.", Constraints: tableschema.Constraints{MaxLength: n(5)}},
				{Name: "num_orden", Type: "integer", Description: "Orden."},
				{Name: "monto", Type: "numeric(12,2)", Description: "Monto."},
				{Name: "fecha_inicio", Type: "date", Description: "Inicio."},
				{Name: "es_vigente", Type: "boolean", Description: "Vigencia."},
				{Name: "descripcion", Type: "string", Description: "Descripción larga."},
			},
			PrimaryKey: tableschema.StringList{"id_bench"},
		},
	}
}

var benchCols = []string{"id_bench", "nombre", "clave_grupo", "num_orden", "monto", "fecha_inicio", "es_vigente", "descripcion"}

// genRows generates the benchmark rows on the fly; rows whose index is a
// multiple of every (when every > 0) get a different monto.
type genRows struct {
	i, n, every int
	base        time.Time
	row         []any
}

func (g *genRows) Next() bool { g.i++; return g.i <= g.n }
func (g *genRows) Err() error { return nil }
func (g *genRows) Values() ([]any, error) {
	i := g.i
	monto := int64(i % 100000)
	if g.every > 0 && i%g.every == 0 {
		monto += 7
	}
	return []any{
		fmt.Sprintf("B%011d", i), fmt.Sprintf("Señalización número %d de Querétaro", i), fmt.Sprintf("G%04d", i%1000),
		int32(i), pgtype.Numeric{Int: bigInt(monto), Exp: -2, Valid: true}, g.base.AddDate(0, 0, i%3650),
		i%3 != 0, "Descripción del registro con acentos: árbol, camión, niño.",
	}, nil
}

// BenchmarkPublish: a first load of 1,000,000 rows × 8 columns (COPY into
// the live table + PublishFirstLoad), then re-loads through staging: the
// same rows (unchanged), and 1% of rows changed. The pipeline's target is a
// 1%-changed re-load within 40% of the first load.
func BenchmarkPublish(b *testing.B) {
	for range b.N {
		bb := setup(b)
		c, err := bb.store.Create(bb.ctx, bb.super, catalog.NewCatalog{Resource: benchDef(), DependenciaID: bb.dep, Publish: true})
		require.NoError(b, err)
		base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		timed := func(fn func(tx pgx.Tx) error) time.Duration {
			start := time.Now()
			require.NoError(b, pgdb.WithTx(bb.ctx, bb.pool, fn))
			return time.Since(start)
		}
		first := timed(func(tx pgx.Tx) error {
			_, err := tx.CopyFrom(bb.ctx, pgx.Identifier{"cat", "cat_bench"}, benchCols, &genRows{n: benchRows, base: base})
			if err != nil {
				return err
			}
			_, err = catalog.PublishFirstLoad(bb.ctx, tx, c, bb.super, nil)
			return err
		})
		_, err = bb.pool.Exec(bb.ctx, `ANALYZE cat.cat_bench`)
		require.NoError(b, err)
		reload := func(every int) (total, publish time.Duration, v catalog.Version) {
			total = timed(func(tx pgx.Tx) error {
				_, err := tx.Exec(bb.ctx, `CREATE UNLOGGED TABLE public.stg_bench (LIKE cat.cat_bench INCLUDING DEFAULTS)`)
				if err != nil {
					return err
				}
				if _, err := tx.Exec(bb.ctx, `ALTER TABLE public.stg_bench DROP COLUMN activo, DROP COLUMN fecha_alta, DROP COLUMN fecha_modificacion`); err != nil {
					return err
				}
				if _, err := tx.CopyFrom(bb.ctx, pgx.Identifier{"public", "stg_bench"}, benchCols, &genRows{n: benchRows, every: every, base: base}); err != nil {
					return err
				}
				if _, err := tx.Exec(bb.ctx, `ANALYZE public.stg_bench`); err != nil {
					return err
				}
				start := time.Now()
				v, err = catalog.PublishStaged(bb.ctx, tx, c, "public.stg_bench", bb.super, nil)
				publish = time.Since(start)
				if err != nil {
					return err
				}
				_, err = tx.Exec(bb.ctx, `DROP TABLE public.stg_bench`)
				return err
			})
			return total, publish, v
		}
		unchTotal, unchPub, v := reload(0)
		require.True(b, v.Unchanged)
		chgTotal, chgPub, v := reload(100)
		require.EqualValues(b, benchRows/100, v.Changed)
		ratio := float64(chgTotal) / float64(first)
		b.ReportMetric(first.Seconds(), "first-load-s")
		b.ReportMetric(unchTotal.Seconds(), "unchanged-reload-s")
		b.ReportMetric(chgTotal.Seconds(), "1pct-reload-s")
		b.ReportMetric(chgPub.Seconds(), "1pct-publish-s")
		b.ReportMetric(100*ratio, "1pct/first-%")
		fmt.Printf("catalog publish, %d rows × %d columns:\n"+
			"  first load (COPY into live + PublishFirstLoad)  %v\n"+
			"  re-load unchanged (stage + PublishStaged)       %v (publish %v)\n"+
			"  re-load 1%% changed (stage + PublishStaged)      %v (publish %v) = %.0f%% of the first load (target ≤ 40%%)\n",
			benchRows, len(benchCols), first.Round(time.Millisecond), unchTotal.Round(time.Millisecond), unchPub.Round(time.Millisecond),
			chgTotal.Round(time.Millisecond), chgPub.Round(time.Millisecond), 100*ratio)
	}
}

func bigInt(n int64) *big.Int { return big.NewInt(n) }
