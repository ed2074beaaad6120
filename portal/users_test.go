package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure/proceduretest"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// roles are the callers of the authorisation matrix.
var roles = []string{"anonimo", "consulta", "publicador", "admin", "super"}

type matrixBundle struct {
	*bundle
	pages  map[string]*client // signed in through /entrar
	tokens map[string]string  // personal API tokens
	ids    map[string]int64
}

func setupMatrix(t *testing.T) *matrixBundle {
	pool := pgtest.New(t)
	keys, err := keyring.New([]byte(strings.Repeat("m", 32)))
	require.NoError(t, err)
	b := setup(t, Options{Pool: pool, Procedures: proceduretest.Engine(t, pool), Keys: keys,
		SignInThrottle: account.Throttle{PerLogin: 100, PerAddr: 1000, Window: 60e9}})
	dep := b.dependencia(t, "SFIA")
	m := &matrixBundle{bundle: b, pages: map[string]*client{}, tokens: map[string]string{}, ids: map[string]int64{}}
	profiles := map[string]account.Profile{"consulta": account.Consulta, "publicador": account.Publicador, "admin": account.Admin, "super": account.SuperAdmin}
	m.pages["anonimo"] = b.client(t)
	for _, r := range roles[1:] {
		var d *int64
		if r == "publicador" {
			d = dep
		}
		// no password and a session made directly: argon2id is costly under
		// the race detector, and sign-in has its own tests
		u, err := account.NewStore(b.pool).Create(context.Background(), account.NewUser{Login: r, Email: r + "@guanajuato.gob.mx",
			FullName: "Usuario " + r, Profile: profiles[r], DependenciaID: d})
		require.NoError(t, err)
		m.ids[r] = u.ID
		m.pages[r] = b.signedIn(t, u)
		_, secret, err := account.NewStore(b.pool).NewToken(context.Background(), u.ID, "matriz", nil)
		require.NoError(t, err)
		m.tokens[r] = secret
	}
	for _, o := range []struct {
		login   string
		profile account.Profile
	}{{"objetivo", account.Consulta}, {"jefe", account.SuperAdmin}} { // in this order: the paging test reads it
		login := o.login
		u, err := account.NewStore(b.pool).Create(context.Background(), account.NewUser{Login: login, Email: login + "@guanajuato.gob.mx",
			FullName: "Usuario " + login, Profile: o.profile})
		require.NoError(t, err)
		m.ids[login] = u.ID
	}
	return m
}

// signedIn is a client with a session of u, opened without the sign-in form.
func (b *bundle) signedIn(t *testing.T, u account.User) *client {
	t.Helper()
	secret, _, err := account.NewStore(b.pool).NewSession(context.Background(), u.ID, account.DefaultSessionPolicy, "", "")
	require.NoError(t, err)
	cl := b.client(t)
	base, err := url.Parse(b.http.URL)
	require.NoError(t, err)
	cl.hc.Jar.SetCookies(base, []*http.Cookie{{Name: sessionCookie, Value: secret, Path: "/"}})
	return cl
}

// api calls path as role with its bearer token (none for anonimo).
func (m *matrixBundle) api(t *testing.T, role, method, path, body string) (*http.Response, string) {
	t.Helper()
	h := []string{"Content-Type", "application/json"}
	if tok := m.tokens[role]; tok != "" {
		h = append(h, "Authorization", "Bearer "+tok)
	}
	var r *strings.Reader
	if body != "" {
		r = strings.NewReader(body)
	} else {
		r = strings.NewReader("")
	}
	return m.pages["anonimo"].do(method, path, r, h...)
}

