package demo_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/demo"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

func TestSeedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)

	res, err := demo.Seed(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, demo.Result{Dependencias: len(demo.Dependencias()), Entidades: 32, Municipios: 2478}, res)

	again, err := demo.Seed(ctx, pool)
	require.NoError(t, err)
	require.Zero(t, again, "a second seed changes nothing")

	var gto, nombre string
	var leadingZero string
	require.NoError(t, pool.QueryRow(ctx, `SELECT id_municipio, nombre FROM cat.cat_municipio WHERE id_municipio = '11002'`).Scan(&gto, &nombre))
	require.Equal(t, "Acámbaro", nombre)
	require.NoError(t, pool.QueryRow(ctx, `SELECT id_entidad FROM cat.cat_entidad ORDER BY 1 LIMIT 1`).Scan(&leadingZero))
	require.Equal(t, "01", leadingZero, "keys keep their leading zeros")

	var undocumented int
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(*) FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'cat' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
		  AND col_description(c.oid, a.attnum) IS NULL`).Scan(&undocumented))
	require.Zero(t, undocumented, "every column has its comment")
}
