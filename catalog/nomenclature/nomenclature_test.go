package nomenclature_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

func rules(t testing.TB) *nomenclature.Rules {
	t.Helper()
	r, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	return r
}

func ptr(s string) *string { return &s }

// cleanTable is NOMENCLATURE.md's clean example as a live table.
func cleanTable() nomenclature.Table {
	return nomenclature.Table{
		Schema: "cat", Name: "cat_municipio",
		Comment:    "Municipios de México con su clave geoestadística del INEGI.",
		PrimaryKey: []string{"id_municipio"},
		Columns: []nomenclature.Column{
			{Name: "id_municipio", Type: "character varying(5)", NotNull: true, Comment: "Clave geoestadística completa."},
			{Name: "id_entidad", Type: "character varying(2)", NotNull: true, Comment: "Entidad federativa."},
			{Name: "clave_municipio", Type: "character varying(3)", NotNull: true, Comment: "Clave del municipio en su entidad."},
			{Name: "nombre", Type: "character varying(150)", NotNull: true, Comment: "Nombre oficial."},
			{Name: "poblacion_total", Type: "integer", Comment: "Población total, Censo 2020."},
			{Name: "fecha_alta", Type: "timestamp with time zone", NotNull: true, Default: ptr("now()"), Comment: "Alta del registro."},
			{Name: "fecha_modificacion", Type: "timestamp with time zone", Comment: "Última modificación del registro."},
			{Name: "activo", Type: "boolean", NotNull: true, Default: ptr("true"), Comment: "Si el registro está vigente."},
		},
		ForeignKeys: []nomenclature.ForeignKey{{Columns: []string{"id_entidad"}, RefSchema: "cat", RefTable: "cat_entidad",
			RefColumns: []string{"id_entidad"}, RefTypes: []string{"character varying(2)"}}},
		Checks: []nomenclature.Check{{Columns: []string{"clave_municipio"}, Expression: "CHECK (clave_municipio ~ '^[0-9]{3}$')"}},
	}
}

func TestCleanExamples(t *testing.T) {
	t.Parallel()
	r := rules(t)
	rep := r.CheckTable(cleanTable())
	require.True(t, rep.Valid)
	require.Empty(t, rep.Findings)
	require.NotNil(t, rep.Findings, "findings is [] in JSON, never null")
	b, err := json.Marshal(rep)
	require.NoError(t, err)
	require.JSONEq(t, `{"valid":true,"findings":[]}`, string(b))
}

func col(tb *nomenclature.Table, name string) *nomenclature.Column {
	for i := range tb.Columns {
		if tb.Columns[i].Name == name {
			return &tb.Columns[i]
		}
	}
	panic("no column " + name)
}

func addCol(tb *nomenclature.Table, name, typ string) {
	tb.Columns = append(tb.Columns, nomenclature.Column{Name: name, Type: typ, Comment: "Una columna de prueba."})
}

