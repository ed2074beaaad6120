package portal

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCatalogPages(t *testing.T) {
	t.Parallel()
	a := setupAPI(t)
	tests := []struct {
		name        string
		path        string
		signedIn    bool
		status      int
		contains    []string
		notContains []string
	}{
		{"home lists published", "/", false, 200, []string{"Catálogos transversales", "dependencias", `href="/catalogos/municipio"`, "Municipios de Guanajuato", "250 registros"}, []string{"Borrador de municipios", "Registrar catálogo"}},
		{"home signed in lists drafts", "/", true, 200, []string{"Borrador de municipios", `<option value="borrador"`}, nil},
		{"search without accents", "/catalogos?q=poblacion", false, 200, []string{"1 catálogo encontrado", "Municipios de Guanajuato"}, nil},
		{"search by column", "/catalogos?q=fecha+corte", false, 200, []string{"1 catálogo encontrado"}, nil},
		{"search misses", "/catalogos?q=hospitales", false, 200, []string{"0 catálogos encontrados", "Ningún catálogo coincide"}, nil},
		{"filter by dependencia", "/catalogos?dependencia=SFIA", false, 200, []string{"Municipios de Guanajuato", `<option value="SFIA" selected>`}, nil},
		{"filter by keyword", "/catalogos?palabra=INEGI", false, 200, []string{"Municipios de Guanajuato"}, nil},
		{"filter by another keyword", "/catalogos?palabra=salud", false, 200, []string{"Ningún catálogo coincide"}, nil},
		{"catalog page", "/catalogos/municipio", false, 200, []string{
			`<h1 id="titulo">Municipios de Guanajuato</h1>`, "Dependencia SFIA (SFIA)", "Coordinación de Datos Maestros", "carga de archivo", "anual",
			"<code>id_municipio</code> <span class=\"insignia\">llave</span>", "Kilómetros cuadrados.", "<td>Abasolo</td>", `id="siguientes"`,
			`href="/api/v1/catalogs/municipio/download.csv?bom=1"`, `href="/api/v1/catalogs/municipio/download.parquet"`,
			`href="/catalogos/municipio/versiones/2"`, "/instructivo", "Versión vigente"}, []string{"Editar catálogo", "Ciclo de vida"}},
		{"catalog page rows filtered", "/catalogos/municipio?q=acambaro", false, 200, []string{"<td>Acámbaro</td>"}, []string{"<td>Abasolo</td>", `id="siguientes"`}},
		{"catalog page field filter", "/catalogos/municipio?campo=poblacion&valor=1002", false, 200, []string{"<td>Acámbaro</td>"}, nil},
		{"catalog page bad filter", "/catalogos/municipio?campo=poblacion&valor=mucha", false, 200, []string{`class="mensaje error"`, "«mucha»"}, nil},
		{"catalog page version 1", "/catalogos/municipio?version=1", false, 200, []string{"Registros de la versión 1", "<td>Municipio 0</td>"}, nil},
		{"draft hidden", "/catalogos/municipio-borrador", false, 404, []string{"No encontrado"}, nil},
		{"draft seen signed in", "/catalogos/municipio-borrador", true, 200, []string{"borrador", "Ciclo de vida"}, nil},
		{"what changed", "/catalogos/municipio/versiones/2", false, 200, []string{"1 altas · 1 cambios · 1 bajas", "<del>Municipio 0</del> → <ins>Abasolo</ins>", ">baja<", ">alta<"}, nil},
		{"what changed, bad version", "/catalogos/municipio/versiones/9", false, 404, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := a.get(t, tt.path, tt.signedIn)
			require.Equal(t, tt.status, res.StatusCode, body)
			require.Contains(t, res.Header.Get("Content-Type"), "text/html")
			for _, s := range tt.contains {
				require.Contains(t, body, s)
			}
			for _, s := range tt.notContains {
				require.NotContains(t, body, s)
			}
		})
	}
}

// The rows view pages by key through every row.
func TestCatalogPageRowsPaging(t *testing.T) {
	t.Parallel()
	a := setupAPI(t)
	next := regexp.MustCompile(`<a href="([^"]+)" id="siguientes">`)
	cell := regexp.MustCompile(`<tr><td>(11\d\d\d)</td>`)
	path, seen := "/catalogos/municipio", 0
	for range 10 {
		res, body := a.get(t, path, false)
		require.Equal(t, 200, res.StatusCode)
		seen += len(cell.FindAllString(body, -1))
		m := next.FindStringSubmatch(body)
		if m == nil {
			break
		}
		path = strings.ReplaceAll(m[1], "&amp;", "&")
	}
	require.Equal(t, 250, seen)
}
