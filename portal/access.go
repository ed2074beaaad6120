package portal

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Entity access (F-DGTIT-DAID-GGD-5): the PostgreSQL roles that let a
// dependencia write its own catalog tables in cat, through the API
// (/api/v1/access) and the page /accesos. Reading is scoped by dependencia
// like connectors; granting and revoking a role — which decides which
// tables of cat an entity may write — is for administrators; an entity's
// Publicador may rotate its own role's password. A password is shown once,
// in the answer to the grant or rotation, and never again.

func (s *Server) bindAccess() {
	if s.opts.Keys == nil {
		return // no keyring: nowhere to keep the roles' passwords sealed
	}
	read := s.requirePermission(account.ReadInternal)
	manage := s.requirePermission(account.ManageConnectors)
	s.api(http.MethodGet, "/api/v1/access", s.apiListAccess, APIDoc{
		Summary: "Accesos de entidades (F-5)", Tag: "accesos", Auth: true,
		Description: "Los roles de PostgreSQL de las dependencias en el esquema cat: los de la dependencia de quien llama, o todos para administradores. Nunca incluyen contraseñas.",
		Query:       []Param{{Name: "revoked", Type: "boolean", Description: "incluir los revocados"}},
		Response:    []access.Grant{},
	}, read)
	s.api(http.MethodPost, "/api/v1/access", s.apiGrantAccess, APIDoc{
		Summary: "Otorgar un acceso", Tag: "accesos", Auth: true, Status: http.StatusCreated,
		Description: "Crea el rol con permisos sólo sobre las tablas indicadas de cat (Administrador o Super Administrador). La contraseña se devuelve esta única vez.",
		Body:        accessGrantIn{}, Response: accessSecret{},
	}, manage)
	s.api(http.MethodPost, "/api/v1/access/:role/rotate", s.apiRotateAccess, APIDoc{
		Summary: "Cambiar la contraseña de un acceso", Tag: "accesos", Auth: true,
		Description: "Genera una contraseña nueva para el rol; se devuelve esta única vez.",
		Response:    accessSecret{},
	}, manage)
	s.api(http.MethodDelete, "/api/v1/access/:role", s.apiRevokeAccess, APIDoc{
		Summary: "Revocar un acceso", Tag: "accesos", Auth: true, Status: http.StatusNoContent,
		Description: "Quita todos los permisos y elimina el rol (Administrador o Super Administrador); el registro se conserva.",
	}, manage)
	s.echo.GET("/accesos", s.accessPage, read)
	s.echo.POST("/accesos", s.accessGrantForm, manage)
	s.echo.POST("/accesos/:role/rotar", s.accessRotateForm, manage)
	s.echo.POST("/accesos/:role/revocar", s.accessRevokeForm, manage)
}

// accessGrantIn asks for a grant: the dependencia's clave, the tables of
// cat, and optionally the role's name (ent_ and the clave by default).
type accessGrantIn struct {
	Dependencia string   `json:"dependencia"`
	Role        string   `json:"role,omitempty"`
	Tables      []string `json:"tables"`
}

// accessSecret is the one answer that carries a role's password.
type accessSecret struct {
	Grant    access.Grant `json:"grant"`
	Password string       `json:"password"`
}

func (s *Server) accessStore() *access.Store {
	return &access.Store{DB: s.opts.Pool, Keys: s.opts.Keys}
}

var errAccessNotFound = &Problem{Status: http.StatusNotFound, Code: "acceso_no_encontrado", Title: "No encontrado",
	Detail: "No existe un acceso vigente con ese rol, o no es de su dependencia."}

var errAccessAdmins = &Problem{Status: http.StatusForbidden, Code: "prohibido", Title: "No tiene permiso para esta acción",
	Detail: "Sólo un Administrador o Super Administrador otorga o revoca accesos de entidades."}

// accessProblem turns the store's errors into answers.
func accessProblem(err error) error {
	switch {
	case errors.Is(err, access.ErrInvalid):
		msg := err.Error()
		if i := strings.LastIndex(msg, access.ErrInvalid.Error()+": "); i >= 0 {
			msg = msg[i+len(access.ErrInvalid.Error())+2:]
		}
		return &Problem{Status: http.StatusUnprocessableEntity, Code: "datos_invalidos", Title: "El acceso no se otorgó",
			Detail: strings.ToUpper(msg[:1]) + msg[1:] + ".", cause: err}
	case errors.Is(err, access.ErrNotFound):
		return errAccessNotFound
	}
	return err
}

// visibleGrants are the grants the caller may see: his dependencia's, or
// every one for administrators.
func (s *Server) visibleGrants(ctx context.Context, u *account.User, withRevoked bool) ([]access.Grant, error) {
	all, err := s.accessStore().List(ctx, withRevoked)
	if err != nil {
		return nil, err
	}
	scope := connectorScope(u)
	if scope == nil {
		return all, nil
	}
	var mine string
	if err := s.opts.Pool.QueryRow(ctx, `SELECT clave FROM meta.dependencia WHERE id = $1`, *scope).Scan(&mine); err != nil {
		return nil, err
	}
	out := []access.Grant{}
	for _, g := range all {
		if g.Dependencia == mine {
			out = append(out, g)
		}
	}
	return out, nil
}