// Every rule on a live table: one change to the clean table, the findings
// of that rule it must give (0: the rule passes).
func TestRulesOnTables(t *testing.T) {
	t.Parallel()
	r := rules(t)
	tests := []struct {
		name       string
		mutate     func(tb *nomenclature.Table)
		rule       string
		want       int
		object     string // when set, the object of the first finding
		suggestion string // when set, the suggestion of the first finding
	}{
		{"T01 other schema", func(tb *nomenclature.Table) { tb.Schema = "public" }, "NOM-T01", 1, "public.cat_municipio", "cat.cat_municipio"},
		{"T01 in cat", func(tb *nomenclature.Table) {}, "NOM-T01", 0, "", ""},
		{"T02 no prefix", func(tb *nomenclature.Table) { tb.Name = "municipio"; tb.PrimaryKey = []string{"id_municipio"} }, "NOM-T02", 1, "", "cat_municipio"},
		{"T02 digit first", func(tb *nomenclature.Table) { tb.Name = "cat_1municipio" }, "NOM-T02", 1, "", ""},
		{"T02 hyphen", func(tb *nomenclature.Table) { tb.Name = "cat_tipo-vialidad" }, "NOM-T02", 1, "", "cat_tipo_vialidad"},
		{"T02 ok with digits", func(tb *nomenclature.Table) { tb.Name = "cat_censo_2020"; tb.PrimaryKey = nil }, "NOM-T02", 0, "", ""},
		{"T03 too long", func(tb *nomenclature.Table) { tb.Name = "cat_" + strings.Repeat("municipio_", 7) }, "NOM-T03", 1, "", ""},
		{"T03 exactly 63", func(tb *nomenclature.Table) { tb.Name = "cat_" + strings.Repeat("a", 59) }, "NOM-T03", 0, "", ""},
		{"T04 accent", func(tb *nomenclature.Table) { tb.Name = "cat_año" }, "NOM-T04", 1, "", "cat_anio"},
		{"T04 space and capitals", func(tb *nomenclature.Table) { tb.Name = "Cat_Tipo Vialidad" }, "NOM-T04", 1, "", "cat_tipo_vialidad"},
		{"T04 Cyrillic look-alike", func(tb *nomenclature.Table) { tb.Name = "cat_municipiо" }, "NOM-T04", 1, "", "cat_municipio"},
		{"T04 ascii", func(tb *nomenclature.Table) {}, "NOM-T04", 0, "", ""},
		{"T05 reserved entity", func(tb *nomenclature.Table) { tb.Name = "cat_user" }, "NOM-T05", 1, "", ""},
		{"T05 double underscore", func(tb *nomenclature.Table) { tb.Name = "cat_tipo__vialidad" }, "NOM-T05", 1, "", "cat_tipo_vialidad"},
		{"T05 trailing underscore", func(tb *nomenclature.Table) { tb.Name = "cat_tipo_" }, "NOM-T05", 1, "", "cat_tipo"},
		{"T05 reserved word inside is fine", func(tb *nomenclature.Table) { tb.Name = "cat_order_item" }, "NOM-T05", 0, "", ""},
		{"T06 no comment", func(tb *nomenclature.Table) { tb.Comment = "" }, "NOM-T06", 1, "", ""},
		{"T06 short comment", func(tb *nomenclature.Table) { tb.Comment = "Municipios de Gto." }, "NOM-T06", 1, "", ""},
		{"T06 20 characters with accents", func(tb *nomenclature.Table) { tb.Comment = "Catálogo de términos" }, "NOM-T06", 0, "", ""},
		{"T07 plural in s", func(tb *nomenclature.Table) { tb.Name = "cat_municipios" }, "NOM-T07", 1, "", "cat_municipio"},
		{"T07 plural in es", func(tb *nomenclature.Table) { tb.Name = "cat_entidades" }, "NOM-T07", 1, "", "cat_entidad"},
		{"T07 last word plural", func(tb *nomenclature.Table) { tb.Name = "cat_tipo_vialidades" }, "NOM-T07", 1, "", "cat_tipo_vialidad"},
		{"T07 known irregular", func(tb *nomenclature.Table) { tb.Name = "cat_paises" }, "NOM-T07", 1, "", "cat_pais"},
		{"T07 singular ending in s", func(tb *nomenclature.Table) { tb.Name = "cat_pais" }, "NOM-T07", 0, "", ""},
		{"T07 singular estatus", func(tb *nomenclature.Table) { tb.Name = "cat_estatus" }, "NOM-T07", 0, "", ""},
		{"T07 singular", func(tb *nomenclature.Table) {}, "NOM-T07", 0, "", ""},

		{"C01 capitals", func(tb *nomenclature.Table) { col(tb, "nombre").Name = "Nombre" }, "NOM-C01", 1, "cat.cat_municipio.Nombre", "nombre"},
		{"C01 camelCase", func(tb *nomenclature.Table) { col(tb, "nombre").Name = "nombreOficial" }, "NOM-C01", 1, "", "nombre_oficial"},
		{"C01 accent", func(tb *nomenclature.Table) { col(tb, "nombre").Name = "descripción" }, "NOM-C01", 1, "", "descripcion"},
		{"C01 too long", func(tb *nomenclature.Table) { col(tb, "nombre").Name = strings.Repeat("nombre_", 10) + "x" }, "NOM-C01", 1, "", ""},
		{"C01 digit first", func(tb *nomenclature.Table) { addCol(tb, "2020_poblacion", "integer") }, "NOM-C01", 1, "", ""},
		{"C01 ok", func(tb *nomenclature.Table) {}, "NOM-C01", 0, "", ""},
		{"C02 missing", func(tb *nomenclature.Table) { col(tb, "nombre").Comment = "" }, "NOM-C02", 1, "cat.cat_municipio.nombre", ""},
		{"C02 too short", func(tb *nomenclature.Table) { col(tb, "nombre").Comment = "Nom." }, "NOM-C02", 1, "", ""},
		{"C02 control columns need one too", func(tb *nomenclature.Table) { col(tb, "activo").Comment = " " }, "NOM-C02", 1, "", ""},
		{"C02 five characters", func(tb *nomenclature.Table) { col(tb, "nombre").Comment = "Año 1" }, "NOM-C02", 0, "", ""},
		{"C03 no primary key", func(tb *nomenclature.Table) { tb.PrimaryKey = nil }, "NOM-C03", 1, "cat.cat_municipio", "id_municipio"},
		{"C03 composite", func(tb *nomenclature.Table) { tb.PrimaryKey = []string{"id_municipio", "id_entidad"} }, "NOM-C03", 1, "cat.cat_municipio", "id_municipio"},
		{"C03 wrong name", func(tb *nomenclature.Table) {
			col(tb, "clave_municipio").Name = "clave"
			tb.PrimaryKey = []string{"clave"}
		}, "NOM-C03", 1, "cat.cat_municipio.clave", "id_municipio"},
		{"C03 ok", func(tb *nomenclature.Table) {}, "NOM-C03", 0, "", ""},
		{"C04 reference misnamed", func(tb *nomenclature.Table) {
			col(tb, "id_entidad").Name = "entidad"
			tb.ForeignKeys[0].Columns = []string{"entidad"}
		}, "NOM-C04", 1, "cat.cat_municipio.entidad", "id_entidad"},
		{"C04 id_ without foreign key", func(tb *nomenclature.Table) { tb.ForeignKeys = nil }, "NOM-C04", 1, "cat.cat_municipio.id_entidad", ""},
		{"C04 other type than the key", func(tb *nomenclature.Table) { tb.ForeignKeys[0].RefTypes = []string{"character varying(3)"} }, "NOM-C04", 1, "", ""},
		{"C04 points at a column that is not the key", func(tb *nomenclature.Table) { tb.ForeignKeys[0].RefColumns = []string{"clave_entidad"} }, "NOM-C04", 1, "", ""},
		{"C04 qualified reference", func(tb *nomenclature.Table) {
			col(tb, "id_entidad").Name = "id_entidad_origen"
			tb.ForeignKeys[0].Columns = []string{"id_entidad_origen"}
		}, "NOM-C04", 0, "", ""},
		{"C04 multi-column foreign key", func(tb *nomenclature.Table) {
			tb.ForeignKeys[0].Columns = []string{"id_entidad", "clave_municipio"}
		}, "NOM-C04", 2, "", ""},
		{"C04 ok", func(tb *nomenclature.Table) {}, "NOM-C04", 0, "", ""},
		{"C05 fecha_ not a date", func(tb *nomenclature.Table) { addCol(tb, "fecha_decreto", "character varying(10)") }, "NOM-C05", 1, "", ""},
		{"C05 date without fecha_", func(tb *nomenclature.Table) { addCol(tb, "decreto", "date") }, "NOM-C05", 1, "", "fecha_decreto"},
		{"C05 boolean without prefix", func(tb *nomenclature.Table) { addCol(tb, "capital", "boolean") }, "NOM-C05", 1, "", "es_capital"},
		{"C05 es_ not boolean", func(tb *nomenclature.Table) { addCol(tb, "es_capital", "integer") }, "NOM-C05", 1, "", ""},
		{"C05 clave_ integer", func(tb *nomenclature.Table) { col(tb, "clave_municipio").Type = "integer" }, "NOM-C05", 1, "", ""},
		{"C05 cve_ integer", func(tb *nomenclature.Table) { addCol(tb, "cve_loc", "smallint") }, "NOM-C05", 1, "", ""},
		{"C05 num_ text", func(tb *nomenclature.Table) { addCol(tb, "num_viviendas", "text") }, "NOM-C05", 1, "", ""},
		{"C05 poblacion_ text", func(tb *nomenclature.Table) { col(tb, "poblacion_total").Type = "text" }, "NOM-C05", 1, "", ""},
		{"C05 good prefixes", func(tb *nomenclature.Table) {
			addCol(tb, "fecha_decreto", "date")
			addCol(tb, "es_capital", "boolean")
			addCol(tb, "tiene_costa", "boolean")
			addCol(tb, "total_viviendas", "bigint")
			addCol(tb, "num_localidades", "numeric(8,0)")
		}, "NOM-C05", 0, "", ""},
		{"C06 money", func(tb *nomenclature.Table) { addCol(tb, "presupuesto", "money") }, "NOM-C06", 1, "", "numeric(14,2)"},
		{"C06 double", func(tb *nomenclature.Table) { addCol(tb, "superficie", "double precision") }, "NOM-C06", 1, "", "numeric"},
		{"C06 jsonb", func(tb *nomenclature.Table) { addCol(tb, "extra", "jsonb") }, "NOM-C06", 1, "", "text"},
		{"C06 timestamp without zone", func(tb *nomenclature.Table) { addCol(tb, "fecha_decreto", "timestamp without time zone") }, "NOM-C06", 1, "", "timestamptz"},
		{"C06 char", func(tb *nomenclature.Table) { addCol(tb, "tipo", "character(2)") }, "NOM-C06", 1, "", "varchar(2)"},
		{"C06 unknown type", func(tb *nomenclature.Table) { addCol(tb, "forma", `public."Forma"`) }, "NOM-C06", 1, "", ""},
		{"C06 allowed", func(tb *nomenclature.Table) {
			addCol(tb, "superficie", "numeric(12,2)")
			addCol(tb, "notas", "text")
			addCol(tb, "orden", "smallint")
		}, "NOM-C06", 0, "", ""},
		{"C07 missing", func(tb *nomenclature.Table) { tb.Columns = tb.Columns[:5] }, "NOM-C07", 1, "cat.cat_municipio", ""},
		{"C07 activo wrong type", func(tb *nomenclature.Table) { col(tb, "activo").Type = "smallint" }, "NOM-C07", 1, "cat.cat_municipio.activo", ""},
		{"C07 activo nullable", func(tb *nomenclature.Table) { col(tb, "activo").NotNull = false }, "NOM-C07", 1, "", ""},
		{"C07 activo without default", func(tb *nomenclature.Table) { col(tb, "activo").Default = nil }, "NOM-C07", 1, "", ""},
		{"C07 fecha_alta as date", func(tb *nomenclature.Table) { col(tb, "fecha_alta").Type = "date" }, "NOM-C07", 1, "cat.cat_municipio.fecha_alta", ""},
		{"C07 fecha_alta nullable", func(tb *nomenclature.Table) { col(tb, "fecha_alta").NotNull = false }, "NOM-C07", 1, "", ""},
		{"C07 fecha_modificacion may be null", func(tb *nomenclature.Table) { col(tb, "fecha_modificacion").NotNull = true }, "NOM-C07", 0, "", ""},
		{"C08 reserved", func(tb *nomenclature.Table) { addCol(tb, "order", "integer") }, "NOM-C08", 1, "cat.cat_municipio.order", ""},
		{"C08 double underscore", func(tb *nomenclature.Table) { addCol(tb, "nombre__corto", "character varying(20)") }, "NOM-C08", 1, "", "nombre_corto"},
		{"C08 trailing underscore", func(tb *nomenclature.Table) { addCol(tb, "nombre_", "character varying(20)") }, "NOM-C08", 1, "", "nombre"},
		{"C08 repeated case-insensitively", func(tb *nomenclature.Table) { addCol(tb, "NOMBRE", "character varying(20)") }, "NOM-C08", 1, "cat.cat_municipio.NOMBRE", ""},
		{"C08 ok", func(tb *nomenclature.Table) {}, "NOM-C08", 0, "", ""},
		{"C09 text without length", func(tb *nomenclature.Table) { col(tb, "nombre").Type = "text" }, "NOM-C09", 1, "cat.cat_municipio.nombre", ""},
		{"C09 clave without pattern", func(tb *nomenclature.Table) { tb.Checks = nil }, "NOM-C09", 1, "cat.cat_municipio.clave_municipio", ""},
		{"C09 both on one column is one finding", func(tb *nomenclature.Table) {
			tb.Checks = nil
			col(tb, "clave_municipio").Type = "text"
		}, "NOM-C09", 1, "", ""},
		{"C09 ok", func(tb *nomenclature.Table) {}, "NOM-C09", 0, "", ""},
		{"C10 desc", func(tb *nomenclature.Table) { addCol(tb, "desc_corta", "character varying(50)") }, "NOM-C10", 1, "", "descripcion_corta"},
		{"C10 nom", func(tb *nomenclature.Table) { addCol(tb, "nom_mpio", "character varying(50)") }, "NOM-C10", 1, "", "nombre_municipio"},
		{"C10 num_ allowed as prefix", func(tb *nomenclature.Table) { addCol(tb, "num_localidades", "integer") }, "NOM-C10", 0, "", ""},
		{"C10 num elsewhere", func(tb *nomenclature.Table) { addCol(tb, "total_num", "integer") }, "NOM-C10", 1, "", "total_numero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb := cleanTable()
			tt.mutate(&tb)
			rep := r.CheckTable(tb)
			var got []nomenclature.Finding
			for _, f := range rep.Findings {
				if f.Rule == tt.rule {
					got = append(got, f)
				}
			}
			require.Len(t, got, tt.want, "findings: %+v", rep.Findings)
			if tt.want == 0 {
				return
			}
			f := got[0]
			require.NotEmpty(t, f.Message)
			if tt.object != "" {
				require.Equal(t, tt.object, f.Object)
			}
			if tt.suggestion != "" {
				require.Equal(t, tt.suggestion, f.Suggestion, f.Message)
			}
			wantSev := nomenclature.SeverityError
			if tt.rule == "NOM-T07" || tt.rule == "NOM-C09" || tt.rule == "NOM-C10" {
				wantSev = nomenclature.SeverityWarning
			}
			require.Equal(t, wantSev, f.Severity)
			require.Equal(t, rep.Valid, rep.Errors() == 0)
		})
	}
}

