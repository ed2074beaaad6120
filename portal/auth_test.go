package portal

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

// client is a browser-like HTTP client: a cookie jar, no redirects followed.
type client struct {
	t  *testing.T
	b  *bundle
	hc *http.Client
}

func (b *bundle) client(t *testing.T) *client {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &client{t: t, b: b, hc: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (cl *client) do(method, path string, body io.Reader, header ...string) (*http.Response, string) {
	cl.t.Helper()
	req, err := http.NewRequest(method, cl.b.http.URL+path, body)
	require.NoError(cl.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := cl.hc.Do(req)
	require.NoError(cl.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(cl.t, err)
	return res, string(raw)
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// csrf reads the CSRF token the pages give this client.
func (cl *client) csrf() string {
	cl.t.Helper()
	_, body := cl.do("GET", "/entrar", nil)
	if m := csrfMeta.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	_, body = cl.do("GET", "/salir", nil)
	m := csrfMeta.FindStringSubmatch(body)
	require.NotNil(cl.t, m, "no csrf meta tag")
	return m[1]
}

// post sends a form with the client's CSRF token.
func (cl *client) post(path string, form url.Values) (*http.Response, string) {
	cl.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", cl.csrf())
	}
	return cl.do("POST", path, strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
}

func (cl *client) signIn(login, password string) *http.Response {
	cl.t.Helper()
	res, body := cl.post("/entrar", url.Values{"login": {login}, "password": {password}})
	require.Equal(cl.t, http.StatusSeeOther, res.StatusCode, body)
	return res
}

// user creates an active user with password login+"-clave-larga".
func (b *bundle) user(t *testing.T, login string, p account.Profile, dep *int64) account.User {
	t.Helper()
	u, err := account.NewStore(b.pool).Create(context.Background(), account.NewUser{Login: login, Email: login + "@guanajuato.gob.mx",
		FullName: "Usuario " + login, Profile: p, DependenciaID: dep, Password: login + "-clave-larga"})
	require.NoError(t, err)
	return u
}

// dependencia creates a dependencia and returns its id.
func (b *bundle) dependencia(t *testing.T, clave string) *int64 {
	t.Helper()
	var id int64
	require.NoError(t, b.pool.QueryRow(context.Background(),
		`INSERT INTO meta.dependencia (clave, nombre) VALUES ($1, $2) RETURNING id`, clave, "Dependencia "+clave).Scan(&id))
	return &id
}

func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.user(t, "ana", account.Consulta, nil)
	cl := b.client(t)

	res, body := cl.do("GET", "/cuenta", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "anonymous are sent to sign in")
	require.Equal(t, "/entrar?siguiente=%2Fcuenta", res.Header.Get("Location"))

	res, body = cl.post("/entrar", url.Values{"login": {"ana"}, "password": {"equivocada-123"}})
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Contains(t, body, "Usuario o contraseña incorrectos")
	res, body2 := cl.post("/entrar", url.Values{"login": {"nadie"}, "password": {"equivocada-123"}})
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Equal(t, errorText(body), errorText(body2), "an unknown login reads exactly like a wrong password")

	res, _ = cl.post("/entrar", url.Values{"login": {"ANA"}, "password": {"ana-clave-larga"}, "siguiente": {"/cuenta"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, "/cuenta", res.Header.Get("Location"))
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			ck = c
		}
	}
	require.NotNil(t, ck)
	require.True(t, ck.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	require.False(t, ck.Secure, "plain HTTP from a client that is not a trusted proxy")

	res, body = cl.do("GET", "/cuenta", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "Usuario ana")
	require.Contains(t, body, `id="nav-salir"`)

	// sign-out needs the CSRF token
	res, _ = cl.do("POST", "/salir", nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = cl.post("/salir", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res, _ = cl.do("GET", "/cuenta", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "the session is gone")

	// the old cookie value is worthless on its own
	stolen := b.client(t)
	u, _ := url.Parse(b.http.URL)
	stolen.hc.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: ck.Value}})
	res, _ = stolen.do("GET", "/cuenta", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode)

	var n int
	require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT count(*) FROM meta.audit_log WHERE action = 'user.signin'`).Scan(&n))
	require.Equal(t, 1, n)
}

var errorRe = regexp.MustCompile(`role="alert"[^>]*>([^<]*)<`)

func errorText(body string) string {
	m := errorRe.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestSecureCookieBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		proxies string
		secure  bool
	}{
		{"trusted proxy says https", "127.0.0.0/8", true},
		{"untrusted client says https", "10.0.0.0/8", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, n, err := net.ParseCIDR(tc.proxies)
			require.NoError(t, err)
			b := setup(t, Options{TrustedProxies: []*net.IPNet{n}})
			res, _ := b.client(t).do("GET", "/entrar", nil, "X-Forwarded-Proto", "https")
			require.NotEmpty(t, res.Cookies())
			require.Equal(t, tc.secure, res.Cookies()[0].Secure)
		})
	}
}

func TestSignInThrottled(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{SignInThrottle: account.Throttle{PerLogin: 3, PerAddr: 5, Window: time.Hour}})
	b.user(t, "beto", account.Consulta, nil)
	b.user(t, "carla", account.Consulta, nil)
	cl := b.client(t)
	for range 3 {
		res, _ := cl.post("/entrar", url.Values{"login": {"beto"}, "password": {"mal-mal-mal-mal"}})
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	}
	res, body := cl.post("/entrar", url.Values{"login": {"beto"}, "password": {"beto-clave-larga"}})
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "even the right password waits")
	require.Contains(t, body, "Demasiados intentos fallidos")
	// another account from the same address still works, until the address limit
	cl.signIn("carla", "carla-clave-larga")
	for range 2 {
		res, _ = cl.post("/entrar", url.Values{"login": {"otro"}, "password": {"mal-mal-mal-mal"}})
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	}
	res, _ = cl.post("/entrar", url.Values{"login": {"carla"}, "password": {"carla-clave-larga"}})
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "5 failures from one address")
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.user(t, "dora", account.Consulta, nil)
	cl := b.client(t)

	// the sign-in form itself is protected
	res, _ := cl.do("POST", "/entrar", strings.NewReader("login=dora&password=dora-clave-larga"), "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	// a token from another visitor does not fit
	other := b.client(t).csrf()
	res, body := cl.post("/entrar", url.Values{"login": {"dora"}, "password": {"dora-clave-larga"}, "csrf": {other}})
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body, "no pudo verificarse")
	cl.signIn("dora", "dora-clave-larga")

	// JSON calls with the session cookie need the header
	b.srv.echo.POST("/api/v1/prueba", func(c *echo.Context) error { return c.JSON(200, map[string]string{"login": b.srv.caller(c).Login}) }, b.srv.requireSignIn)
	res, body = cl.do("POST", "/api/v1/prueba", strings.NewReader("{}"), "Content-Type", "application/json")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	require.Contains(t, body, "csrf_invalido")
	res, body = cl.do("POST", "/api/v1/prueba", strings.NewReader("{}"), "Content-Type", "application/json", csrfHeader, cl.csrf())
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	require.Contains(t, body, `"dora"`)

	// a bearer token needs none
	u, err := account.NewStore(b.pool).ByLogin(context.Background(), "dora")
	require.NoError(t, err)
	_, secret, err := account.NewStore(b.pool).NewToken(context.Background(), u.ID, "sistema", nil)
	require.NoError(t, err)
	anon := b.client(t)
	res, body = anon.do("POST", "/api/v1/prueba", strings.NewReader("{}"), "Authorization", "Bearer "+secret)
	require.Equal(t, http.StatusOK, res.StatusCode, body)
	// anonymous API calls: nothing to forge, refused for want of a user
	res, body = anon.do("POST", "/api/v1/prueba", strings.NewReader("{}"))
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Contains(t, body, "no_autenticado")
	res, body = anon.do("GET", "/api/v1/prueba", nil, "Authorization", "Bearer gbd_inventado")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Contains(t, body, "token_invalido")
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/cuenta": "/cuenta", "": "/", "https://malo.example": "/", "//malo.example": "/", "/\\malo.example": "/",
		"/usuarios?x=1": "/usuarios?x=1",
	} {
		require.Equal(t, want, localPath(in), in)
	}
}

// The anonymous CSRF cookie comes only with a rendered page, never with a
// static file or an API answer a shared cache might keep.
func TestAnonymousCSRFCookieOnlyOnPages(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	for _, path := range []string{"/static/app.css", "/healthz", "/api/v1/openapi.json"} {
		res, _ := b.client(t).do("GET", path, nil)
		require.Empty(t, res.Cookies(), path)
	}
	res, _ := b.client(t).do("GET", "/entrar", nil)
	require.Len(t, res.Cookies(), 1)
	require.Equal(t, anonCookie, res.Cookies()[0].Name)
	require.Equal(t, "private, no-store", res.Header.Get("Cache-Control"))
	// without the cookie a form cannot be sent
	res, _ = b.client(t).do("POST", "/entrar", strings.NewReader("login=x&password=y&csrf=z"), "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
}
