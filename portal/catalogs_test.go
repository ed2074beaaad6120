package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

func (b *bundle) token(t *testing.T, u account.User) string {
	t.Helper()
	_, secret, err := account.NewStore(b.pool).NewToken(context.Background(), u.ID, "prueba", nil)
	require.NoError(t, err)
	return "Bearer " + secret
}

func TestCatalogAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	dep := b.dependencia(t, "SFIA")
	other := b.dependencia(t, "SEG")
	super := b.token(t, b.user(t, "super", account.SuperAdmin, nil))
	admin := b.token(t, b.user(t, "admin", account.Admin, nil))
	pub := b.token(t, b.user(t, "publica", account.Publicador, dep))
	otherPub := b.token(t, b.user(t, "otra", account.Publicador, other))
	consulta := b.token(t, b.user(t, "consulta", account.Consulta, nil))

	raw, err := os.ReadFile("../testdata/catalogs/cat_municipio.json")
	require.NoError(t, err)
	entidad := `{"name": "cat_entidad", "title": "Entidades federativas", "description": "Entidades federativas de México según el INEGI.",
		"schema": {"fields": [
			{"name": "id_entidad", "type": "string", "description": "Clave INEGI de la entidad.", "constraints": {"required": true, "maxLength": 2, "pattern": "[0-9]{2}"}},
			{"name": "nombre", "type": "string", "description": "Nombre oficial de la entidad.", "constraints": {"required": true, "maxLength": 100}}],
		"primaryKey": "id_entidad"}}`
	body := func(def string, publish bool) string {
		b, err := json.Marshal(map[string]any{"definition": json.RawMessage(def), "dependencia_id": *dep, "publish": publish,
			"metadata": map[string]any{"steward": "Coordinación de Datos Maestros", "keywords": []string{"inegi"}}})
		require.NoError(t, err)
		return string(b)
	}
	js := "application/json"
	tests := []struct {
		name, method, path, auth, body string
		status                         int
		contains                       string
	}{
		{"anonymous cannot create", "POST", "/api/v1/catalogs", "", body(entidad, false), 401, "no_autenticado"},
		{"consulta cannot create", "POST", "/api/v1/catalogs", consulta, body(entidad, false), 403, "prohibido"},
		{"publicador cannot bootstrap", "POST", "/api/v1/catalogs", pub, body(entidad, true), 403, "Super Administrador"},
		{"other dependencia", "POST", "/api/v1/catalogs", otherPub, body(entidad, false), 403, "propia dependencia"},
		{"super bootstraps entidad", "POST", "/api/v1/catalogs", super, body(entidad, true), 201, `"state":"publicado"`},
		{"publicador creates municipio", "POST", "/api/v1/catalogs", pub, body(string(raw), false), 201, `"clave":"municipio"`},
		{"duplicate", "POST", "/api/v1/catalogs", pub, body(string(raw), false), 409, "catalogo_conflict"},
		{"bad names", "POST", "/api/v1/catalogs", super, body(strings.Replace(entidad, `"cat_entidad"`, `"cat_x\"; drop table meta.catalog; --"`, 1), false), 422, "catalogo_invalid"},
		{"anonymous sees the published schema", "GET", "/api/v1/catalogs/entidad/schema", "", "", 200, `"primaryKey":["id_entidad"]`},
		{"anonymous does not see a draft", "GET", "/api/v1/catalogs/municipio/schema", "", "", 404, "no está publicado"},
		{"consulta reads the draft's dictionary", "GET", "/api/v1/catalogs/municipio/schema", consulta, "", 200, "Clave geoestadística completa"},
		{"anonymous list: published only", "GET", "/api/v1/catalogs", "", "", 200, `"clave":"entidad"`},
		{"publicador submits", "POST", "/api/v1/catalogs/municipio/transitions", pub, `{"action": "enviar"}`, 200, `"state":"en_revision"`},
		{"publicador cannot approve", "POST", "/api/v1/catalogs/municipio/transitions", pub, `{"action": "aprobar"}`, 403, "catalogo_forbidden"},
		{"observe needs observations", "POST", "/api/v1/catalogs/municipio/transitions", admin, `{"action": "observar"}`, 422, "escriba"},
		{"unknown action", "POST", "/api/v1/catalogs/municipio/transitions", admin, `{"action": "borrar"}`, 422, "no existe"},
		{"admin approves", "POST", "/api/v1/catalogs/municipio/transitions", admin, `{"action": "aprobar"}`, 200, `"actions":["publicar","retirar"]`},
		{"admin publishes", "POST", "/api/v1/catalogs/municipio/transitions", admin, `{"action": "publicar"}`, 200, `"state":"publicado"`},
		{"again", "POST", "/api/v1/catalogs/municipio/transitions", admin, `{"action": "publicar"}`, 409, "catalogo_transition"},
		{"history", "GET", "/api/v1/catalogs/municipio/transitions", consulta, "", 200, `"action":"aprobar"`},
		{"history needs sign-in", "GET", "/api/v1/catalogs/municipio/transitions", "", "", 401, "no_autenticado"},
		{"versions", "GET", "/api/v1/catalogs/municipio/versions", "", "", 200, "[]"},
		{"show", "GET", "/api/v1/catalogs/municipio", "", "", 200, `"steward":"Coordinación de Datos Maestros"`},
		{"not found", "GET", "/api/v1/catalogs/no-existe", "", "", 404, "catalogo_not_found"},
	}
	for _, tc := range tests {
		hdr := []string{"Content-Type", js}
		if tc.auth != "" {
			hdr = append(hdr, "Authorization", tc.auth)
		}
		var rd *strings.Reader
		if tc.body != "" {
			rd = strings.NewReader(tc.body)
		} else {
			rd = strings.NewReader("")
		}
		res, got := b.do(t, tc.method, tc.path, rd, hdr...)
		require.Equal(t, tc.status, res.StatusCode, "%s: %s", tc.name, got)
		require.Contains(t, got, tc.contains, tc.name)
	}
	// the instructivo: generated, then a hand-made one instead, then generated again
	res, got := b.do(t, "GET", "/api/v1/catalogs/municipio/instructivo", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(got, "%PDF-"))
	hand := "%PDF-1.4 hecho a mano"
	for _, tc := range []struct {
		auth, body string
		status     int
	}{
		{consulta, hand, 403}, {otherPub, hand, 403}, {pub, "no es un pdf", 422}, {pub, hand, 204},
	} {
		res, got = b.do(t, "PUT", "/api/v1/catalogs/municipio/instructivo?nombre=manual.pdf", strings.NewReader(tc.body), "Authorization", tc.auth, "Content-Type", "application/pdf")
		require.Equal(t, tc.status, res.StatusCode, got)
	}
	res, got = b.do(t, "GET", "/api/v1/catalogs/municipio/instructivo", nil)
	require.Equal(t, hand, got)
	require.Contains(t, res.Header.Get("Content-Disposition"), "manual.pdf")
	res, _ = b.do(t, "DELETE", "/api/v1/catalogs/municipio/instructivo", nil, "Authorization", pub)
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	_, got = b.do(t, "GET", "/api/v1/catalogs/municipio/instructivo", nil)
	require.NotEqual(t, hand, got)

	// the dictionary served is the definition registered, field by field
	res, got = b.do(t, "GET", "/api/v1/catalogs/municipio/schema", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	served, err := tableschema.Parse(strings.NewReader(got))
	require.NoError(t, err)
	def, err := tableschema.Parse(strings.NewReader(string(raw)))
	require.NoError(t, err)
	require.Equal(t, len(def.Schema.Fields), len(served.Schema.Fields))
	for i, f := range def.Schema.Fields {
		require.Equal(t, f.Name, served.Schema.Fields[i].Name)
		require.Equal(t, f.Description, served.Schema.Fields[i].Description)
	}
}