func parse(t *testing.T, js string) *tableschema.Resource {
	t.Helper()
	res, err := tableschema.Parse(strings.NewReader(js))
	require.NoError(t, err)
	return &res
}

// Definitions: the same rules, with what only a definition has.
func TestRulesOnDefinitions(t *testing.T) {
	t.Parallel()
	r := rules(t)
	const head = `"title":"T","description":"Un catálogo de prueba bien descrito."`
	tests := []struct {
		name  string
		def   string
		rules map[string]int
	}{
		{"control columns may be left out", `{"name":"cat_sexo",` + head + `,"schema":{"fields":[
			{"name":"id_sexo","type":"string","description":"Clave del sexo.","constraints":{"maxLength":1}}],"primaryKey":"id_sexo"}}`,
			map[string]int{}},
		{"schema in the name", `{"name":"public.cat_sexo",` + head + `,"schema":{"fields":[
			{"name":"id_sexo","type":"string","description":"Clave del sexo.","constraints":{"maxLength":1}}],"primaryKey":"id_sexo"}}`,
			map[string]int{"NOM-T01": 1}},
		{"string without maxLength, clave without pattern", `{"name":"cat_sexo",` + head + `,"schema":{"fields":[
			{"name":"id_sexo","type":"string","description":"Clave del sexo."},
			{"name":"clave_sexo","type":"string","description":"Clave INEGI.","constraints":{"maxLength":1}}],"primaryKey":"id_sexo"}}`,
			map[string]int{"NOM-C09": 2}},
		{"frictionless types that are not allowed", `{"name":"cat_sexo",` + head + `,"schema":{"fields":[
			{"name":"id_sexo","type":"integer","description":"Clave del sexo."},
			{"name":"datos","type":"object","description":"Datos adicionales."},
			{"name":"hora","type":"time","description":"Hora de algo."},
			{"name":"superficie","type":"float8","description":"Superficie."}],"primaryKey":"id_sexo"}}`,
			map[string]int{"NOM-C06": 3}},
		{"control column with another type", `{"name":"cat_sexo",` + head + `,"schema":{"fields":[
			{"name":"id_sexo","type":"integer","description":"Clave del sexo."},
			{"name":"activo","type":"string","description":"Vigente.","constraints":{"maxLength":1}}],"primaryKey":"id_sexo"}}`,
			map[string]int{"NOM-C07": 1}},
		{"self reference", `{"name":"cat_region",` + head + `,"schema":{"fields":[
			{"name":"id_region","type":"integer","description":"Clave de la región."},
			{"name":"id_region_padre","type":"integer","description":"Región que la contiene."}],"primaryKey":"id_region",
			"foreignKeys":[{"fields":"id_region_padre","reference":{"resource":"","fields":"id_region"}}]}}`,
			map[string]int{}},
		{"self reference of another type", `{"name":"cat_region",` + head + `,"schema":{"fields":[
			{"name":"id_region","type":"integer","description":"Clave de la región."},
			{"name":"id_region_padre","type":"string","description":"Región que la contiene.","constraints":{"maxLength":3}}],"primaryKey":"id_region",
			"foreignKeys":[{"fields":"id_region_padre","reference":{"resource":"","fields":"id_region"}}]}}`,
			map[string]int{"NOM-C04": 1}},
		{"repeated field", `{"name":"cat_sexo",` + head + `,"schema":{"fields":[
			{"name":"id_sexo","type":"integer","description":"Clave del sexo."},
			{"name":"nombre","type":"string","description":"Nombre del sexo.","constraints":{"maxLength":20}},
			{"name":"nombre","type":"string","description":"Nombre del sexo.","constraints":{"maxLength":20}}],"primaryKey":"id_sexo"}}`,
			map[string]int{"NOM-C08": 1}},
		{"empty definition", `{"name":"","schema":{"fields":[]}}`,
			map[string]int{"NOM-T02": 1, "NOM-T06": 1, "NOM-C03": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := r.CheckResource(parse(t, tt.def))
			got := map[string]int{}
			for _, f := range rep.Findings {
				got[f.Rule]++
			}
			require.Equal(t, tt.rules, got, "%+v", rep.Findings)
		})
	}
}

