package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure/proceduretest"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox/outboxtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

func setupProcedures(t *testing.T) *bundle {
	t.Helper()
	pool := pgtest.New(t)
	return setup(t, Options{Pool: pool, Procedures: proceduretest.Engine(t, pool),
		SignInThrottle: account.Throttle{PerLogin: 100, PerAddr: 1000, Window: time.Minute}})
}

var folioRe = regexp.MustCompile(`/tramites/(ADC-1\.3-\d{4}-\d{5})`)
var lockRe = regexp.MustCompile(`name="lock_version" value="(\d+)"`)

// act takes an action on the case page as a person would: the lock
// version is the one the page shows.
func act(t *testing.T, cl *client, folio, action string, form url.Values) (*http.Response, string) {
	t.Helper()
	_, page := cl.do("GET", "/tramites/"+folio, nil)
	require.Contains(t, page, `id="accion-`+action+`"`, "the page offers %s", action)
	m := lockRe.FindStringSubmatch(page)
	require.NotNil(t, m)
	if form == nil {
		form = url.Values{}
	}
	form.Set("accion", action)
	form.Set("lock_version", m[1])
	return cl.post("/tramites/"+folio+"/acciones", form)
}

// The flow, over HTTP: an entity files an adoption request, the
// steward asks for more information, the entity completes it, the steward
// attends it, and the requester receives the «Correo de respuesta».
func TestAdoptionRequestEndToEnd(t *testing.T) {
	t.Parallel()
	b := setupProcedures(t)
	dep := b.dependencia(t, "SFIA")
	proceduretest.PublishedCatalog(t, b.pool, *dep)
	b.user(t, "enlace", account.Publicador, dep)
	b.user(t, "coordinadora", account.Admin, nil)
	b.user(t, "curioso", account.Consulta, b.dependencia(t, "SSG"))
	entity, steward, other := b.client(t), b.client(t), b.client(t)
	entity.signIn("enlace", "enlace-clave-larga")
	steward.signIn("coordinadora", "coordinadora-clave-larga")
	other.signIn("curioso", "curioso-clave-larga")

	// The form of F-2, with its fields.
	res, page := entity.do("GET", "/tramites/nuevo/ADC-1.3", nil)
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, page, "F-DGTIT-DAID-GGD-2")
	require.Contains(t, page, `name="f_catalogo"`)

	f2 := url.Values{"f_nombre_solicitante": {"Ana Enlace"}, "f_correo": {"enlace@guanajuato.gob.mx"}, "f_catalogo": {"Municipios"},
		"f_descripcion": {"Catálogo de municipios del estado para el padrón."}, "f_origen": {"Servicio web"}}
	res, page = entity.post("/tramites/nuevo/ADC-1.3", f2)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, page, "Catálogo a adoptar: debe ser el nombre de la tabla según la nomenclatura DAID")
	require.Contains(t, page, `value="Municipios"`, "what was typed is kept")

	f2.Set("f_catalogo", "cat_municipio")
	res, _ = entity.post("/tramites/nuevo/ADC-1.3", f2)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	m := folioRe.FindStringSubmatch(res.Header.Get("Location"))
	require.NotNil(t, m, res.Header.Get("Location"))
	folio := m[1]

	// Someone of another dependencia does not see it.
	res, _ = other.do("GET", "/tramites/"+folio, nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	_, list := other.do("GET", "/tramites", nil)
	require.NotContains(t, list, folio)
	_, list = steward.do("GET", "/tramites?abiertos=si", nil)
	require.Contains(t, list, folio)

	// The steward's page shows the decision, the diagram with the current state and the clock.
	res, page = steward.do("GET", "/tramites/"+folio, nil)
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, page, "¿Está completa la información?")
	require.Contains(t, page, "class recibida current")
	require.Contains(t, page, "Atención de la solicitud")
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'")
	require.NotContains(t, page, `id="accion-tabla_publicada"`)

	// The entity may not take the steward's decision.
	res, _ = entity.post("/tramites/"+folio+"/acciones", url.Values{"accion": {"informacion_completa"}, "lock_version": {"1"}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)

	res, page = act(t, steward, folio, "solicitar_informacion", url.Values{"observaciones": {"Falta el informe de mecanismos (F-4)."}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))

	// A stale page is refused and says so.
	res, page = steward.post("/tramites/"+folio+"/acciones", url.Values{"accion": {"informacion_completa"}, "lock_version": {"1"}})
	require.Equal(t, http.StatusConflict, res.StatusCode)
	require.Contains(t, page, "cambió mientras lo consultaba")

	res, page = act(t, entity, folio, "entregar_informe", url.Values{"f_mecanismo": {"Servicio web"}, "f_periodicidad": {"Mensual"},
		"f_responsable": {"Ana Enlace"}, "f_correo_responsable": {"enlace@guanajuato.gob.mx"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))

	role := proceduretest.RoleName(t)
	steps := []struct {
		action string
		form   url.Values
	}{
		{"informacion_completa", nil},
		{"proporcionar_accesos", url.Values{"f_tipo_acceso": {"Rol en Datosigto"}, "f_usuario_bd": {role},
			"f_tablas": {"cat_municipio\n"}, "f_fecha_entrega": {"2026-11-26"}}},
		{"conectividad_establecida", nil},
		{"nomenclatura_validada", nil},
		{"instructivo_generado", nil},
	}
	for _, s := range steps {
		if s.action == "proporcionar_accesos" {
			_, page = steward.do("GET", "/tramites/"+folio, nil)
			require.Regexp(t, `id="proporcionar_accesos-tablas" name="f_tablas"[^>]*>cat_municipio</textarea>`, page, "the F-5 starts with the F-2's catalog")
		}
		if s.action == "conectividad_establecida" {
			proceduretest.CheckConnectivity(t, b.srv.opts.Procedures, b.pool, folio)
		}
		res, page = act(t, steward, folio, s.action, s.form)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, "%s: %s", s.action, errorText(page))
	}
	res, page = act(t, entity, folio, "tabla_publicada", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
	res, page = act(t, steward, folio, "catalogo_registrado", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
	res, page = act(t, steward, folio, "informar_atendida", url.Values{"observaciones": {"El catálogo cat_municipio está publicado."}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))

	_, page = entity.do("GET", "/tramites/"+folio, nil)
	require.Contains(t, page, `<strong id="estado">Solicitud atendida</strong>`)
	require.Contains(t, page, "Falta el informe de mecanismos (F-4).")
	require.Contains(t, page, role)
	require.Contains(t, page, `href="/catalogos/municipios" id="vinculo-catalogo"`)
	require.Contains(t, page, `id="consultar-contrasena"`)

	// Only the entity reads the role's password, and only by asking.
	res, _ = steward.post("/tramites/"+folio+"/contrasena", url.Values{})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res, page = entity.post("/tramites/"+folio+"/contrasena", url.Values{})
	require.Equal(t, http.StatusOK, res.StatusCode, errorText(page))
	require.Contains(t, res.Header.Get("Cache-Control"), "no-store")
	require.Regexp(t, `id="contrasena-valor">[A-Za-z0-9_-]{32}</code>`, page)

	// The mails go out through the outbox to a real SMTP server.
	smtpURL, inbox := outboxtest.SMTPServer(t, "datos@guanajuato.gob.mx")
	mailer, err := outbox.NewSMTPMailer(smtpURL)
	require.NoError(t, err)
	d := &outbox.Deliverer{DB: b.pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Email: mailer}}
	_, err = d.DeliverDue(context.Background())
	require.NoError(t, err)
	var reply *outboxtest.Mail
	for _, ml := range inbox.Wait(4, 5*time.Second) {
		if strings.HasPrefix(ml.Subject, "Correo de respuesta") {
			reply = &ml
		}
	}
	require.NotNil(t, reply, "the requester gets the reply")
	require.Equal(t, []string{"enlace@guanajuato.gob.mx"}, reply.To)
	require.Contains(t, reply.Body, folio)
	require.Contains(t, reply.Body, "El catálogo cat_municipio está publicado.")
	require.Contains(t, reply.Body, "https://datos.guanajuato.gob.mx/tramites/"+folio)
}

func TestProceduresAPI(t *testing.T) {
	t.Parallel()
	b := setupProcedures(t)
	dep := b.dependencia(t, "SFIA")
	enlace := b.user(t, "enlace", account.Publicador, dep)
	admin := b.user(t, "coordinadora", account.Admin, nil)
	token := func(u account.User) string {
		_, secret, err := account.NewStore(b.pool).NewToken(context.Background(), u.ID, "prueba", nil)
		require.NoError(t, err)
		return "Bearer " + secret
	}
	te, ta := token(enlace), token(admin)
	call := func(auth, method, path, body string) (*http.Response, map[string]any) {
		h := []string{"Content-Type", "application/json"}
		if auth != "" {
			h = append(h, "Authorization", auth)
		}
		res, raw := b.do(t, method, path, strings.NewReader(body), h...)
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &out), raw)
		return res, out
	}

	res, out := call("", "GET", "/api/v1/procedimientos", "")
	require.Equal(t, 200, res.StatusCode)
	require.Len(t, out["items"], 6)
	res, out = call("", "GET", "/api/v1/procedimientos/GUP-1.6", "")
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, out["diagrama_mermaid"], "flowchart TD")
	res, _ = call("", "GET", "/api/v1/tramites", "")
	require.Equal(t, 401, res.StatusCode)

	res, out = call(te, "POST", "/api/v1/tramites", `{"procedimiento":"GUP-1.6","datos":{"tipo_gestion":"Alta de nuevo usuario","login":"Ana Pérez","nombre_completo":"Ana","correo":"ana@x.mx"}}`)
	require.Equal(t, 422, res.StatusCode)
	require.Equal(t, "datos_no_validos", out["code"])
	require.Contains(t, out["detail"], "Usuario (login)")
	require.Contains(t, out["detail"], `"Ana Pérez"`)

	res, out = call(te, "POST", "/api/v1/tramites", `{"procedimiento":"GUP-1.6","datos":{"tipo_gestion":"Alta de nuevo usuario","login":"ana.perez","nombre_completo":"Ana Pérez","correo":"ana@x.mx"}}`)
	require.Equal(t, 201, res.StatusCode, out)
	folio := out["folio"].(string)
	acts, _ := out["acciones"].([]any)
	require.Len(t, acts, 1, "while the steward reviews, the requester may only add users to the request")
	require.Equal(t, "agregar_usuario", acts[0].(map[string]any)["accion"])

	res, out = call(ta, "GET", "/api/v1/tramites/"+folio, "")
	require.Equal(t, 200, res.StatusCode)
	require.Len(t, out["acciones"], 2)

	res, out = call(ta, "POST", "/api/v1/tramites/"+folio+"/acciones", `{"accion":"informacion_completa","lock_version":7}`)
	require.Equal(t, 409, res.StatusCode)
	require.Equal(t, "tramite_modificado", out["code"])
	res, out = call(te, "POST", "/api/v1/tramites/"+folio+"/acciones", `{"accion":"informacion_completa","lock_version":1}`)
	require.Equal(t, 403, res.StatusCode)
	require.Equal(t, "rol_no_autorizado", out["code"])
	res, out = call(ta, "POST", "/api/v1/tramites/"+folio+"/acciones", `{"accion":"informacion_completa","lock_version":1}`)
	require.Equal(t, 200, res.StatusCode, out)
	require.Equal(t, "gestion", out["estado"])

	res, out = call("", "GET", "/api/v1/indicadores", "")
	require.Equal(t, 200, res.StatusCode)
	require.NotEmpty(t, out["items"])

	res, page := b.do(t, "GET", "/procedimientos/ADC-1.3", nil)
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, page, "Proporcionar los accesos a la base de datos")
	require.Contains(t, page, `<pre class="mermaid" id="diagrama">`)
	require.Contains(t, page, "<strong>Proporcionar accesos (F-5)</strong>: vincula el catálogo a adoptar")
	require.Contains(t, page, "otorga a la dependencia su rol de mínimo privilegio sobre las tablas (la contraseña se consulta en el trámite) (si «Tipo de acceso» es «Rol en Datosigto»)")
	res, page = b.do(t, "GET", "/procedimientos", nil)
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, page, "Modelo de Gobierno de datos publicado y actualizado en el período establecido")
	res, _ = b.do(t, "GET", "/static/vendor/mermaid.min.js", nil)
	require.Equal(t, 200, res.StatusCode)

	res, doc := b.do(t, "GET", "/api/v1/openapi.json", nil)
	require.Equal(t, 200, res.StatusCode)
	for _, p := range []string{"/api/v1/tramites/{folio}/acciones", "/api/v1/tramites/{folio}", "/api/v1/procedimientos/{clave}", "/api/v1/indicadores"} {
		require.Contains(t, doc, `"`+p+`"`)
	}
	require.NotContains(t, doc, "#/$defs/")
}

