package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/benchdata"
	"github.com/dgtit-gto/gobdatos/connectors/postgres"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// BenchmarkSource streams a 1,000,000-row, 12-column table (the shape of
// the benchmark CSV, typed) and prints rows/s, rows per CPU-second of this
// process and the peak heap.
func BenchmarkSource(b *testing.B) {
	const rows = 1_000_000
	url := pgtest.NewURL(b)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(b, err)
	defer pool.Close()
	_, err = pool.Exec(context.Background(), `
		CREATE TABLE bench AS SELECT lpad(g::text, 7, '0') AS clave, 'José'::text AS nombre, 'Pénjamo'::text AS municipio,
			'Juárez ' || g % 999 AS domicilio, g % 500000 AS poblacion, (g % 100000)::int AS viviendas,
			(g % 1000000 / 100.0)::numeric(10,2) AS superficie, (g % 1000 / 100.0)::float8 AS tasa,
			date '2000-01-01' + g % 9000 AS alta, lpad((g % 46 + 1)::text, 3, '0') AS cve_mun, g % 10 <> 0 AS activo,
			lpad((1000 + g % 99000)::text, 5, '0') AS cp
		FROM generate_series(1, $1) g`, rows)
	require.NoError(b, err)
	b.ResetTimer()
	benchdata.BenchStream(b, rows, func(ctx context.Context) (connectors.Stream, error) {
		return postgres.Source{URL: url, Table: "bench"}.Open(ctx, connectors.Options{})
	})
}
