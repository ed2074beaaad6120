package portal

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Puestos: the roles of the manual that procedures give by grant
// (director_daid, coordinador_dm, …), granted and revoked by those who
// manage users, with the same rule: only a Super Administrador touches a
// Super Administrador. Each grant and revocation is a bitácora line.

func (s *Server) bindPuestos() {
	if s.opts.Procedures == nil {
		return
	}
	guard := s.requirePermission(account.ManageUsers)
	s.echo.GET("/puestos", s.puestosList, guard)
	s.echo.POST("/puestos", s.puestoGrant, guard)
	s.echo.POST("/puestos/revocar", s.puestoRevoke, guard)
}

type puestosPage struct {
	Roles   []procedure.GrantableRole
	Grants  []procedure.RoleGrant
	Login   string
	Role    string
	Message string
	Error   string
}

// RoleName is the manual's name of the puesto id.
func (p puestosPage) RoleName(id string) string {
	for _, r := range p.Roles {
		if r.ID == id {
			return r.Name
		}
	}
	return id
}

// ProfileNames are the names of the profiles that hold a puesto by default.
func (p puestosPage) ProfileNames(codes []string) string {
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = account.Profile(c).Name()
	}
	return strings.Join(names, ", ")
}

func (s *Server) showPuestos(c *echo.Context, status int, page puestosPage) error {
	noStore(c)
	eng := s.opts.Procedures
	grants, err := eng.Grants(c.Request().Context())
	if err != nil {
		return err
	}
	page.Roles, page.Grants = eng.Registry().GrantableRoles(), grants
	switch c.QueryParam("hecho") {
	case "otorgado":
		page.Message = "Puesto otorgado."
	case "revocado":
		page.Message = "Puesto revocado."
	}
	return s.render(c, status, "puestos.html", page)
}

func (s *Server) puestosList(c *echo.Context) error {
	return s.showPuestos(c, http.StatusOK, puestosPage{})
}

func auditActor(u *account.User) audit.Actor {
	id := u.ID
	return audit.Actor{ID: &id, Login: u.Login}
}

// puestoTarget is the user a grant or revocation is about, if the caller
// may change him.
func (s *Server) puestoTarget(c *echo.Context, find func(*account.Store) (account.User, error)) (account.User, error) {
	u, err := find(s.accounts())
	if err != nil {
		return u, err
	}
	if !s.caller(c).CanEdit(u) {
		return u, account.ErrForbidden
	}
	return u, nil
}

func (s *Server) puestoGrant(c *echo.Context) error {
	ctx := c.Request().Context()
	page := puestosPage{Login: strings.ToLower(strings.TrimSpace(c.FormValue("login"))), Role: c.FormValue("puesto")}
	u, err := s.puestoTarget(c, func(st *account.Store) (account.User, error) { return st.ByLogin(ctx, page.Login) })
	switch {
	case errors.Is(err, account.ErrNotFound):
		page.Error = fmt.Sprintf("No existe el usuario «%s».", page.Login)
	case errors.Is(err, account.ErrForbidden):
		return puestoForbidden()
	case err != nil:
		return err
	case !u.Active:
		page.Error = fmt.Sprintf("El usuario «%s» está desactivado: actívelo antes de otorgarle un puesto.", u.Login)
	default:
		err = s.opts.Procedures.Grant(ctx, auditActor(s.caller(c)), u.ID, page.Role)
		var r *procedure.Refusal
		if errors.As(err, &r) {
			page.Error = r.Message
			break
		}
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/puestos?hecho=otorgado")
	}
	return s.showPuestos(c, http.StatusUnprocessableEntity, page)
}

func (s *Server) puestoRevoke(c *echo.Context) error {
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.FormValue("user_id"), 10, 64)
	if err != nil {
		return puestoNotFound()
	}
	u, err := s.puestoTarget(c, func(st *account.Store) (account.User, error) { return st.ByID(ctx, id) })
	switch {
	case errors.Is(err, account.ErrNotFound):
		return puestoNotFound()
	case errors.Is(err, account.ErrForbidden):
		return puestoForbidden()
	case err != nil:
		return err
	}
	err = s.opts.Procedures.Revoke(ctx, auditActor(s.caller(c)), u.ID, c.FormValue("puesto"))
	if errors.Is(err, procedure.ErrNotFound) {
		return puestoNotFound()
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/puestos?hecho=revocado")
}

func puestoNotFound() *Problem {
	return &Problem{Status: http.StatusNotFound, Code: "puesto_no_encontrado", Title: "No encontrado",
		Detail: "Ese usuario no tiene ese puesto otorgado."}
}

func puestoForbidden() *Problem {
	return &Problem{Status: http.StatusForbidden, Code: "prohibido", Title: "No tiene permiso para esta acción",
		Detail: "Sólo un Super Administrador otorga o revoca puestos a un Super Administrador."}
}