func TestCaseAttachments(t *testing.T) {
	t.Parallel()
	b := setupProcedures(t)
	dep := b.dependencia(t, "SFIA")
	enlace := b.user(t, "enlace", account.Publicador, dep)
	b.user(t, "curioso", account.Consulta, b.dependencia(t, "SSG"))
	entity, other := b.client(t), b.client(t)
	entity.signIn("enlace", "enlace-clave-larga")
	other.signIn("curioso", "curioso-clave-larga")
	_, secret, err := account.NewStore(b.pool).NewToken(context.Background(), enlace.ID, "prueba", nil)
	require.NoError(t, err)

	res, _ := entity.post("/tramites/nuevo/GUP-1.6", url.Values{"f_tipo_gestion": {"Alta de nuevo usuario"}, "f_login": {"ana.perez"},
		"f_nombre_completo": {"Ana Pérez"}, "f_correo": {"ana@guanajuato.gob.mx"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	folio := strings.TrimPrefix(res.Header.Get("Location"), "/tramites/")

	upload := func(cl *client, path string, header ...string) (*http.Response, string) {
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		fw, err := w.CreateFormFile("archivo", "oficio.pdf")
		require.NoError(t, err)
		_, _ = fw.Write([]byte("%PDF-1.4\noficio de solicitud\n%%EOF"))
		require.NoError(t, w.Close())
		return cl.do("POST", path, &body, append([]string{"Content-Type", w.FormDataContentType()}, header...)...)
	}
	res, raw := upload(entity, "/api/v1/tramites/"+folio+"/adjuntos", "Authorization", "Bearer "+secret)
	require.Equal(t, http.StatusCreated, res.StatusCode, raw)
	var a struct {
		ID   int64  `json:"id"`
		Name string `json:"nombre"`
		Type string `json:"tipo"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &a))
	require.Equal(t, "oficio.pdf", a.Name)
	require.Equal(t, "application/pdf", a.Type)

	// The page's form, with the CSRF token.
	res, raw = upload(entity, "/tramites/"+folio+"/adjuntos", "X-CSRF-Token", entity.csrf())
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(raw))

	_, page := entity.do("GET", "/tramites/"+folio, nil)
	require.Equal(t, 2, strings.Count(page, ">oficio.pdf</a>"))
	res, raw = entity.do("GET", fmt.Sprintf("/tramites/%s/adjuntos/%d", folio, a.ID), nil)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
	require.Contains(t, res.Header.Get("Content-Disposition"), `filename=oficio.pdf`)
	require.Contains(t, raw, "oficio de solicitud")

	res, _ = other.do("GET", fmt.Sprintf("/tramites/%s/adjuntos/%d", folio, a.ID), nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "someone outside the case gets nothing")
	res, _ = upload(other, "/tramites/"+folio+"/adjuntos", "X-CSRF-Token", other.csrf())
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}
