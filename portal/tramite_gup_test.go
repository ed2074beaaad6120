package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

var (
	changeInputRe  = regexp.MustCompile(`<input id="(c\d+_[a-z_]+)" name="c\d+_[a-z_]+"(?: type="[a-z]+")? value="([^"]*)"`)
	changeCheckRe  = regexp.MustCompile(`<input type="checkbox" id="(c\d+_[a-z_]+)" name="c\d+_[a-z_]+"( checked)?>`)
	changeSelectRe = regexp.MustCompile(`(?s)<select id="(c\d+_[a-z_]+)" name="c\d+_[a-z_]+">(.*?)</select>`)
	selectedRe     = regexp.MustCompile(`<option value="([^"]*)" selected>`)
	gupFolioRe     = regexp.MustCompile(`^/tramites/(GUP-1\.6-\d{4}-\d{5})$`)
)

// changeForm reads the pre-filled user changes of a GUP-1.6 case page, as
// a browser would submit them.
func changeForm(page string) url.Values {
	v := url.Values{}
	for _, m := range changeInputRe.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range changeCheckRe.FindAllStringSubmatch(page, -1) {
		if m[2] != "" {
			v.Set(m[1], "on")
		}
	}
	for _, m := range changeSelectRe.FindAllStringSubmatch(page, -1) {
		if s := selectedRe.FindStringSubmatch(m[2]); s != nil {
			v.Set(m[1], s[1])
		}
	}
	return v
}

// fileUserRequest files a GUP-1.6 request as cl: the first F-6 row opens
// it, the others are added with «agregar_usuario».
func fileUserRequest(t *testing.T, cl *client, rows ...url.Values) string {
	t.Helper()
	res, page := cl.post("/tramites/nuevo/GUP-1.6", rows[0])
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
	m := gupFolioRe.FindStringSubmatch(res.Header.Get("Location"))
	require.NotNil(t, m, res.Header.Get("Location"))
	for _, r := range rows[1:] {
		res, page = act(t, cl, m[1], "agregar_usuario", r)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
	}
	return m[1]
}

func f6(kind, login string, more ...string) url.Values {
	v := url.Values{"f_tipo_gestion": {kind}, "f_login": {login}}
	for i := 0; i+1 < len(more); i += 2 {
		v.Set("f_"+more[i], more[i+1])
	}
	return v
}

type gupBundle struct {
	*bundle
	ctx context.Context
}

func (g gupBundle) userByLogin(t *testing.T, login string) account.User {
	t.Helper()
	u, err := account.NewStore(g.pool).ByLogin(g.ctx, login)
	require.NoError(t, err, login)
	return u
}

func (g gupBundle) mails(t *testing.T, to, subject string) int {
	t.Helper()
	var n int
	require.NoError(t, g.pool.QueryRow(g.ctx, `SELECT count(*) FROM meta.outbox WHERE recipient = $1 AND subject LIKE $2`, to, subject+"%").Scan(&n))
	return n
}

func (g gupBundle) audited(t *testing.T, actor, action string, target account.User) bool {
	t.Helper()
	var n int
	require.NoError(t, g.pool.QueryRow(g.ctx, `SELECT count(*) FROM meta.audit_log WHERE actor_login = $1 AND action = $2 AND object_id = $3`,
		actor, action, fmt.Sprint(target.ID)).Scan(&n))
	return n > 0
}

