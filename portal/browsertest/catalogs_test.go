package browsertest_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/portal/account"
	"github.com/dgtit-gto/gobdatos/portal/browsertest"
)

const vialidadDef = `{"name": "cat_tipo_vialidad", "title": "Tipos de vialidad",
 "description": "Tipos de vialidad del domicilio geográfico: calle, avenida, callejón, andador.",
 "schema": {"fields": [
  {"name": "id_tipo_vialidad", "type": "integer", "description": "Clave del tipo de vialidad.", "constraints": {"required": true}},
  {"name": "descripcion", "type": "string", "description": "Nombre del tipo de vialidad.", "constraints": {"required": true, "maxLength": 60}}
 ], "primaryKey": ["id_tipo_vialidad"]}}`

// A Publicador registers a catalog, uploads a file with an error and reads
// the report, fixes it and sends the catalog to review; an Administrador
// approves and publishes it; the public finds it searching without accents
// and downloads it.
func TestCatalogLifeInTheBrowser(t *testing.T) {
	t.Parallel()
	env := browsertest.New(t)
	dep := env.Dependencia(t, "SICOM", "Secretaría de Infraestructura, Conectividad y Movilidad")
	env.User(t, "publica", account.Publicador, dep)
	env.User(t, "revisa", account.Admin, nil)
	dir := t.TempDir()
	file := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
		return p
	}

	pub := env.Browser(t)
	require.Equal(t, 200, pub.SignIn("publica", browsertest.Password("publica")))
	require.Equal(t, 200, pub.Click("#registrar-catalogo"))
	require.Equal(t, "/catalogos/nuevo", pub.Path())
	pub.Fill("#definicion", vialidadDef)
	pub.Fill("#responsable", "Coordinación de Datos Maestros")
	pub.Fill("#palabras", "domicilio, vialidad")
	require.Equal(t, 200, pub.Click("#revisar"))
	require.Contains(t, pub.Text("#hallazgos"), "cumple la nomenclatura DAID")
	require.Equal(t, 200, pub.Click("#guardar"))
	require.Equal(t, "/catalogos/tipo-vialidad/editar?guardado=1", pub.Path())
	require.Contains(t, pub.Text("#guardado"), "Los cambios se guardaron")

	// A file with an error: the load is rejected and the report says where.
	require.Equal(t, 200, pub.Open("/catalogos/tipo-vialidad/cargar"))
	pub.Upload("#archivo", file("vialidades.csv", "id_tipo_vialidad,descripcion\n1,Calle\ndos,Avenida\n3,Callejón\n"))
	require.Equal(t, 200, pub.Click("#cargar"))
	pub.Wait("#version")
	require.Equal(t, "ninguna", pub.Text("#version"))
	report := pub.Text("#reporte")
	require.Contains(t, report, "id_tipo_vialidad")
	require.Contains(t, report, "dos")

	// Fixed, it publishes version 1 of the draft's data.
	require.Equal(t, 200, pub.Open("/catalogos/tipo-vialidad/cargar"))
	pub.Upload("#archivo", file("vialidades-bien.csv", "id_tipo_vialidad,descripcion\n1,Calle\n2,Avenida\n3,Callejón\n"))
	require.Equal(t, 200, pub.Click("#cargar"))
	pub.Wait("#version")
	require.Equal(t, "1", pub.Text("#version"))

	require.Equal(t, 200, pub.Open("/catalogos/tipo-vialidad/editar"))
	require.Equal(t, 200, pub.Click("#accion-enviar"))
	require.Contains(t, pub.Text("#estado"), "en revisión")

	adm := env.Browser(t)
	require.Equal(t, 200, adm.SignIn("revisa", browsertest.Password("revisa")))
	require.Equal(t, 200, adm.Open("/catalogos/tipo-vialidad/editar"))
	require.Equal(t, 200, adm.Click("#accion-aprobar"))
	require.Equal(t, 200, adm.Open("/catalogos/tipo-vialidad/editar"))
	adm.Fill("#observaciones", "Revisado con la Coordinación de Datos Maestros.")
	require.Equal(t, 200, adm.Click("#accion-publicar"))
	require.Contains(t, adm.Text("#estado"), "publicado")

	// The public finds it without accents and downloads it.
	anon := env.Browser(t)
	require.Equal(t, 200, anon.Open("/"))
	anon.Fill("#q", "callejon")
	require.Equal(t, 200, anon.Click("#buscar button[type=submit]"))
	require.Contains(t, anon.Text("#resultados"), "Tipos de vialidad")
	require.Equal(t, 200, anon.Click(`#resultados a[href="/catalogos/tipo-vialidad"]`))
	require.Contains(t, anon.Text("#tabla-registros"), "Callejón")
	href := anon.Attr("#descargas a", "href")
	require.Equal(t, "/api/v1/catalogs/tipo-vialidad/download.csv", href)
	res, err := http.Get(env.URL + href)
	require.NoError(t, err)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "id_tipo_vialidad,descripcion\n1,Calle\n2,Avenida\n3,Callejón\n", string(body))
}
