package catalog_test

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// BenchmarkRowsPage reads 100-row pages of a 1,000,000-row catalog at its
// start, middle and end (keyset on the key's index), and by a non-key
// column, printing the median time of a page:
//
//	go run ./cmd/gobdatos testdb -- go test -run '^$' -bench RowsPage -benchtime 1x ./catalog/
func BenchmarkRowsPage(b *testing.B) {
	bb := setup(b)
	c, err := bb.store.Create(bb.ctx, bb.super, catalog.NewCatalog{Resource: benchDef(), DependenciaID: bb.dep, Publish: true})
	if err != nil {
		b.Fatal(err)
	}
	err = pgdb.WithTx(bb.ctx, bb.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(bb.ctx, `INSERT INTO cat.cat_bench (id_bench, nombre, clave_grupo, num_orden, monto, fecha_inicio, es_vigente, descripcion)
			SELECT lpad(g::text, 9, '0'), 'Nombre número ' || g, (g % 1000)::text, g % 5000, g * 1.5, date '2020-01-01' + g % 900, g % 3 > 0, 'Descripción del registro ' || g
			FROM generate_series(1, $1) g`, benchRows); err != nil {
			return err
		}
		_, err := catalog.PublishFirstLoad(bb.ctx, tx, c, bb.super, nil)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := bb.pool.Exec(bb.ctx, `VACUUM ANALYZE cat.cat_bench`); err != nil {
		b.Fatal(err)
	}
	if c, err = bb.store.ByClave(bb.ctx, c.Clave); err != nil {
		b.Fatal(err)
	}
	cursor := func(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(`["` + key + `"]`)) }
	cases := []struct {
		name string
		q    catalog.RowsQuery
	}{
		{"first page", catalog.RowsQuery{Limit: 100}},
		{"middle page", catalog.RowsQuery{Limit: 100, After: cursor(fmt.Sprintf("%09d", benchRows/2))}},
		{"last page", catalog.RowsQuery{Limit: 100, After: cursor(fmt.Sprintf("%09d", benchRows-100))}},
		{"first page, filtered", catalog.RowsQuery{Limit: 100, Filters: []catalog.RowFilter{{Field: "id_bench", Value: "000500000"}}}},
	}
	for i := 0; i < b.N; i++ {
		for _, tc := range cases {
			const reps = 200
			times := make([]time.Duration, reps)
			for r := range reps {
				start := time.Now()
				p, err := bb.store.Rows(bb.ctx, c, tc.q)
				if err != nil {
					b.Fatal(err)
				}
				times[r] = time.Since(start)
				if len(p.Rows) == 0 {
					b.Fatalf("%s: no rows", tc.name)
				}
			}
			med := median(times)
			fmt.Printf("rows %-22s median %6.2f ms per 100-row page (%d pages)\n", tc.name, float64(med.Microseconds())/1000, reps)
			b.ReportMetric(float64(med.Microseconds())/1000, "ms/"+strings.NewReplacer(" ", "_", ",", "").Replace(tc.name))
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