// GUP-1.6 walked on every path of its flow; each path checks the users
// the request asked to change, through the portal's pages.
func TestUserManagementRequestEveryPath(t *testing.T) {
	t.Parallel()
	b := setupProcedures(t)
	g := gupBundle{bundle: b, ctx: context.Background()}
	sfia := b.dependencia(t, "SFIA")
	b.user(t, "enlace", account.Publicador, sfia)
	b.user(t, "coordinadora", account.Admin, nil)
	b.user(t, "jefa", account.SuperAdmin, nil)
	b.user(t, "cambiar", account.Consulta, nil)
	b.user(t, "ascender", account.Consulta, nil)
	b.user(t, "olvido", account.Consulta, nil)
	b.user(t, "viejo", account.Publicador, sfia)
	b.user(t, "bienvenida", account.Consulta, nil)
	b.user(t, "viejo2", account.Consulta, nil)
	entity, steward, super := b.client(t), b.client(t), b.client(t)
	entity.signIn("enlace", "enlace-clave-larga")
	steward.signIn("coordinadora", "coordinadora-clave-larga")
	super.signIn("jefa", "jefa-clave-larga")
	viejo := b.client(t)
	viejo.signIn("viejo", "viejo-clave-larga")

	t.Run("información completa: every kind of change applied", func(t *testing.T) {
		folio := fileUserRequest(t, entity,
			f6("Alta de nuevo usuario", "ana.perez", "nombre_completo", "Ana Pérez", "correo", "ana.perez@guanajuato.gob.mx",
				"perfil", "Publicador", "dependencia", "sfia"),
			f6("Modificar información del usuario", "cambiar", "login_nuevo", "cambiado", "correo", "cambiado@guanajuato.gob.mx"),
			f6("Modificar perfil", "ascender", "perfil", "Administrador"),
			f6("Modificar contraseña", "olvido"),
			f6("Deshabilitar acceso", "viejo"),
			f6("Reenviar correo de bienvenida", "bienvenida"))
		res, page := act(t, steward, folio, "informacion_completa", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))

		// The requester may not apply the changes.
		res, _ = entity.post("/tramites/"+folio+"/acciones", url.Values{"accion": {"usuarios_gestionados"}, "lock_version": {"3"}})
		require.Equal(t, http.StatusForbidden, res.StatusCode)

		// The case page shows each change pre-filled.
		_, page = steward.do("GET", "/tramites/"+folio, nil)
		for n := 1; n <= 6; n++ {
			require.Contains(t, page, fmt.Sprintf(`id="cambio-%d"`, n))
		}
		form := changeForm(page)
		require.Equal(t, "ana.perez", form.Get("c1_login"))
		require.Equal(t, fmt.Sprint(*sfia), form.Get("c1_dependencia_id"), "the dependencia named by its clave")
		require.Equal(t, "publicador", form.Get("c1_profile"))
		require.Equal(t, "on", form.Get("c1_send_welcome"))
		require.Equal(t, "cambiado", form.Get("c2_login"))
		require.Equal(t, "admin", form.Get("c3_profile"))
		require.Contains(t, page, `id="c4_password"`)
		require.Empty(t, form.Get("c5_active"), "deactivation pre-filled")
		require.Equal(t, "on", form.Get("c6_send_welcome"))

		// A password typed twice differently changes nothing at all.
		form.Set("c4_password", "nueva-clave-segura-1")
		form.Set("c4_password_confirm", "otra-clave-segura-2")
		res, page = act(t, steward, folio, "usuarios_gestionados", form)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, page, "El cambio 4 (Modificar contraseña «olvido») no se pudo aplicar")
		require.Contains(t, page, `id="error-c4_password`)
		_, err := account.NewStore(b.pool).ByLogin(g.ctx, "ana.perez")
		require.ErrorIs(t, err, account.ErrNotFound, "the alta was rolled back")
		require.True(t, g.userByLogin(t, "viejo").Active)

		form.Set("c4_password_confirm", "nueva-clave-segura-1")
		res, page = act(t, steward, folio, "usuarios_gestionados", form)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))

		ana := g.userByLogin(t, "ana.perez")
		require.Equal(t, account.Publicador, ana.Profile)
		require.Equal(t, *sfia, *ana.DependenciaID)
		require.Equal(t, 1, g.mails(t, "ana.perez@guanajuato.gob.mx", "Bienvenida"))
		require.True(t, g.audited(t, "coordinadora", "user.create", ana))
		cambiado := g.userByLogin(t, "cambiado")
		require.Equal(t, "cambiado@guanajuato.gob.mx", cambiado.Email)
		require.Equal(t, account.Admin, g.userByLogin(t, "ascender").Profile)
		require.False(t, g.userByLogin(t, "viejo").Active)
		require.Equal(t, 1, g.mails(t, "bienvenida@guanajuato.gob.mx", "Bienvenida"))
		olvido := b.client(t)
		olvido.signIn("olvido", "nueva-clave-segura-1")

		// The deactivated user's session ended and he cannot sign in again.
		res, _ = viejo.do("GET", "/cuenta", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		res, _ = b.client(t).post("/entrar", url.Values{"login": {"viejo"}, "password": {"viejo-clave-larga"}})
		require.NotEqual(t, http.StatusSeeOther, res.StatusCode)

		_, page = entity.do("GET", "/tramites/"+folio, nil)
		require.Contains(t, page, "Cambios aplicados")
		require.Contains(t, page, "1. Alta de nuevo usuario «ana.perez»: registrado como Publicador")
		require.Contains(t, page, "5. Deshabilitar acceso «viejo»: acceso deshabilitado.")
		require.Contains(t, page, "4. Modificar contraseña «olvido»: contraseña nueva establecida.")
		require.NotContains(t, page, "nueva-clave-segura-1")

		_, page = steward.do("GET", "/tramites/"+folio, nil)
		require.Contains(t, page, "Cambios aplicados:\n1. Alta de nuevo usuario «ana.perez»", "the reply is pre-filled with what was applied")
		res, page = act(t, steward, folio, "informar_atendida", url.Values{"observaciones": {"Los seis cambios quedaron aplicados."}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
		require.Equal(t, 1, g.mails(t, "enlace@guanajuato.gob.mx", "Correo de respuesta"))
	})

	t.Run("información solicitada: a Super Administrador only by a Super Administrador, a change left out", func(t *testing.T) {
		folio := fileUserRequest(t, entity,
			f6("Alta de nuevo usuario", "jefe.nuevo", "nombre_completo", "Jefe Nuevo", "correo", "jefe.nuevo@guanajuato.gob.mx",
				"perfil", "Super Administrador"),
			f6("Deshabilitar acceso", "no.existe"))
		res, page := act(t, steward, folio, "solicitar_informacion", url.Values{"observaciones": {"¿Quién más causa baja?"}})
		require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
		res, page = act(t, entity, folio, "completar_solicitud", f6("Deshabilitar acceso", "viejo2"))
		require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
		res, page = act(t, steward, folio, "informacion_completa", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))

		_, page = steward.do("GET", "/tramites/"+folio, nil)
		require.Contains(t, page, "No existe un usuario «no.existe»")
		form := changeForm(page)
		require.Equal(t, "superadmin", form.Get("c1_profile"))
		require.Empty(t, form.Get("c2_aplicar"), "an unknown user is not applied")

		// Without observations a change left out is refused.
		res, page = act(t, steward, folio, "usuarios_gestionados", form)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, page, "escriba en las observaciones por qué")

		// An Administrador may not register a Super Administrador: nothing changes.
		form.Set("observaciones", "El usuario no.existe no está registrado en el portal.")
		res, page = act(t, steward, folio, "usuarios_gestionados", form)
		require.Equal(t, http.StatusForbidden, res.StatusCode)
		require.Contains(t, page, "sólo un Super Administrador registra o modifica a un Super Administrador")
		require.True(t, g.userByLogin(t, "viejo2").Active)

		// The Super Administrador applies it.
		_, page = super.do("GET", "/tramites/"+folio, nil)
		form = changeForm(page)
		form.Set("observaciones", "El usuario no.existe no está registrado en el portal.")
		res, page = act(t, super, folio, "usuarios_gestionados", form)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
		require.Equal(t, account.SuperAdmin, g.userByLogin(t, "jefe.nuevo").Profile)
		require.False(t, g.userByLogin(t, "viejo2").Active)
		_, page = super.do("GET", "/tramites/"+folio, nil)
		require.Contains(t, page, "2. Deshabilitar acceso «no.existe»: no aplicado.")

		res, page = act(t, super, folio, "informar_atendida", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
	})
}