func TestFindingsSorted(t *testing.T) {
	t.Parallel()
	tb := cleanTable()
	tb.Comment = ""
	col(&tb, "nombre").Comment = ""
	addCol(&tb, "Zeta", "money")
	rep := rules(t).CheckTable(tb)
	for i := 1; i < len(rep.Findings); i++ {
		a, b := rep.Findings[i-1], rep.Findings[i]
		require.True(t, a.Object < b.Object || (a.Object == b.Object && a.Rule <= b.Rule), "%v before %v", a, b)
	}
}

func TestTransliterate(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"Tipo de Vialidad":     "tipo_de_vialidad",
		"Cat_Tipo Vialidad":    "cat_tipo_vialidad",
		"cat_año":              "cat_anio",
		"AÑO":                  "anio",
		"Número de Habitantes": "numero_de_habitantes",
		"fechaAlta":            "fecha_alta",
		"IDMunicipio":          "id_municipio",
		"  --x--  ":            "x",
		"cat_municipiо":        "cat_municipio", // Cyrillic о
		"ｃａｔ＿ｍｕｎｉｃｉｐｉｏ":            "cat_municipio", // fullwidth
		`x"; DROP TABLE y; --`:     "x_drop_table_y",
		"pingüino":                 "pinguino",
		"":                         "",
		"中文":                       "",
		"poblacion_total_2020":     "poblacion_total_2020",
		"Año de Publicación (DOF)": "anio_de_publicacion_dof",
	}
	for in, want := range tests {
		require.Equal(t, want, nomenclature.Transliterate(in), "Transliterate(%q)", in)
	}
}

