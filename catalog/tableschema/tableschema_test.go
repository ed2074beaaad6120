package tableschema_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

func TestParseMunicipio(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../testdata/catalogs/cat_municipio.json")
	require.NoError(t, err)
	defer f.Close()
	r, err := tableschema.Parse(f)
	require.NoError(t, err)
	require.Equal(t, "cat_municipio", r.Name)
	require.Len(t, r.Schema.Fields, 5)
	require.Equal(t, tableschema.StringList{"id_municipio"}, r.Schema.PrimaryKey)
	require.Equal(t, "cat_entidad", r.Schema.ForeignKeys[0].Reference.Resource)
	require.Contains(t, r.Extra, "licenses")

	id, ok := r.Schema.Field("id_municipio")
	require.True(t, ok)
	typ, err := id.SQLType()
	require.NoError(t, err)
	require.Equal(t, "varchar(5)", typ.String())

	// written back, nothing is lost
	b, err := json.Marshal(r)
	require.NoError(t, err)
	require.Contains(t, string(b), `"licenses"`)
	again, err := tableschema.Parse(strings.NewReader(string(b)))
	require.NoError(t, err)
	require.Equal(t, r.Schema.Fields[0].Name, again.Schema.Fields[0].Name)
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		``:                          "vacía",
		`{"name": `:                 "no es JSON válido",
		`{"name": 5}`:               "tipo incorrecto en «name»",
		`{"schema": {"fields": 3}}`: "tipo incorrecto",
		`{"schema": {"fields": [], "primaryKey": 3}}`: "texto o una lista",
	} {
		_, err := tableschema.Parse(strings.NewReader(in))
		require.ErrorContains(t, err, want, in)
	}
}

func TestFieldSQLType(t *testing.T) {
	t.Parallel()
	n := func(i int) *int { return &i }
	tests := []struct {
		field tableschema.Field
		want  string
	}{
		{tableschema.Field{Type: "string"}, "text"},
		{tableschema.Field{}, "text"},
		{tableschema.Field{Type: "string", Constraints: tableschema.Constraints{MaxLength: n(150)}}, "varchar(150)"},
		{tableschema.Field{Type: "integer"}, "integer"},
		{tableschema.Field{Type: "integer", Constraints: tableschema.Constraints{Maximum: json.Number("10000000000")}}, "bigint"},
		{tableschema.Field{Type: "number"}, "numeric"},
		{tableschema.Field{Type: "boolean"}, "boolean"},
		{tableschema.Field{Type: "date"}, "date"},
		{tableschema.Field{Type: "datetime"}, "timestamptz"},
		{tableschema.Field{Type: "time"}, "time"},
		{tableschema.Field{Type: "object"}, "jsonb"},
		{tableschema.Field{Type: "year"}, "smallint"},
		{tableschema.Field{Type: "VARCHAR(20)"}, "varchar(20)"},
		{tableschema.Field{Type: "character varying(20)"}, "varchar(20)"},
		{tableschema.Field{Type: "numeric(12, 2)"}, "numeric(12,2)"},
		{tableschema.Field{Type: "decimal(5)"}, "numeric(5,0)"},
		{tableschema.Field{Type: "timestamp with time zone"}, "timestamptz"},
		{tableschema.Field{Type: "timestamp"}, "timestamp"},
		{tableschema.Field{Type: "timestamp(3) without time zone"}, "timestamp"},
		{tableschema.Field{Type: "int4"}, "integer"},
		{tableschema.Field{Type: "float"}, "double precision"},
		{tableschema.Field{Type: "double precision"}, "double precision"},
		{tableschema.Field{Type: "char"}, "char(1)"},
		{tableschema.Field{Type: "character(1)"}, "char(1)"},
		{tableschema.Field{Type: "money"}, "money"},
		{tableschema.Field{Type: "jsonb"}, "jsonb"},
		{tableschema.Field{Type: "text[]"}, "text[]"},
	}
	for _, tc := range tests {
		got, err := tc.field.SQLType()
		require.NoError(t, err, tc.field.Type)
		require.Equal(t, tc.want, got.String(), tc.field.Type)
	}
	for _, bad := range []string{"varchar(", "integer(5)", "1abc", "drop table x; --"} {
		_, err := tableschema.Field{Type: bad}.SQLType()
		require.Error(t, err, bad)
	}
}

func TestSQLTypeKinds(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"varchar(5)": "string", "text": "string", "char(1)": "string", "integer": "integer", "bigint": "integer",
		"numeric(10,2)": "number", "boolean": "boolean", "date": "date", "timestamptz": "datetime",
		"timestamp": "datetime", "jsonb": "object", "interval": "duration", "bytea": "any",
	} {
		typ, err := tableschema.ParseSQLType(in)
		require.NoError(t, err)
		require.Equal(t, want, typ.FrictionlessType(), in)
	}
}
