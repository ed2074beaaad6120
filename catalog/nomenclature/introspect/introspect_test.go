package introspect_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature/introspect"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

type bundle struct {
	ctx   context.Context
	db    *pgxpool.Pool
	rules *nomenclature.Rules
}

func setup(t *testing.T) bundle {
	t.Helper()
	r, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	return bundle{ctx: context.Background(), db: pgtest.New(t), rules: r}
}

func (b bundle) exec(t *testing.T, sql string) {
	t.Helper()
	_, err := b.db.Exec(b.ctx, sql)
	require.NoError(t, err, sql)
}

func counts(rep nomenclature.Report) map[string]int {
	m := map[string]int{}
	for _, f := range rep.Findings {
		m[f.Rule]++
	}
	return m
}

const entidadDDL = `
CREATE TABLE cat.cat_entidad (
  id_entidad varchar(2) PRIMARY KEY CHECK (id_entidad ~ '^[0-9]{2}$'),
  nombre varchar(100) NOT NULL,
  fecha_alta timestamptz NOT NULL DEFAULT now(),
  fecha_modificacion timestamptz,
  activo boolean NOT NULL DEFAULT true);
COMMENT ON TABLE cat.cat_entidad IS 'Entidades federativas de México (INEGI).';
COMMENT ON COLUMN cat.cat_entidad.id_entidad IS 'Clave INEGI de la entidad.';
COMMENT ON COLUMN cat.cat_entidad.nombre IS 'Nombre oficial.';
COMMENT ON COLUMN cat.cat_entidad.fecha_alta IS 'Alta del registro.';
COMMENT ON COLUMN cat.cat_entidad.fecha_modificacion IS 'Última modificación.';
COMMENT ON COLUMN cat.cat_entidad.activo IS 'Registro vigente.';`

// cleanMunicipio is NOMENCLATURE.md's clean example, the corpus's
// clean-municipio.sql (cat_entidad and cat_municipio).
func cleanMunicipio(t *testing.T) string {
	t.Helper()
	ddl, err := os.ReadFile("../../../testdata/nomenclature/tables/clean-municipio.sql")
	require.NoError(t, err)
	return string(ddl)
}

// NOMENCLATURE.md's clean example, created for real, is clean; Read gives
// its keys, types and comments.
func TestCleanLiveTable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.exec(t, cleanMunicipio(t))
	tb, err := introspect.Read(b.ctx, b.db, "cat", "cat_municipio")
	require.NoError(t, err)
	require.Equal(t, "Municipios de México con su clave geoestadística del INEGI.", tb.Comment)
	require.Equal(t, []string{"id_municipio"}, tb.PrimaryKey)
	require.Len(t, tb.Columns, 8)
	require.Equal(t, "character varying(5)", tb.Columns[0].Type)
	require.Equal(t, "timestamp with time zone", tb.Columns[5].Type)
	require.Equal(t, "true", *tb.Columns[7].Default)
	require.True(t, tb.Columns[7].NotNull)
	require.Nil(t, tb.Columns[6].Default)
	require.Equal(t, []nomenclature.ForeignKey{{Name: "cat_municipio_id_entidad_fkey", Columns: []string{"id_entidad"},
		RefSchema: "cat", RefTable: "cat_entidad", RefColumns: []string{"id_entidad"}, RefTypes: []string{"character varying(2)"}}}, tb.ForeignKeys)
	require.Len(t, tb.Checks, 2)
	require.Equal(t, []string{"clave_municipio"}, tb.Checks[0].Columns)
	require.Equal(t, []string{"poblacion_total"}, tb.Checks[1].Columns)

	rep := b.rules.CheckTable(tb)
	require.True(t, rep.Valid, "%+v", rep.Findings)
	require.Empty(t, rep.Findings)

	all, err := introspect.List(b.ctx, b.db, "cat")
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "cat_entidad", all[0].Name)
	require.Equal(t, "cat_municipio", all[1].Name)

	_, err = introspect.Read(b.ctx, b.db, "cat", "cat_no_existe")
	require.ErrorIs(t, err, introspect.ErrNotFound)
}

