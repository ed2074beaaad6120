package portal

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

// User management (MP-DGTIT-DAID-GGD-GUP-1.6): the pages /usuarios and the
// API /api/v1/users share account.Manager, which checks the profile rules,
// writes the bitácora and queues the welcome e-mail.

// userManager is the manager acting for the caller of c.
func (s *Server) userManager(c *echo.Context) (*account.Manager, account.Actor) {
	return &account.Manager{DB: s.opts.Pool, BaseURL: s.baseURL(c)},
		account.Actor{User: s.caller(c), RequestID: c.Response().Header().Get(echo.HeaderXRequestID), RemoteAddr: c.RealIP()}
}

// baseURL is the portal's public address: the configured one, else the
// address the request came to.
func (s *Server) baseURL(c *echo.Context) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if s.secure(c) {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host
}

// userProblem turns the manager's errors into what the client is told.
func userProblem(err error) error {
	var bad account.Invalid
	switch {
	case errors.As(err, &bad):
		p := &Problem{Status: http.StatusUnprocessableEntity, Code: "datos_invalidos", Title: "Los datos del usuario no son válidos"}
		for _, e := range bad {
			p.Errors = append(p.Errors, ProblemItem{Field: e.Field, Message: e.Message})
		}
		p.Detail = bad[0].Message
		return p
	case errors.Is(err, account.ErrForbidden):
		return &Problem{Status: http.StatusForbidden, Code: "prohibido", Title: "No tiene permiso para esta acción",
			Detail: "Sólo un Super Administrador registra o modifica a un Super Administrador."}
	case errors.Is(err, account.ErrNotFound):
		return &Problem{Status: http.StatusNotFound, Code: "usuario_no_encontrado", Title: "No encontrado", Detail: "No existe ese usuario."}
	}
	return err
}

// dependenciaOption is one choice of the dependencia select.
type dependenciaOption struct {
	ID     int64
	Clave  string
	Nombre string
}

func (s *Server) dependenciaOptions(ctx context.Context) ([]dependenciaOption, error) {
	rows, err := s.opts.Pool.Query(ctx, `SELECT id, clave, nombre FROM meta.dependencia WHERE activo ORDER BY nombre`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []dependenciaOption
	for rows.Next() {
		var d dependenciaOption
		if err := rows.Scan(&d.ID, &d.Clave, &d.Nombre); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}