// rotatable returns the active grant of role if the caller may rotate it:
// an administrator, or the Publicador of its dependencia.
func (s *Server) rotatable(c *echo.Context, role string) (access.Grant, error) {
	ctx := c.Request().Context()
	grants, err := s.visibleGrants(ctx, s.caller(c), false)
	if err != nil {
		return access.Grant{}, err
	}
	for _, g := range grants {
		if g.Role != role {
			continue
		}
		var dep int64
		if err := s.opts.Pool.QueryRow(ctx, `SELECT id FROM meta.dependencia WHERE clave = $1`, g.Dependencia).Scan(&dep); err != nil {
			return access.Grant{}, err
		}
		if !s.caller(c).Can(account.ManageConnectors, &dep) {
			return access.Grant{}, errAccessNotFound
		}
		return g, nil
	}
	return access.Grant{}, errAccessNotFound
}

func (s *Server) grantAccess(c *echo.Context, in accessGrantIn) (accessSecret, error) {
	if !s.caller(c).Can(account.ManageConnectors, nil) {
		return accessSecret{}, errAccessAdmins
	}
	g, pw, err := s.accessStore().Grant(c.Request().Context(), access.Request{Dependencia: strings.TrimSpace(in.Dependencia),
		Role: strings.TrimSpace(in.Role), Tables: in.Tables, Actor: auditActor(s.caller(c))})
	if err != nil {
		return accessSecret{}, accessProblem(err)
	}
	return accessSecret{Grant: g, Password: pw}, nil
}

func (s *Server) rotateAccess(c *echo.Context) (accessSecret, error) {
	g, err := s.rotatable(c, c.Param("role"))
	if err != nil {
		return accessSecret{}, err
	}
	pw, err := s.accessStore().Rotate(c.Request().Context(), g.Role, auditActor(s.caller(c)))
	if err != nil {
		return accessSecret{}, accessProblem(err)
	}
	return accessSecret{Grant: g, Password: pw}, nil
}

func (s *Server) revokeAccess(c *echo.Context) error {
	if !s.caller(c).Can(account.ManageConnectors, nil) {
		return errAccessAdmins
	}
	return accessProblem(s.accessStore().Revoke(c.Request().Context(), c.Param("role"), auditActor(s.caller(c))))
}

func (s *Server) apiListAccess(c *echo.Context) error {
	noStore(c)
	list, err := s.visibleGrants(c.Request().Context(), s.caller(c), c.QueryParam("revoked") == "true")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) apiGrantAccess(c *echo.Context) error {
	var in accessGrantIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	out, err := s.grantAccess(c, in)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiRotateAccess(c *echo.Context) error {
	out, err := s.rotateAccess(c)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiRevokeAccess(c *echo.Context) error {
	if err := s.revokeAccess(c); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// --- the page ---

type accessPageView struct {
	Grants []access.Grant
	Deps   []dependenciaOption
	// Admin may grant and revoke; CanRotate says per role.
	Admin     bool
	Rotatable map[string]bool
	Secret    *accessSecret
	Form      accessGrantIn
	Tables    string
	Message   string
	Error     string
}

func (s *Server) showAccess(c *echo.Context, status int, v accessPageView) error {
	noStore(c)
	ctx := c.Request().Context()
	u := s.caller(c)
	grants, err := s.visibleGrants(ctx, u, false)
	if err != nil {
		return err
	}
	v.Grants, v.Admin, v.Rotatable = grants, u.Can(account.ManageConnectors, nil), map[string]bool{}
	for _, g := range grants {
		var dep int64
		if err := s.opts.Pool.QueryRow(ctx, `SELECT id FROM meta.dependencia WHERE clave = $1`, g.Dependencia).Scan(&dep); err != nil {
			return err
		}
		v.Rotatable[g.Role] = u.Can(account.ManageConnectors, &dep)
	}
	if v.Admin {
		if v.Deps, err = s.dependenciaOptions(ctx); err != nil {
			return err
		}
	}
	if c.QueryParam("hecho") == "revocado" {
		v.Message = "Acceso revocado: el rol ya no existe."
	}
	return s.render(c, status, "accesos.html", v)
}

func (s *Server) accessPage(c *echo.Context) error {
	return s.showAccess(c, http.StatusOK, accessPageView{})
}

// formProblem shows a refused form on the page, or returns other errors.
func (s *Server) accessFormError(c *echo.Context, v accessPageView, err error) error {
	var p *Problem
	if errors.As(err, &p) && p.Status == http.StatusUnprocessableEntity {
		v.Error = p.Detail
		return s.showAccess(c, http.StatusUnprocessableEntity, v)
	}
	return err
}

func (s *Server) accessGrantForm(c *echo.Context) error {
	v := accessPageView{Form: accessGrantIn{Dependencia: c.FormValue("dependencia"), Role: c.FormValue("role")}, Tables: c.FormValue("tables")}
	for _, line := range strings.FieldsFunc(v.Tables, func(r rune) bool { return r == '\n' || r == ',' || r == ' ' || r == '\r' }) {
		v.Form.Tables = append(v.Form.Tables, line)
	}
	out, err := s.grantAccess(c, v.Form)
	if err != nil {
		return s.accessFormError(c, v, err)
	}
	v.Secret, v.Form, v.Tables = &out, accessGrantIn{}, ""
	v.Message = "Acceso otorgado al rol «" + out.Grant.Role + "»."
	return s.showAccess(c, http.StatusOK, v)
}

func (s *Server) accessRotateForm(c *echo.Context) error {
	out, err := s.rotateAccess(c)
	if err != nil {
		return s.accessFormError(c, accessPageView{}, err)
	}
	return s.showAccess(c, http.StatusOK, accessPageView{Secret: &out, Message: "Contraseña nueva del rol «" + out.Grant.Role + "»."})
}

func (s *Server) accessRevokeForm(c *echo.Context) error {
	if err := s.revokeAccess(c); err != nil {
		return s.accessFormError(c, accessPageView{}, err)
	}
	return c.Redirect(http.StatusSeeOther, "/accesos?hecho=revocado")
}