// NOMENCLATURE.md's bad example gives exactly the findings it lists.
func TestDocumentedBadExample(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.exec(t, `CREATE TABLE cat."Cat_Municipios"("ID" text PRIMARY KEY, "Nombre_Municipio" text, "fechaAlta" date, vigente char(1))`)
	tb, err := introspect.Read(b.ctx, b.db, "cat", "Cat_Municipios")
	require.NoError(t, err)
	rep := b.rules.CheckTable(tb)
	require.False(t, rep.Valid)
	require.Equal(t, map[string]int{
		"NOM-T02": 1, "NOM-T04": 1, "NOM-T06": 1, "NOM-C01": 3, "NOM-C02": 4, "NOM-C03": 1, "NOM-C05": 1,
		"NOM-C06": 1, "NOM-C07": 1, "NOM-T07": 1, "NOM-C09": 2,
	}, counts(rep))
	for _, f := range rep.Findings {
		if f.Rule == "NOM-T07" || f.Rule == "NOM-C09" {
			require.Equal(t, nomenclature.SeverityWarning, f.Severity)
		}
	}
}

// Hostile names reach PostgreSQL only quoted (creating them) or as
// parameters (reading them): they round-trip exactly and break nothing.
func TestHostileNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.exec(t, `CREATE TABLE cat.cat_victima (id_victima integer PRIMARY KEY)`)
	names := []struct {
		table, column string
		rules         []string
	}{
		{`cat_x"; DROP TABLE cat.cat_victima; --`, `id"; DROP TABLE cat.cat_victima; --`, []string{"NOM-T02", "NOM-T04", "NOM-C01"}},
		{`cat_x'); DELETE FROM cat.cat_victima; --`, `nombre' OR '1'='1`, []string{"NOM-T02", "NOM-T04", "NOM-C01"}},
		{`cat_/* comentario */x`, `a/*b*/`, []string{"NOM-T02", "NOM-T04", "NOM-C01"}},
		{"cat_municipiо", "nombrе", []string{"NOM-T02", "NOM-T04", "NOM-C01"}}, // Cyrillic о and е
		{"cat_x\\", "$1", []string{"NOM-T02", "NOM-C01"}},
		{"cat_ñandú", "año", []string{"NOM-T02", "NOM-T04", "NOM-C01"}},
	}
	for _, n := range names {
		comment := "Tabla con nombre hostil: " + n.table
		b.exec(t, "CREATE TABLE "+pgdb.QuoteQualified("cat", n.table)+" ("+pgdb.QuoteIdent(n.column)+" integer)")
		b.exec(t, "COMMENT ON TABLE "+pgdb.QuoteQualified("cat", n.table)+" IS "+pgdb.QuoteLiteral(comment))
		tb, err := introspect.Read(b.ctx, b.db, "cat", n.table)
		require.NoError(t, err, n.table)
		require.Equal(t, n.table, tb.Name)
		require.Equal(t, comment, tb.Comment)
		require.Len(t, tb.Columns, 1)
		require.Equal(t, n.column, tb.Columns[0].Name)
		got := counts(b.rules.CheckTable(tb))
		for _, r := range n.rules {
			require.Positive(t, got[r], "%s on %q: %v", r, n.table, got)
		}
	}
	var exists bool
	require.NoError(t, b.db.QueryRow(b.ctx, `SELECT to_regclass('cat.cat_victima') IS NOT NULL`).Scan(&exists))
	require.True(t, exists, "the victim table survives")
	all, err := introspect.List(b.ctx, b.db, "cat")
	require.NoError(t, err)
	require.Len(t, all, len(names)+1)
}