// Through the API the action applies the request as filed, with what the
// caller overrides per change; «aplicados» is always what was done.
func TestUserManagementRequestAPI(t *testing.T) {
	t.Parallel()
	b := setupProcedures(t)
	g := gupBundle{bundle: b, ctx: context.Background()}
	dep := b.dependencia(t, "SFIA")
	enlace := b.user(t, "enlace", account.Publicador, dep)
	admin := b.user(t, "coordinadora", account.Admin, nil)
	granted := b.user(t, "enlace.coordinador", account.Publicador, dep)
	_, err := b.pool.Exec(g.ctx, `INSERT INTO meta.procedure_role_grant (user_id, role, granted_by) VALUES ($1, 'coordinador_dm', 'prueba')`, granted.ID)
	require.NoError(t, err)
	b.user(t, "olvido", account.Consulta, nil)
	token := func(u account.User) string {
		_, secret, err := account.NewStore(b.pool).NewToken(g.ctx, u.ID, "prueba", nil)
		require.NoError(t, err)
		return "Bearer " + secret
	}
	call := func(auth, method, path, body string) (*http.Response, map[string]any) {
		res, raw := b.do(t, method, path, strings.NewReader(body), "Content-Type", "application/json", "Authorization", auth)
		var out map[string]any
		require.NoError(t, json.Unmarshal([]byte(raw), &out), raw)
		return res, out
	}
	res, out := call(token(enlace), "POST", "/api/v1/tramites", `{"procedimiento":"GUP-1.6","datos":{"tipo_gestion":"Modificar contraseña","login":"olvido"}}`)
	require.Equal(t, http.StatusCreated, res.StatusCode, out)
	folio := out["folio"].(string)
	ta := token(admin)
	res, out = call(ta, "POST", "/api/v1/tramites/"+folio+"/acciones", `{"accion":"informacion_completa","lock_version":1}`)
	require.Equal(t, http.StatusOK, res.StatusCode, out)

	// A Publicador holding the puesto by grant lacks the profile to manage users.
	res, out = call(token(granted), "POST", "/api/v1/tramites/"+folio+"/acciones",
		`{"accion":"usuarios_gestionados","lock_version":2,"datos":{"cambios":[{"n":1,"send_welcome":true}]}}`)
	require.Equal(t, http.StatusForbidden, res.StatusCode, out)

	res, out = call(ta, "POST", "/api/v1/tramites/"+folio+"/acciones",
		`{"accion":"usuarios_gestionados","lock_version":2,"datos":{"aplicados":["todo listo"]}}`)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, out)
	require.Contains(t, out["detail"], "Escriba la nueva contraseña dos veces")

	res, out = call(ta, "POST", "/api/v1/tramites/"+folio+"/acciones",
		`{"accion":"usuarios_gestionados","lock_version":2,"datos":{"cambios":[{"n":2}]}}`)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, out)
	require.Contains(t, out["detail"], "El cambio 2 no existe")

	res, out = call(ta, "POST", "/api/v1/tramites/"+folio+"/acciones",
		`{"accion":"usuarios_gestionados","lock_version":2,"datos":{"cambios":[{"n":1,"password":"clave-nueva-de-api","password_confirm":"clave-nueva-de-api"}]}}`)
	require.Equal(t, http.StatusOK, res.StatusCode, out)
	require.Equal(t, "por_informar", out["estado"])
	datos, _ := json.Marshal(out["datos"])
	require.Contains(t, string(datos), "contraseña nueva establecida")
	require.NotContains(t, string(datos), "todo listo")
	require.NotContains(t, string(datos), "clave-nueva-de-api")
	b.client(t).signIn("olvido", "clave-nueva-de-api")
	require.True(t, g.audited(t, "coordinadora", "user.set_password", g.userByLogin(t, "olvido")))
}
