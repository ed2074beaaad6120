package catalog_test

import (
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

func TestRegisterExistingTable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rules, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	store := catalog.NewStore(b.pool, catalog.Nomenclature(rules))
	_, err = b.pool.Exec(b.ctx, `
		CREATE TABLE cat.cat_tipo_vialidad (
			id_tipo_vialidad varchar(3) PRIMARY KEY CHECK (id_tipo_vialidad ~ '^[0-9]{3}$'),
			nombre varchar(80) NOT NULL UNIQUE,
			activo boolean NOT NULL DEFAULT true,
			fecha_alta timestamptz NOT NULL DEFAULT now(),
			fecha_modificacion timestamptz);
		COMMENT ON TABLE cat.cat_tipo_vialidad IS 'Tipos de vialidad según la norma técnica del INEGI.';
		COMMENT ON COLUMN cat.cat_tipo_vialidad.id_tipo_vialidad IS 'Clave del tipo de vialidad.';
		COMMENT ON COLUMN cat.cat_tipo_vialidad.nombre IS 'Nombre del tipo de vialidad.';
		COMMENT ON COLUMN cat.cat_tipo_vialidad.activo IS 'Indica si el registro está vigente.';
		COMMENT ON COLUMN cat.cat_tipo_vialidad.fecha_alta IS 'Fecha de alta del registro.';
		COMMENT ON COLUMN cat.cat_tipo_vialidad.fecha_modificacion IS 'Fecha de la última modificación.';
		INSERT INTO cat.cat_tipo_vialidad (id_tipo_vialidad, nombre) VALUES ('001', 'Calle'), ('002', 'Avenida'), ('003', 'Calzada');`)
	require.NoError(t, err)

	_, err = store.Register(b.ctx, b.query, "cat.cat_tipo_vialidad", catalog.NewCatalog{DependenciaID: b.dep})
	require.True(t, catalog.IsKind(err, catalog.KindForbidden), err)
	c, err := store.Register(b.ctx, b.pub, "cat.cat_tipo_vialidad", catalog.NewCatalog{DependenciaID: b.dep})
	require.NoError(t, err)
	require.Equal(t, "tipo-vialidad", c.Clave)
	require.Equal(t, catalog.Borrador, c.State)
	require.Equal(t, "Tipos de vialidad según la norma técnica del INEGI.", c.Title)
	require.Equal(t, 1, c.CurrentVersion, "the rows it holds are version 1")
	fields := c.Resource.Schema.Fields
	require.Len(t, fields, 2)
	require.Equal(t, "varchar(3)", fields[0].Type)
	require.Equal(t, "[0-9]{3}", fields[0].Constraints.Pattern)
	require.True(t, fields[1].Constraints.Unique)
	require.True(t, fields[1].Constraints.Required)
	require.Equal(t, "Nombre del tipo de vialidad.", fields[1].Description)

	// loads work like on any catalog
	require.NoError(t, pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(b.ctx, `CREATE TEMP TABLE stg ON COMMIT DROP AS SELECT id_tipo_vialidad, nombre FROM cat.cat_tipo_vialidad WHERE id_tipo_vialidad <> '003'`)
		require.NoError(t, err)
		v, err := catalog.PublishStaged(b.ctx, tx, c, "stg", b.pub, nil)
		require.NoError(t, err)
		require.Equal(t, 2, v.Number)
		require.EqualValues(t, 1, v.Removed)
		return nil
	}))

	_, err = store.Register(b.ctx, b.super, "cat.cat_no_existe", catalog.NewCatalog{DependenciaID: b.dep})
	require.True(t, catalog.IsKind(err, catalog.KindNotFound), err)
	_, err = store.Register(b.ctx, b.super, `cat.cat_x"; DROP TABLE meta.catalog; --`, catalog.NewCatalog{DependenciaID: b.dep})
	require.True(t, catalog.IsKind(err, catalog.KindInvalid), err)

	// a table that breaks the nomenclature is not registered
	_, err = b.pool.Exec(b.ctx, `CREATE TABLE cat."Cat_Municipios" ("ID" text PRIMARY KEY, "Nombre_Municipio" text)`)
	require.NoError(t, err)
	_, err = store.Register(b.ctx, b.super, "Cat_Municipios", catalog.NewCatalog{DependenciaID: b.dep})
	require.True(t, catalog.IsKind(err, catalog.KindInvalid), err)
}