// Each profile (and the anonymous public) can do exactly what it should on
// every route of users and access.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	m := setupMatrix(t)
	id := func(who string) string { return fmt.Sprint(m.ids[who]) }
	type want [5]int // anonimo, consulta, publicador, admin, super
	pages := []struct {
		method, path string
		form         func(role string) url.Values
		want         want
	}{
		{"GET", "/entrar", nil, want{200, 303, 303, 303, 303}},
		{"GET", "/salir", nil, want{303, 200, 200, 200, 200}},
		{"GET", "/contrasena/inventado", nil, want{410, 410, 410, 410, 410}},
		{"GET", "/cuenta", nil, want{303, 200, 200, 200, 200}},
		{"POST", "/cuenta/tokens", func(string) url.Values { return url.Values{"name": {"matriz-2"}} }, want{401, 200, 200, 200, 200}},
		{"POST", "/cuenta/tokens/999999/revocar", func(string) url.Values { return nil }, want{401, 404, 404, 404, 404}},
		{"POST", "/cuenta/contrasena", func(string) url.Values { return url.Values{"current": {"mal"}} }, want{401, 422, 422, 422, 422}},
		{"GET", "/usuarios", nil, want{303, 403, 403, 200, 200}},
		{"GET", "/usuarios/nuevo", nil, want{303, 403, 403, 200, 200}},
		{"GET", "/usuarios/" + id("objetivo"), nil, want{303, 403, 403, 200, 200}},
		{"GET", "/usuarios/" + id("jefe"), nil, want{303, 403, 403, 403, 200}},
		{"GET", "/bitacora", nil, want{303, 403, 403, 200, 200}},
		{"POST", "/usuarios", func(r string) url.Values {
			return url.Values{"login": {"nuevo-" + r}, "email": {"nuevo-" + r + "@x.mx"}, "full_name": {"Nuevo " + r}, "profile": {"consulta"}}
		}, want{401, 403, 403, 303, 303}},
		{"POST", "/usuarios", func(r string) url.Values {
			return url.Values{"login": {"super-" + r}, "email": {"super-" + r + "@x.mx"}, "full_name": {"Súper " + r}, "profile": {"superadmin"}}
		}, want{401, 403, 403, 403, 303}},
		{"POST", "/usuarios/" + id("objetivo"), func(r string) url.Values {
			return url.Values{"login": {"objetivo"}, "email": {"objetivo@guanajuato.gob.mx"}, "full_name": {"Objetivo " + r}, "profile": {"consulta"}, "active": {"on"}}
		}, want{401, 403, 403, 303, 303}},
		{"POST", "/usuarios/" + id("jefe"), func(r string) url.Values {
			return url.Values{"login": {"jefe"}, "email": {"jefe@guanajuato.gob.mx"}, "full_name": {"Jefe " + r}, "profile": {"superadmin"}, "active": {"on"}}
		}, want{401, 403, 403, 403, 303}},
		{"GET", "/puestos", nil, want{303, 403, 403, 200, 200}},
		{"GET", "/accesos", nil, want{303, 200, 200, 200, 200}},
		{"POST", "/accesos", func(string) url.Values { return url.Values{"dependencia": {"SFIA"}, "tables": {"cat_nada"}} },
			want{401, 403, 403, 422, 422}},
		{"POST", "/accesos/t_no_existe/rotar", func(string) url.Values { return nil }, want{401, 403, 404, 404, 404}},
		{"POST", "/accesos/t_no_existe/revocar", func(string) url.Values { return nil }, want{401, 403, 403, 404, 404}},
		{"POST", "/puestos", func(string) url.Values { return url.Values{"login": {"objetivo"}, "puesto": {"coordinador_dm"}} },
			want{401, 403, 403, 303, 303}},
		{"POST", "/puestos", func(string) url.Values { return url.Values{"login": {"jefe"}, "puesto": {"director_daid"}} },
			want{401, 403, 403, 403, 303}},
		{"POST", "/puestos/revocar", func(string) url.Values { return url.Values{"user_id": {id("objetivo")}, "puesto": {"director_daid"}} },
			want{401, 403, 403, 404, 404}},
		{"POST", "/puestos/revocar", func(string) url.Values { return url.Values{"user_id": {id("jefe")}, "puesto": {"director_daid"}} },
			want{401, 403, 403, 403, 303}},
	}
	for _, tc := range pages {
		for i, role := range roles {
			cl := m.pages[role]
			var res *http.Response
			var body string
			if tc.method == "GET" {
				res, body = cl.do("GET", tc.path, nil)
			} else {
				res, body = cl.post(tc.path, tc.form(role))
			}
			require.Equal(t, tc.want[i], res.StatusCode, "%s %s as %s: %s", tc.method, tc.path, role, errorText(body))
			if res.StatusCode == 303 && role == "anonimo" && tc.path != "/salir" {
				require.True(t, strings.HasPrefix(res.Header.Get("Location"), "/entrar?siguiente="))
			}
		}
	}

	apis := []struct {
		method, path string
		body         func(role string) string
		want         want
	}{
		{"GET", "/api/v1/me", nil, want{401, 200, 200, 200, 200}},
		{"GET", "/api/v1/me/tokens", nil, want{401, 200, 200, 200, 200}},
		{"POST", "/api/v1/me/tokens", func(string) string { return `{"name":"otro"}` }, want{401, 201, 201, 201, 201}},
		{"DELETE", "/api/v1/me/tokens/999999", nil, want{401, 404, 404, 404, 404}},
		{"GET", "/api/v1/users", nil, want{401, 403, 403, 200, 200}},
		{"GET", "/api/v1/users/" + id("objetivo"), nil, want{401, 403, 403, 200, 200}},
		{"POST", "/api/v1/users", func(r string) string {
			return `{"login":"api-` + r + `","email":"api-` + r + `@x.mx","full_name":"API ` + r + `","profile":"consulta"}`
		}, want{401, 403, 403, 201, 201}},
		{"POST", "/api/v1/users", func(r string) string {
			return `{"login":"apisuper-` + r + `","email":"apisuper-` + r + `@x.mx","full_name":"API ` + r + `","profile":"superadmin"}`
		}, want{401, 403, 403, 403, 201}},
		{"PATCH", "/api/v1/users/" + id("objetivo"), func(r string) string { return `{"full_name":"Objetivo por ` + r + `"}` }, want{401, 403, 403, 200, 200}},
		{"PATCH", "/api/v1/users/" + id("jefe"), func(r string) string { return `{"full_name":"Jefe por ` + r + `"}` }, want{401, 403, 403, 403, 200}},
		{"PATCH", "/api/v1/users/" + id("objetivo"), func(string) string { return `{"profile":"superadmin"}` }, want{401, 403, 403, 403, 200}},
		{"GET", "/api/v1/audit", nil, want{401, 403, 403, 200, 200}},
		{"GET", "/api/v1/access", nil, want{401, 200, 200, 200, 200}},
		{"POST", "/api/v1/access", func(string) string { return `{"dependencia":"SFIA","tables":["cat_nada"]}` }, want{401, 403, 403, 422, 422}},
		{"POST", "/api/v1/access/t_no_existe/rotate", nil, want{401, 403, 404, 404, 404}},
		{"DELETE", "/api/v1/access/t_no_existe", nil, want{401, 403, 403, 404, 404}},
	}
	for _, tc := range apis {
		for i, role := range roles {
			body := ""
			if tc.body != nil {
				body = tc.body(role)
			}
			res, out := m.api(t, role, tc.method, tc.path, body)
			require.Equal(t, tc.want[i], res.StatusCode, "%s %s as %s: %s", tc.method, tc.path, role, out)
			if res.StatusCode >= 400 {
				require.Equal(t, "application/problem+json; charset=utf-8", res.Header.Get("Content-Type"))
			}
		}
	}
}

