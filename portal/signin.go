package portal

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

type signInPage struct {
	Login string
	Next  string
	Error string
}

func (s *Server) bindSignIn() {
	s.echo.GET("/entrar", s.signInForm)
	s.echo.POST("/entrar", s.signIn)
	s.echo.GET("/salir", s.signOutForm)
	s.echo.POST("/salir", s.signOut)
}

// localPath keeps a redirect target inside the portal.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}

func (s *Server) signInForm(c *echo.Context) error {
	noStore(c)
	next := localPath(c.QueryParam("siguiente"))
	if s.caller(c) != nil {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return s.render(c, http.StatusOK, "entrar.html", signInPage{Next: next})
}

func (s *Server) signIn(c *echo.Context) error {
	noStore(c)
	ctx := c.Request().Context()
	page := signInPage{Login: strings.TrimSpace(c.FormValue("login")), Next: localPath(c.FormValue("siguiente"))}
	u, err := s.accounts().SignIn(ctx, page.Login, c.FormValue("password"), c.RealIP(), s.opts.SignInThrottle)
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		page.Error = "Usuario o contraseña incorrectos, o la cuenta no está activa."
		return s.render(c, http.StatusUnauthorized, "entrar.html", page)
	case errors.Is(err, account.ErrThrottled):
		page.Error = fmt.Sprintf("Demasiados intentos fallidos. Espere %d minutos e intente de nuevo.", int(s.opts.SignInThrottle.Window.Minutes()))
		return s.render(c, http.StatusTooManyRequests, "entrar.html", page)
	case err != nil:
		return err
	}
	// A new session on every sign-in: an identifier planted before it is worthless.
	if old, ok := c.Get(ctxSession).(string); ok {
		if err := s.accounts().EndSession(ctx, old); err != nil {
			return err
		}
	}
	secret, expires, err := s.accounts().NewSession(ctx, u.ID, s.opts.Sessions, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	if err := audit.Record(ctx, s.opts.Pool, s.auditEntry(c, &u, "user.signin", "user", fmt.Sprint(u.ID), nil)); err != nil {
		return err
	}
	s.setCookie(c, sessionCookie, secret, expires)
	if u.MustChangePassword {
		return c.Redirect(http.StatusSeeOther, "/cuenta")
	}
	return c.Redirect(http.StatusSeeOther, page.Next)
}

func (s *Server) signOutForm(c *echo.Context) error {
	noStore(c)
	if s.caller(c) == nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.render(c, http.StatusOK, "salir.html", nil)
}

func (s *Server) signOut(c *echo.Context) error {
	if secret, ok := c.Get(ctxSession).(string); ok {
		if err := s.accounts().EndSession(c.Request().Context(), secret); err != nil {
			return err
		}
	}
	s.clearCookie(c, sessionCookie)
	return c.Redirect(http.StatusSeeOther, "/")
}

// auditEntry is a bitácora line for a change made by actor (nil: the
// caller) in this request.
func (s *Server) auditEntry(c *echo.Context, actor *account.User, action, objectType, objectID string, detail any) audit.Entry {
	if actor == nil {
		actor = s.caller(c)
	}
	e := audit.Entry{
		Action:     action,
		ObjectType: objectType,
		ObjectID:   objectID,
		Detail:     detail,
		RequestID:  c.Response().Header().Get(echo.HeaderXRequestID),
		RemoteAddr: c.RealIP(),
	}
	if actor != nil {
		id := actor.ID
		e.Actor = audit.Actor{ID: &id, Login: actor.Login}
	}
	return e
}