func TestRulesFile(t *testing.T) {
	t.Parallel()
	_, err := nomenclature.ParseRules([]byte("schema: cat\nsquema: x\n"))
	require.ErrorContains(t, err, "squema", "unknown keys are an error")
	_, err = nomenclature.ParseRules([]byte("schema: cat\ntable_prefix: cat_\nkey_prefix: id_\nmax_identifier_bytes: 99\nallowed_types: [text]\n"))
	require.ErrorContains(t, err, "max_identifier_bytes")
	_, err = nomenclature.ParseRules([]byte("schema: cat\ntable_prefix: cat_\nkey_prefix: id_\nmax_identifier_bytes: 63\nallowed_types: [text]\nreserved_words: [select, \"\"]\n"))
	require.ErrorContains(t, err, "reserved_words[1]", "an empty word is caught")
	_, err = nomenclature.LoadRules("/no/such/file.yaml")
	require.Error(t, err)

	def := rules(t)
	y, err := def.YAML()
	require.NoError(t, err)
	again, err := nomenclature.ParseRules(y)
	require.NoError(t, err, "written rules read back")
	require.Equal(t, def.ReservedWords, again.ReservedWords)

	// A rules file changes the checks: another prefix.
	custom, err := nomenclature.ParseRules([]byte(strings.Replace(string(y), "table_prefix: cat_", "table_prefix: ct_", 1)))
	require.NoError(t, err)
	tb := cleanTable()
	tb.Name = "ct_municipio"
	tb.ForeignKeys[0].RefTable = "ct_entidad"
	require.True(t, custom.CheckTable(tb).Valid)
	require.False(t, def.CheckTable(tb).Valid)
}

func TestCatalogListsEveryRule(t *testing.T) {
	t.Parallel()
	cat := rules(t).Catalog()
	require.Len(t, cat, 17)
	seen := map[string]bool{}
	for _, ri := range cat {
		require.NotEmpty(t, ri.Summary)
		require.False(t, seen[ri.ID])
		seen[ri.ID] = true
	}
}
