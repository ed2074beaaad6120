package portal

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Authentication and authorisation, for every area of the portal:
//
//   - s.caller(c) is the signed-in user, nil for the anonymous public;
//   - s.requireSignIn and s.requirePermission(p) guard routes (pages redirect
//     to /entrar, APIs answer 401/403 problems);
//   - handlers of objects that belong to a dependencia then ask
//     caller.Can(p, &dependenciaID).
//
// A request is authenticated by a personal API token (Authorization: Bearer)
// or by the session cookie. Requests that change something (POST, PUT, PATCH,
// DELETE) made with the session cookie, and every form of the pages, must
// carry the CSRF token: the form field "csrf" ({{template "csrf" .}}) or the
// header X-CSRF-Token (scripts read it from <meta name="csrf-token">).
// Bearer-token calls need none: no browser sends them on its own.

const (
	sessionCookie = "gobdatos_sesion"
	// anonCookie seeds the CSRF token of visitors without a session (the
	// sign-in form, the set-password link).
	anonCookie = "gobdatos_csrf"
	csrfField  = "csrf"
	csrfHeader = "X-CSRF-Token"
	ctxAuth    = "gobdatos.auth"
	ctxSession = "gobdatos.session"
)

// authKind is how the caller proved who he is.
type authKind int

const (
	authNone authKind = iota
	authSession
	authBearer
)

// accounts is the user store on the portal's database.
func (s *Server) accounts() *account.Store { return account.NewStore(s.opts.Pool) }

// caller returns the signed-in user of the request, or nil for anonymous.
func (s *Server) caller(c *echo.Context) *account.User {
	u, _ := c.Get(ctxUser).(*account.User)
	return u
}

var errBadToken = &Problem{
	Status: http.StatusUnauthorized,
	Code:   "token_invalido",
	Title:  "Token de acceso inválido",
	Detail: "El token no existe, fue revocado, venció o su usuario está desactivado. Genere uno nuevo en «Mi cuenta».",
}

var errCSRF = &Problem{
	Status: http.StatusForbidden,
	Code:   "csrf_invalido",
	Title:  "La solicitud no pudo verificarse",
	Detail: "Falta el código de verificación del formulario o no corresponde a su sesión. Recargue la página e intente de nuevo.",
}

// authenticate identifies the caller and enforces CSRF on every request.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		req := c.Request()
		ctx := req.Context()
		if h := req.Header.Get(echo.HeaderAuthorization); h != "" {
			scheme, secret, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="gobdatos"`)
				return errBadToken
			}
			u, err := s.accounts().TokenUser(ctx, strings.TrimSpace(secret))
			if errors.Is(err, account.ErrNotFound) {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="gobdatos", error="invalid_token"`)
				return errBadToken
			}
			if err != nil {
				return err
			}
			c.Set(ctxUser, &u)
			c.Set(ctxAuth, authBearer)
			return next(c)
		}
		seed := ""
		if ck, err := c.Cookie(sessionCookie); err == nil && ck.Value != "" {
			u, err := s.accounts().SessionUser(ctx, ck.Value, s.opts.Sessions)
			switch {
			case err == nil:
				c.Set(ctxUser, &u)
				c.Set(ctxAuth, authSession)
				c.Set(ctxSession, ck.Value)
				seed = "s:" + ck.Value
			case errors.Is(err, account.ErrNotFound):
				s.clearCookie(c, sessionCookie)
			default:
				return err
			}
		}
		api := isAPI(req.URL.Path)
		if seed == "" && !api {
			if ck, err := c.Cookie(anonCookie); err == nil && len(ck.Value) >= 20 {
				seed = "a:" + ck.Value
			}
		}
		if seed != "" {
			c.Set(ctxCSRF, s.csrfToken(seed))
		}
		// Pages always need the token on changes; APIs when called with the
		// session cookie (anonymous API calls carry no authority to abuse).
		if unsafeMethod(req.Method) && (!api || c.Get(ctxAuth) == authSession) && routed(c) {
			sent := req.Header.Get(csrfHeader)
			if sent == "" && !api {
				sent = c.FormValue(csrfField)
			}
			if seed == "" || !hmac.Equal([]byte(sent), []byte(s.csrfToken(seed))) {
				return errCSRF
			}
		}
		return next(c)
	}
}

