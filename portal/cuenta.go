package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// accountPage is /cuenta: the caller's own password, tokens and sessions.
type accountPage struct {
	User     *account.User
	Tokens   []account.Token
	NewToken string // the secret of a token just created, shown once
	Message  string
	Error    string
}

func (s *Server) bindAccount() {
	s.echo.GET("/cuenta", s.accountPage, s.requireSignIn)
	s.echo.POST("/cuenta/contrasena", s.changeOwnPassword, s.requireSignIn)
	s.echo.POST("/cuenta/salir-todo", s.signOutEverywhere, s.requireSignIn)
	s.echo.POST("/cuenta/tokens", s.createTokenForm, s.requireSignIn)
	s.echo.POST("/cuenta/tokens/:id/revocar", s.revokeTokenForm, s.requireSignIn)
}

func (s *Server) showAccount(c *echo.Context, status int, page accountPage) error {
	noStore(c)
	u := s.caller(c)
	tokens, err := s.accounts().Tokens(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	page.User, page.Tokens = u, tokens
	if u.MustChangePassword && page.Message == "" && page.Error == "" {
		page.Message = "Su contraseña es temporal: elija una nueva para continuar."
	}
	return s.render(c, status, "cuenta.html", page)
}

func (s *Server) accountPage(c *echo.Context) error {
	var page accountPage
	switch c.QueryParam("hecho") {
	case "contrasena":
		page.Message = "Su contraseña se cambió."
	case "revocado":
		page.Message = "El token se revocó; ya no abre la API."
	}
	return s.showAccount(c, http.StatusOK, page)
}

func (s *Server) changeOwnPassword(c *echo.Context) error {
	ctx := c.Request().Context()
	u := s.caller(c)
	var hash *string
	if err := s.opts.Pool.QueryRow(ctx, `SELECT password_hash FROM meta.app_user WHERE id = $1`, u.ID).Scan(&hash); err != nil {
		return err
	}
	if hash == nil {
		return s.showAccount(c, http.StatusUnprocessableEntity, accountPage{Error: "Su cuenta no tiene contraseña; use el enlace del correo de bienvenida."})
	}
	ok, err := account.CheckPassword(*hash, c.FormValue("current"))
	if err != nil {
		return err
	}
	if !ok {
		return s.showAccount(c, http.StatusUnprocessableEntity, accountPage{Error: "La contraseña actual no es correcta."})
	}
	pw := c.FormValue("password")
	if err := account.CheckNewPassword(pw, c.FormValue("password_confirm")); err != nil {
		var ie *account.InputError
		if errors.As(err, &ie) {
			return s.showAccount(c, http.StatusUnprocessableEntity, accountPage{Error: ie.Message})
		}
		return err
	}
	keep, _ := c.Get(ctxSession).(string)
	err = pgdb.WithTx(ctx, s.opts.Pool, func(tx pgx.Tx) error {
		if err := account.NewStore(tx).SetPassword(ctx, u.ID, pw, false); err != nil {
			return err
		}
		// Other sessions end: whoever knew the old password is signed out.
		if _, err := account.NewStore(tx).EndOtherSessions(ctx, u.ID, keep); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.auditEntry(c, nil, "user.change_password", "user", fmt.Sprint(u.ID), map[string]string{"via": "cuenta"}))
	})
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cuenta?hecho=contrasena")
}

func (s *Server) signOutEverywhere(c *echo.Context) error {
	ctx := c.Request().Context()
	u := s.caller(c)
	err := pgdb.WithTx(ctx, s.opts.Pool, func(tx pgx.Tx) error {
		n, err := account.NewStore(tx).EndSessions(ctx, u.ID)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.auditEntry(c, nil, "user.signout_all", "user", fmt.Sprint(u.ID), map[string]int64{"sessions": n}))
	})
	if err != nil {
		return err
	}
	s.clearCookie(c, sessionCookie)
	return c.Redirect(http.StatusSeeOther, "/entrar")
}

func (s *Server) createTokenForm(c *echo.Context) error {
	_, secret, err := s.createToken(c.Request().Context(), c, c.FormValue("name"))
	var ie *account.InputError
	if errors.As(err, &ie) {
		return s.showAccount(c, http.StatusUnprocessableEntity, accountPage{Error: ie.Message})
	}
	if err != nil {
		return err
	}
	return s.showAccount(c, http.StatusOK, accountPage{NewToken: secret,
		Message: "Token creado. Cópielo ahora: no se volverá a mostrar."})
}

func (s *Server) createToken(ctx context.Context, c *echo.Context, name string) (account.Token, string, error) {
	return s.createTokenExpiring(ctx, c, s.caller(c), name, nil)
}

func (s *Server) createTokenExpiring(ctx context.Context, c *echo.Context, u *account.User, name string, expires *time.Time) (account.Token, string, error) {
	var tok account.Token
	var secret string
	err := pgdb.WithTx(ctx, s.opts.Pool, func(tx pgx.Tx) error {
		var err error
		tok, secret, err = account.NewStore(tx).NewToken(ctx, u.ID, name, expires)
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.auditEntry(c, nil, "token.create", "user", fmt.Sprint(u.ID),
			map[string]any{"token_id": tok.ID, "name": tok.Name, "prefix": tok.Prefix}))
	})
	return tok, secret, err
}

// revokeToken ends the caller's token :id (404 when he has no such token).
func (s *Server) revokeToken(c *echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := s.caller(c)
	err = pgdb.WithTx(ctx, s.opts.Pool, func(tx pgx.Tx) error {
		if err := account.NewStore(tx).RevokeToken(ctx, u.ID, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, s.auditEntry(c, nil, "token.revoke", "user", fmt.Sprint(u.ID), map[string]int64{"token_id": id}))
	})
	if errors.Is(err, account.ErrTokenNotFound) {
		return &Problem{Status: http.StatusNotFound, Code: "token_no_encontrado", Title: "No encontrado", Detail: "No tiene un token vigente con ese número."}
	}
	return err
}

func (s *Server) revokeTokenForm(c *echo.Context) error {
	if err := s.revokeToken(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/cuenta?hecho=revocado")
}
