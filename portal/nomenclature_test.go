package portal

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

func TestNomenclatureAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	municipio, err := os.ReadFile("../testdata/catalogs/cat_municipio.json")
	require.NoError(t, err)
	const bad = `{"name":"Cat_Municipios","schema":{"fields":[{"name":"ID","type":"string"},{"name":"fechaAlta","type":"date"}],"primaryKey":"ID"}}`
	tests := []struct {
		name, method, path, body string
		status                   int
		contentType              string
		contains, notContains    []string
	}{
		{"clean definition, anonymous, no CSRF token", "POST", "/api/v1/nomenclature/lint", string(municipio), 200, "application/json",
			[]string{`"valid":true`, `"findings":[]`}, nil},
		{"findings are a 200", "POST", "/api/v1/nomenclature/lint", bad, 200, "application/json",
			[]string{`"valid":false`, `"rule":"NOM-T02"`, `"severity":"error"`, `"object":"cat.Cat_Municipios"`, `"suggestion":"cat_municipio"`,
				`"rule":"NOM-T07"`, `"severity":"warning"`, `"object":"cat.Cat_Municipios.fechaAlta"`}, nil},
		{"not JSON", "POST", "/api/v1/nomenclature/lint", `{"name":`, 422, "application/problem+json",
			[]string{`"code":"definicion_invalida"`, "no es JSON válido"}, nil},
		{"JSON but not a definition", "POST", "/api/v1/nomenclature/lint", `{"hola":"mundo"}`, 422, "application/problem+json",
			[]string{`"code":"definicion_invalida"`, "schema.fields"}, nil},
		{"an array", "POST", "/api/v1/nomenclature/lint", `[1,2]`, 422, "application/problem+json", []string{`"code":"definicion_invalida"`}, nil},
		{"empty body", "POST", "/api/v1/nomenclature/lint", ``, 422, "application/problem+json", []string{"vacía"}, nil},
		{"wrong method", "GET", "/api/v1/nomenclature/lint", ``, 405, "application/problem+json", nil, nil},
		{"rules", "GET", "/api/v1/nomenclature/rules", ``, 200, "application/json",
			[]string{`"id":"NOM-T01"`, `"id":"NOM-C10"`, `"table_prefix":"cat_"`}, nil},
		{"documented", "GET", "/api/v1/openapi.json", ``, 200, "application/json",
			[]string{`"/api/v1/nomenclature/lint"`, `"postNomenclatureLint"`, `"/api/v1/nomenclature/rules"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := b.do(t, tt.method, tt.path, strings.NewReader(tt.body), "Content-Type", "application/json")
			require.Equal(t, tt.status, res.StatusCode, body)
			require.Contains(t, res.Header.Get("Content-Type"), tt.contentType)
			for _, c := range tt.contains {
				require.Contains(t, body, c)
			}
			for _, c := range tt.notContains {
				require.NotContains(t, body, c)
			}
		})
	}

	// The answer is exactly the Report, and the same as the CLI's check.
	_, body := b.do(t, "POST", "/api/v1/nomenclature/lint", strings.NewReader(bad))
	var got nomenclature.Report
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	rules, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	res, err := tableschemaParse(bad)
	require.NoError(t, err)
	require.Equal(t, rules.CheckResource(&res), got)
}

// Options.Nomenclature replaces the built-in rules.
func TestNomenclatureAPIOtherRules(t *testing.T) {
	t.Parallel()
	def, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	y, err := def.YAML()
	require.NoError(t, err)
	custom, err := nomenclature.ParseRules([]byte(strings.Replace(string(y), "table_prefix: cat_", "table_prefix: tc_", 1)))
	require.NoError(t, err)
	b := setup(t, Options{Nomenclature: custom})
	_, body := b.do(t, "POST", "/api/v1/nomenclature/lint", strings.NewReader(
		`{"name":"tc_sexo","description":"Sexo de las personas según INEGI.","schema":{"fields":[{"name":"id_sexo","type":"varchar(1)","description":"Clave del sexo."}],"primaryKey":"id_sexo"}}`))
	require.JSONEq(t, `{"valid":true,"findings":[]}`, body)
}

func tableschemaParse(s string) (tableschema.Resource, error) {
	return tableschema.Parse(strings.NewReader(s))
}