func TestMe(t *testing.T) {
	t.Parallel()
	m := setupMatrix(t)
	_, body := m.api(t, "publicador", "GET", "/api/v1/me", "")
	var me struct {
		Login       string   `json:"login"`
		ProfileName string   `json:"profile_name"`
		Permissions []string `json:"permissions"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &me))
	require.Equal(t, "publicador", me.Login)
	require.Equal(t, "Publicador", me.ProfileName)
	require.ElementsMatch(t, []string{"catalogs.manage", "catalogs.load", "connectors.manage", "internal.read"}, me.Permissions)
	require.NotContains(t, body, "argon2")

	// the session cookie works for the API too, with the CSRF header on changes
	cl := m.pages["consulta"]
	res, _ := cl.do("GET", "/api/v1/me", nil)
	require.Equal(t, 200, res.StatusCode)
	res, _ = cl.do("POST", "/api/v1/me/tokens", strings.NewReader(`{"name":"x"}`), "Content-Type", "application/json")
	require.Equal(t, 403, res.StatusCode)
	res, body = cl.do("POST", "/api/v1/me/tokens", strings.NewReader(`{"name":"x"}`), "Content-Type", "application/json", csrfHeader, cl.csrf())
	require.Equal(t, 201, res.StatusCode, body)
	var created tokenCreated
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	require.True(t, strings.HasPrefix(created.Secret, account.TokenPrefix))
	res, _ = m.pages["anonimo"].do("GET", "/api/v1/me", nil, "Authorization", "Bearer "+created.Secret)
	require.Equal(t, 200, res.StatusCode)
	res, _ = cl.do("DELETE", fmt.Sprintf("/api/v1/me/tokens/%d", created.Token.ID), nil, csrfHeader, cl.csrf())
	require.Equal(t, 204, res.StatusCode)
	res, _ = m.pages["anonimo"].do("GET", "/api/v1/me", nil, "Authorization", "Bearer "+created.Secret)
	require.Equal(t, 401, res.StatusCode)
}

func TestUsersAPIValidation(t *testing.T) {
	t.Parallel()
	m := setupMatrix(t)
	res, body := m.api(t, "admin", "POST", "/api/v1/users", `{"login":"Mal Login","email":"x","full_name":"","profile":"publicador"}`)
	require.Equal(t, 422, res.StatusCode)
	for _, f := range []string{`"field":"login"`, `"field":"email"`, `"field":"full_name"`, `"field":"dependencia_id"`} {
		require.Contains(t, body, f)
	}
	require.Contains(t, body, "Un Publicador pertenece a una dependencia")
	res, body = m.api(t, "admin", "POST", "/api/v1/users", `{"login":"x","extra":1}`)
	require.Equal(t, 400, res.StatusCode, body)
	res, body = m.api(t, "admin", "PATCH", "/api/v1/users/"+fmt.Sprint(m.ids["objetivo"]), `{"password":"una-clave-larga","password_confirm":"otra-clave-larga"}`)
	require.Equal(t, 422, res.StatusCode)
	require.Contains(t, body, "no coinciden")
	res, _ = m.api(t, "admin", "GET", "/api/v1/users/999999", "")
	require.Equal(t, 404, res.StatusCode)
	res, _ = m.api(t, "admin", "GET", "/api/v1/users?limit=abc", "")
	require.Equal(t, 400, res.StatusCode)

	// keyset paging: two at a time through all seven users
	var seen []string
	path := "/api/v1/users?limit=2"
	for range 10 {
		res, body = m.api(t, "admin", "GET", path, "")
		require.Equal(t, 200, res.StatusCode)
		var page userList
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		for _, u := range page.Items {
			seen = append(seen, u.Login)
		}
		if page.NextAfter == nil {
			break
		}
		path = fmt.Sprintf("/api/v1/users?limit=2&after=%d", *page.NextAfter)
	}
	require.Equal(t, []string{"consulta", "publicador", "admin", "super", "objetivo", "jefe"}, seen)
	_, body = m.api(t, "admin", "GET", "/api/v1/users?profile=superadmin&q=JEFE", "")
	require.Contains(t, body, `"login":"jefe"`)
	require.NotContains(t, body, `"login":"super"`)
}

// The manual's procedure through the pages: register with the welcome
// e-mail, the user sets a password through its link, is edited, deactivated.
func TestUserManagementPages(t *testing.T) {
	t.Parallel()
	m := setupMatrix(t)
	admin := m.pages["admin"]
	res, body := admin.post("/usuarios", url.Values{"login": {"Lucia"}, "email": {"lucia@guanajuato.gob.mx"}, "full_name": {"Lucía Pérez"},
		"profile": {"publicador"}, "send_welcome": {"on"}})
	require.Equal(t, 422, res.StatusCode, "a Publicador needs a dependencia")
	require.Contains(t, body, "Un Publicador pertenece a una dependencia")
	require.Contains(t, body, `value="lucia@guanajuato.gob.mx"`, "what was typed stays")

	res, body = admin.post("/usuarios", url.Values{"login": {"Lucia"}, "email": {"lucia@guanajuato.gob.mx"}, "full_name": {"Lucía Pérez"},
		"profile": {"consulta"}, "send_welcome": {"on"}})
	require.Equal(t, 303, res.StatusCode, errorText(body))
	loc := res.Header.Get("Location")
	require.Regexp(t, `^/usuarios/\d+\?hecho=alta$`, loc)
	_, body = admin.do("GET", loc, nil)
	require.Contains(t, body, "Usuario registrado.")
	require.Contains(t, body, "Guardar información del usuario")

	var mail string
	require.NoError(t, m.pool.QueryRow(context.Background(), `SELECT body FROM meta.outbox WHERE recipient = 'lucia@guanajuato.gob.mx'`).Scan(&mail))
	link := regexp.MustCompile(`http://[^/\s]+(/contrasena/\S+)`).FindStringSubmatch(mail)
	require.NotNil(t, link, mail)

	lucia := m.bundle.client(t)
	res, body = lucia.do("GET", link[1], nil)
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, body, "Lucía Pérez")
	res, body = lucia.post(link[1], url.Values{"password": {"lucia-clave-larga"}, "password_confirm": {"lucia-clave-largo"}})
	require.Equal(t, 422, res.StatusCode)
	require.Contains(t, body, "no coinciden")
	res, body = lucia.post(link[1], url.Values{"password": {"lucia-clave-larga"}, "password_confirm": {"lucia-clave-larga"}})
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, body, "Su contraseña quedó establecida")
	res, _ = lucia.do("GET", link[1], nil)
	require.Equal(t, 410, res.StatusCode, "one use only")
	lucia.signIn("lucia", "lucia-clave-larga")
	res, _ = lucia.do("GET", "/cuenta", nil)
	require.Equal(t, 200, res.StatusCode)

	// edit: new password typed twice badly changes nothing
	edit := strings.TrimSuffix(loc, "?hecho=alta")
	form := url.Values{"login": {"lucia.perez"}, "email": {"lucia@guanajuato.gob.mx"}, "full_name": {"Lucía Pérez"}, "profile": {"consulta"},
		"active": {"on"}, "password": {"nueva-clave-larga"}, "password_confirm": {"nueva"}}
	res, _ = admin.post(edit, form)
	require.Equal(t, 422, res.StatusCode)
	u, err := account.NewStore(m.pool).ByLogin(context.Background(), "lucia")
	require.NoError(t, err, "the login did not change")

	// deactivate ("Activo" unchecked): her session ends at once, she cannot sign in
	form = url.Values{"login": {"lucia"}, "email": {"lucia@guanajuato.gob.mx"}, "full_name": {"Lucía Pérez"}, "profile": {"consulta"}}
	res, body = admin.post(edit, form)
	require.Equal(t, 303, res.StatusCode, errorText(body))
	res, _ = lucia.do("GET", "/cuenta", nil)
	require.Equal(t, 303, res.StatusCode)
	res, _ = lucia.post("/entrar", url.Values{"login": {"lucia"}, "password": {"lucia-clave-larga"}})
	require.Equal(t, 401, res.StatusCode)
	_, body = admin.do("GET", "/usuarios?activo=no", nil)
	require.Contains(t, body, "lucia@guanajuato.gob.mx")
	_, body = admin.do("GET", "/usuarios?activo=si&q=lucia", nil)
	require.NotContains(t, body, "lucia@guanajuato.gob.mx")

	var actions []string
	rows, err := m.pool.Query(context.Background(), `SELECT action FROM meta.audit_log WHERE object_type = 'user' AND object_id = $1 ORDER BY id`, fmt.Sprint(u.ID))
	require.NoError(t, err)
	for rows.Next() {
		var a string
		require.NoError(t, rows.Scan(&a))
		actions = append(actions, a)
	}
	require.Equal(t, []string{"user.create", "user.welcome_sent", "user.set_password", "user.signin", "user.deactivate"}, actions)
}
