package catalog_test

import (
	"strings"
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

// A live table is linted as it is: what a definition rebuilt from it would
// hide (the control columns' NOT NULL and defaults, a foreign key whose type
// differs from the key it references) still refuses it.
func TestRegisterLintsTheLiveTable(t *testing.T) {
	t.Parallel()
	rules, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	const control = `activo boolean NOT NULL DEFAULT true, fecha_alta timestamptz NOT NULL DEFAULT now(), fecha_modificacion timestamptz`
	for _, tc := range []struct {
		name, ddl, rule string
	}{
		{"clean", `CREATE TABLE cat.cat_color (id_color varchar(3) PRIMARY KEY, nombre varchar(40) NOT NULL, ` + control + `)`, ""},
		{"activo may be null", `CREATE TABLE cat.cat_color (id_color varchar(3) PRIMARY KEY, nombre varchar(40) NOT NULL,
			activo boolean DEFAULT true, fecha_alta timestamptz NOT NULL DEFAULT now(), fecha_modificacion timestamptz)`, "NOM-C07"},
		{"foreign key of another type", `CREATE TABLE cat.cat_tono (id_tono integer PRIMARY KEY);
			COMMENT ON TABLE cat.cat_tono IS 'Tonos de prueba del registro.';
			CREATE TABLE cat.cat_color (id_color varchar(3) PRIMARY KEY, nombre varchar(40) NOT NULL,
			id_tono bigint REFERENCES cat.cat_tono, ` + control + `)`, "NOM-C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			store := catalog.NewStore(b.pool, catalog.Nomenclature(rules))
			_, err := b.pool.Exec(b.ctx, tc.ddl+`;
				COMMENT ON TABLE cat.cat_color IS 'Colores de prueba del registro.'`)
			require.NoError(t, err)
			_, err = b.pool.Exec(b.ctx, `DO $$ DECLARE r record; BEGIN
				FOR r IN SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
					JOIN pg_namespace n ON n.oid = c.relnamespace
					WHERE n.nspname = 'cat' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped LOOP
					EXECUTE format('COMMENT ON COLUMN cat.%I.%I IS %L', r.relname, r.attname, 'Columna ' || r.attname || ' de prueba.');
				END LOOP;
				END $$`)
			require.NoError(t, err)
			_, err = store.Register(b.ctx, b.super, "cat_color", catalog.NewCatalog{DependenciaID: b.dep})
			if tc.rule == "" {
				require.NoError(t, err)
				return
			}
			require.True(t, catalog.IsKind(err, catalog.KindInvalid), err)
			var ce *catalog.Error
			require.ErrorAs(t, err, &ce)
			require.Contains(t, strings.Join(ce.Details, "\n"), tc.rule)
			var n int
			require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM meta.catalog`).Scan(&n))
			require.Zero(t, n, "a refused table is not registered")
		})
	}
}
