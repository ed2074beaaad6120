// Package proceduretest gives tests of other packages an engine on the
// shipped definitions and the platform state the procedures check (a
// catalog table in cat that follows the nomenclature, registered).
package proceduretest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/schemas"
)

// Engine returns an engine on pool for the shipped definitions and
// calendar, with its definitions recorded.
func Engine(t testing.TB, pool *pgxpool.Pool) *procedure.Engine {
	t.Helper()
	reg, err := procedure.Load(schemas.Procedures())
	require.NoError(t, err)
	cal, err := procedure.ParseCalendar("gto.yaml", schemas.Calendar())
	require.NoError(t, err)
	eng := procedure.NewEngine(pool, reg, cal)
	eng.BaseURL = "https://datos.guanajuato.gob.mx"
	require.NoError(t, eng.Sync(context.Background()))
	return eng
}

// Table is the catalog table PublishedCatalog creates; it is the example
// of the formatos' table fields.
const Table = "cat_municipio"

// catalogDDL is a catalog that follows the DAID nomenclature (the clean
// live table of testdata/nomenclature).
const catalogDDL = `
CREATE TABLE cat.cat_entidad (
  id_entidad varchar(2) PRIMARY KEY CHECK (id_entidad ~ '^[0-9]{2}$'),
  nombre varchar(100) NOT NULL,
  fecha_alta timestamptz NOT NULL DEFAULT now(),
  fecha_modificacion timestamptz,
  activo boolean NOT NULL DEFAULT true);
CREATE TABLE cat.cat_municipio (
  id_municipio varchar(5) PRIMARY KEY,
  id_entidad varchar(2) NOT NULL REFERENCES cat.cat_entidad (id_entidad),
  clave_municipio varchar(3) NOT NULL CHECK (clave_municipio ~ '^[0-9]{3}$'),
  nombre varchar(150) NOT NULL,
  poblacion_total integer CHECK (poblacion_total >= 0),
  fecha_alta timestamptz NOT NULL DEFAULT now(),
  fecha_modificacion timestamptz,
  activo boolean NOT NULL DEFAULT true);
COMMENT ON TABLE cat.cat_municipio IS 'Municipios de México con su clave geoestadística del INEGI.';
COMMENT ON COLUMN cat.cat_municipio.id_municipio IS 'Clave geoestadística completa.';
COMMENT ON COLUMN cat.cat_municipio.id_entidad IS 'Entidad federativa.';
COMMENT ON COLUMN cat.cat_municipio.clave_municipio IS 'Clave del municipio en su entidad.';
COMMENT ON COLUMN cat.cat_municipio.nombre IS 'Nombre oficial.';
COMMENT ON COLUMN cat.cat_municipio.poblacion_total IS 'Población total, Censo 2020.';
COMMENT ON COLUMN cat.cat_municipio.fecha_alta IS 'Alta del registro.';
COMMENT ON COLUMN cat.cat_municipio.fecha_modificacion IS 'Última modificación.';
COMMENT ON COLUMN cat.cat_municipio.activo IS 'Registro vigente.';`

// CatalogTable creates cat.cat_municipio (and the cat_entidad it refers
// to), following the nomenclature.
func CatalogTable(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(context.Background(), catalogDDL)
	require.NoError(t, err)
}

// PublishedCatalog creates the table and registers it in meta.catalog as a
// published catalog of dependencia.
func PublishedCatalog(t testing.TB, pool *pgxpool.Pool, dependenciaID int64) {
	t.Helper()
	CatalogTable(t, pool)
	_, err := pool.Exec(context.Background(), `
		INSERT INTO meta.catalog (clave, table_name, title, description, state, definition, dependencia_id, created_by, published_at)
		VALUES ('municipios', $1, 'Municipios', 'Municipios de México', 'publicado', '{}', $2, 'proceduretest', now())`, Table, dependenciaID)
	require.NoError(t, err)
}
