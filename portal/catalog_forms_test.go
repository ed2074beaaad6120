package portal

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

// form writes a multipart form: fields, and files as name → (filename, content).
func form(t *testing.T, fields map[string]string, files map[string][2]string) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	for k, f := range files {
		fw, err := w.CreateFormFile(k, f[0])
		require.NoError(t, err)
		_, err = fw.Write([]byte(f[1]))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return &body, w.FormDataContentType()
}

const tipoVialidadDef = `{"name": "cat_tipo_vialidad", "title": "Tipos de vialidad", "description": "Tipos de vialidad del domicilio geográfico (calle, avenida, callejón…).",
 "schema": {"fields": [
  {"name": "id_tipo_vialidad", "type": "integer", "description": "Clave del tipo de vialidad.", "constraints": {"required": true}},
  {"name": "descripcion", "type": "string", "description": "Nombre del tipo de vialidad.", "constraints": {"required": true, "maxLength": 60}}
 ], "primaryKey": ["id_tipo_vialidad"]}}`

// The steward's path through the pages: register a catalog (nomenclature
// findings shown first), load a file with an error and read the report,
// load it fixed, send it to review; an administrator approves and
// publishes; the public finds it without accents and downloads it.
func TestStewardPages(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	dep := b.dependencia(t, "SICOM")
	b.user(t, "publica", account.Publicador, dep)
	b.user(t, "revisa", account.Admin, nil)
	pub := b.client(t)
	pub.signIn("publica", "publica-clave-larga")

	res, body := pub.do("GET", "/catalogos/nuevo", nil)
	require.Equal(t, 200, res.StatusCode, body)
	require.Contains(t, body, "Tabla del Catálogo")
	require.Contains(t, body, "Dependencia SICOM")

	post := func(path string, fields map[string]string, files map[string][2]string) (*http.Response, string) {
		fields["csrf"] = pub.csrf()
		body, ct := form(t, fields, files)
		return pub.do("POST", path, body, "Content-Type", ct)
	}
	bad := strings.Replace(tipoVialidadDef, `"descripcion"`, `"DescripcionLarga"`, 1)
	res, body = post("/catalogos/nuevo", map[string]string{"accion": "revisar", "definicion": bad, "dependencia": itoa64(*dep)}, nil)
	require.Equal(t, 200, res.StatusCode, body)
	require.Contains(t, body, "no cumple la nomenclatura DAID")
	require.Contains(t, body, "DescripcionLarga")

	res, body = post("/catalogos/nuevo", map[string]string{"accion": "guardar", "dependencia": itoa64(*dep),
		"responsable": "Coordinación de Datos Maestros", "palabras": "domicilio, vialidad", "mecanismo": "carga de archivo"},
		map[string][2]string{"archivo_definicion": {"def.json", tipoVialidadDef}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	require.Equal(t, "/catalogos/tipo-vialidad/editar?guardado=1", res.Header.Get("Location"))
	res, body = pub.do("GET", "/catalogos/tipo-vialidad/editar?guardado=1", nil)
	require.Equal(t, 200, res.StatusCode, body)
	require.Contains(t, body, "Los cambios se guardaron.")
	require.Contains(t, body, `id="accion-enviar"`)

	// A load with an error: rejected whole, the report says row, field and value.
	res, body = post("/catalogos/tipo-vialidad/cargar", map[string]string{}, map[string][2]string{
		"archivo": {"vialidades.csv", "id_tipo_vialidad,descripcion\n1,Calle\ndos,Avenida\n3,Callejón\n"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	runPage := res.Header.Get("Location")
	require.Regexp(t, `^/catalogos/tipo-vialidad/cargas/\d+$`, runPage)
	body = waitPage(t, pub, runPage)
	require.Contains(t, body, `id="reporte"`)
	require.Regexp(t, regexp.MustCompile(`<td>3</td><td>id_tipo_vialidad</td><td><code>dos</code></td>`), body)
	require.Contains(t, body, `<dd id="version">ninguna</dd>`)

	res, body = post("/catalogos/tipo-vialidad/cargar", map[string]string{}, map[string][2]string{
		"archivo": {"vialidades.csv", "id_tipo_vialidad,descripcion\n1,Calle\n2,Avenida\n3,Callejón\n"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	body = waitPage(t, pub, res.Header.Get("Location"))
	require.Contains(t, body, `<dd id="version">1</dd>`)

	res, body = post("/catalogos/tipo-vialidad/accion", map[string]string{"accion": "enviar"}, nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	res, body = post("/catalogos/tipo-vialidad/accion", map[string]string{"accion": "aprobar"}, nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode, body)

	adm := b.client(t)
	adm.signIn("revisa", "revisa-clave-larga")
	act := func(action, obs string) (*http.Response, string) {
		return adm.post("/catalogos/tipo-vialidad/accion", url.Values{"accion": {action}, "observaciones": {obs}})
	}
	res, body = act("observar", "")
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, body)
	require.Contains(t, body, `id="error"`)
	res, body = act("aprobar", "")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
	res, body = act("publicar", "Revisado con la Coordinación.")
	require.Equal(t, http.StatusSeeOther, res.StatusCode, body)

	anon := b.client(t)
	res, body = anon.do("GET", "/catalogos?q=callejon", nil)
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, body, `href="/catalogos/tipo-vialidad"`, "found by a column's value? no: by the description, without accents")
	res, body = anon.do("GET", "/api/v1/catalogs/tipo-vialidad/download.csv", nil)
	require.Equal(t, 200, res.StatusCode, body)
	require.Equal(t, "id_tipo_vialidad,descripcion\n1,Calle\n2,Avenida\n3,Callejón\n", body)

	// Another dependencia's Publicador cannot edit it.
	other := b.dependencia(t, "SEG")
	b.user(t, "ajeno", account.Publicador, other)
	aj := b.client(t)
	aj.signIn("ajeno", "ajeno-clave-larga")
	res, _ = aj.do("GET", "/catalogos/tipo-vialidad/editar", nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = aj.do("GET", "/catalogos/tipo-vialidad/cargar", nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = anon.do("GET", "/catalogos/nuevo", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// waitPage reloads a load's page until the load is done, as its refresh does.
func waitPage(t *testing.T, cl *client, path string) string {
	t.Helper()
	var body string
	require.Eventually(t, func() bool {
		res, b := cl.do("GET", path, nil)
		require.Equal(t, 200, res.StatusCode, b)
		body = b
		return !strings.Contains(b, `http-equiv="refresh"`)
	}, time.Minute, 50*time.Millisecond)
	return body
}