// A definition and the live table made from it give the same findings.
func TestDefinitionAndLiveTableAgree(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.exec(t, entidadDDL)
	b.exec(t, `CREATE TABLE cat.cat_localidades (
	  id_localidades varchar(9) PRIMARY KEY,
	  id_entidad varchar(2) REFERENCES cat.cat_entidad (id_entidad),
	  clave_localidad varchar(4),
	  nombre text,
	  desc_corta varchar(40),
	  superficie double precision,
	  decreto date,
	  fecha_alta timestamptz NOT NULL DEFAULT now(),
	  fecha_modificacion timestamptz,
	  activo boolean NOT NULL DEFAULT true);
	COMMENT ON TABLE cat.cat_localidades IS 'Localidades.';
	COMMENT ON COLUMN cat.cat_localidades.id_localidades IS 'Clave de la localidad.';
	COMMENT ON COLUMN cat.cat_localidades.id_entidad IS 'Entidad.';
	COMMENT ON COLUMN cat.cat_localidades.clave_localidad IS 'Clave.';
	COMMENT ON COLUMN cat.cat_localidades.desc_corta IS 'Descripción corta.';
	COMMENT ON COLUMN cat.cat_localidades.superficie IS 'Kilómetros cuadrados.';
	COMMENT ON COLUMN cat.cat_localidades.decreto IS 'Fecha del decreto.';
	COMMENT ON COLUMN cat.cat_localidades.fecha_alta IS 'Alta del registro.';
	COMMENT ON COLUMN cat.cat_localidades.fecha_modificacion IS 'Última modificación.';
	COMMENT ON COLUMN cat.cat_localidades.activo IS 'Registro vigente.';`)
	def, err := tableschema.Parse(strings.NewReader(`{"name":"cat_localidades","description":"Localidades.","schema":{
	  "fields":[
	    {"name":"id_localidades","type":"varchar(9)","description":"Clave de la localidad."},
	    {"name":"id_entidad","type":"string","constraints":{"maxLength":2},"description":"Entidad."},
	    {"name":"clave_localidad","type":"string","constraints":{"maxLength":4},"description":"Clave."},
	    {"name":"nombre","type":"string"},
	    {"name":"desc_corta","type":"string","constraints":{"maxLength":40},"description":"Descripción corta."},
	    {"name":"superficie","type":"double precision","description":"Kilómetros cuadrados."},
	    {"name":"decreto","type":"date","description":"Fecha del decreto."},
	    {"name":"fecha_alta","type":"datetime","constraints":{"required":true},"description":"Alta del registro."},
	    {"name":"fecha_modificacion","type":"datetime","description":"Última modificación."},
	    {"name":"activo","type":"boolean","constraints":{"required":true},"description":"Registro vigente."}],
	  "primaryKey":"id_localidades",
	  "foreignKeys":[{"fields":"id_entidad","reference":{"resource":"cat_entidad","fields":"id_entidad"}}]}}`))
	require.NoError(t, err)
	fromDef := b.rules.CheckResource(&def)
	tb, err := introspect.Read(b.ctx, b.db, "cat", "cat_localidades")
	require.NoError(t, err)
	fromLive := b.rules.CheckTable(tb)
	type key struct{ rule, object string }
	keys := func(rep nomenclature.Report) []key {
		var out []key
		for _, f := range rep.Findings {
			out = append(out, key{f.Rule, f.Object})
		}
		return out
	}
	require.Equal(t, keys(fromDef), keys(fromLive))
	require.Equal(t, map[string]int{"NOM-T06": 1, "NOM-T07": 1, "NOM-C02": 1, "NOM-C05": 1, "NOM-C06": 1, "NOM-C09": 2, "NOM-C10": 1},
		counts(fromLive), "%+v", fromLive.Findings)
}

// The rule data knows every reserved word of the server the tests run on.
func TestReservedWordsMatchServer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rows, err := b.db.Query(b.ctx, `SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')`)
	require.NoError(t, err)
	words, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.NotEmpty(t, words)
	for _, w := range words {
		require.True(t, b.rules.IsReserved(w), "%q is reserved in PostgreSQL but not in schemas/nomenclature.yaml", w)
	}
}
