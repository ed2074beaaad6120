package demo_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
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

	// through the registry: published, version 1, the definition as stored
	store := catalog.NewStore(pool, nil)
	for clave, rows := range map[string]int64{"entidad": 32, "municipio": 2478} {
		c, err := store.ByClave(ctx, clave)
		require.NoError(t, err)
		require.Equal(t, catalog.Publicado, c.State, clave)
		require.Equal(t, 1, c.CurrentVersion, clave)
		require.Equal(t, catalog.Adoptado, c.Origin)
		vs, err := store.Versions(ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, rows, vs[0].Rows, clave)
	}

	var undocumented int
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(*) FROM pg_attribute a
		JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'cat' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
		  AND col_description(c.oid, a.attnum) IS NULL`).Scan(&undocumented))
	require.Zero(t, undocumented, "every column has its comment")
}

// TestSeedRegistersOlderTables: a data folder seeded before the registry
// existed has the tables but no catalogs; the next start registers them.
func TestSeedRegistersOlderTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	_, err := pool.Exec(ctx, `
		CREATE TABLE cat.cat_entidad (id_entidad varchar(2) PRIMARY KEY, nombre varchar(100) NOT NULL, abreviatura varchar(20) NOT NULL,
			activo boolean NOT NULL DEFAULT true, fecha_alta timestamptz NOT NULL DEFAULT now(), fecha_modificacion timestamptz);
		COMMENT ON TABLE cat.cat_entidad IS 'Entidades federativas de México según el INEGI.';
		COMMENT ON COLUMN cat.cat_entidad.id_entidad IS 'Clave INEGI de la entidad.';
		COMMENT ON COLUMN cat.cat_entidad.nombre IS 'Nombre de la entidad.';
		COMMENT ON COLUMN cat.cat_entidad.abreviatura IS 'Abreviatura de la entidad.';
		COMMENT ON COLUMN cat.cat_entidad.activo IS 'Registro vigente.';
		COMMENT ON COLUMN cat.cat_entidad.fecha_alta IS 'Alta del registro.';
		COMMENT ON COLUMN cat.cat_entidad.fecha_modificacion IS 'Última modificación.';`)
	require.NoError(t, err)
	ms, err := demo.Municipios()
	require.NoError(t, err)
	for _, m := range ms {
		_, err := pool.Exec(ctx, `INSERT INTO cat.cat_entidad (id_entidad, nombre, abreviatura) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			m.CveEntidad, m.NomEntidad, m.NomAbrEntidad)
		require.NoError(t, err)
	}
	res, err := demo.Seed(ctx, pool)
	require.NoError(t, err)
	require.Zero(t, res.Entidades)
	require.Equal(t, 2478, res.Municipios)
	c, err := catalog.NewStore(pool, nil).ByClave(ctx, "entidad")
	require.NoError(t, err)
	require.Equal(t, catalog.Publicado, c.State)
	require.Equal(t, 1, c.CurrentVersion)
}