// routed reports whether a route answers the request: a 404 or 405 changes
// nothing and is answered as such.
func routed(c *echo.Context) bool {
	switch c.RouteInfo().Name {
	case echo.NotFoundRouteName, echo.MethodNotAllowedRouteName:
		return false
	}
	return true
}

func unsafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// csrfToken binds the CSRF token to the session (or the anonymous cookie)
// under the secret key, so it cannot be forged nor reused elsewhere.
func (s *Server) csrfToken(seed string) string {
	m := hmac.New(sha256.New, s.opts.SecretKey)
	m.Write([]byte("csrf\x00" + seed))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// pageCSRF is the CSRF token a page shows: the caller's, or for a visitor
// without a session a new anonymous cookie's. The cookie is set only with a
// rendered page (never with static files or API answers), and that answer is
// kept out of shared caches, so no two visitors ever share it.
func (s *Server) pageCSRF(c *echo.Context) string {
	if tok, ok := c.Get(ctxCSRF).(string); ok {
		return tok
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	s.setCookie(c, anonCookie, v, time.Time{})
	c.Response().Header().Set("Cache-Control", "private, no-store")
	tok := s.csrfToken("a:" + v)
	c.Set(ctxCSRF, tok)
	return tok
}

// secure reports whether the browser reached us over TLS: directly, through
// a trusted proxy that says so (X-Forwarded-Proto), or per the public URL.
func (s *Server) secure(c *echo.Context) bool {
	req := c.Request()
	if req.TLS != nil || strings.HasPrefix(s.opts.BaseURL, "https://") {
		return true
	}
	if !strings.EqualFold(req.Header.Get(echo.HeaderXForwardedProto), "https") {
		return false
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		host = req.RemoteAddr
	}
	ip := net.ParseIP(host)
	for _, n := range s.opts.TrustedProxies {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

func (s *Server) setCookie(c *echo.Context, name, value string, expires time.Time) {
	ck := &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   s.secure(c),
	}
	if !expires.IsZero() {
		ck.Expires = expires
		ck.MaxAge = int(time.Until(expires).Seconds())
	}
	c.SetCookie(ck)
}

func (s *Server) clearCookie(c *echo.Context, name string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.secure(c)})
}

var errSignInRequired = &Problem{
	Status: http.StatusUnauthorized,
	Code:   "no_autenticado",
	Title:  "Se requiere iniciar sesión",
	Detail: "Inicie sesión en el portal o envíe un token personal en el encabezado Authorization: Bearer.",
}

// requireSignIn lets only signed-in users through: pages send the anonymous
// to /entrar (and back afterwards), APIs answer 401.
func (s *Server) requireSignIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		u := s.caller(c)
		req := c.Request()
		if u == nil {
			if isAPI(req.URL.Path) {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="gobdatos"`)
				return errSignInRequired
			}
			if req.Method != http.MethodGet {
				return errSignInRequired
			}
			return c.Redirect(http.StatusSeeOther, "/entrar?siguiente="+url.QueryEscape(req.URL.RequestURI()))
		}
		// A temporary password is changed before anything else is done.
		if u.MustChangePassword && !isAPI(req.URL.Path) && !strings.HasPrefix(req.URL.Path, "/cuenta") {
			return c.Redirect(http.StatusSeeOther, "/cuenta")
		}
		return next(c)
	}
}

// requirePermission lets through signed-in users who hold p for at least
// some objects (a Publicador: those of his dependencia); handlers of
// dependencia-scoped objects then check caller.Can(p, &obj.DependenciaID).
func (s *Server) requirePermission(p account.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return s.requireSignIn(func(c *echo.Context) error {
			if !s.caller(c).Holds(p) {
				return forbidden(p)
			}
			return next(c)
		})
	}
}

// forbidden is the answer to a signed-in user who lacks p.
func forbidden(p account.Permission) *Problem {
	return &Problem{
		Status: http.StatusForbidden,
		Code:   "prohibido",
		Title:  "No tiene permiso para esta acción",
		Detail: "Su perfil no le permite " + p.Name() + ".",
	}
}
