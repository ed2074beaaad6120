package portal

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

type usersPage struct {
	Users    []account.User
	Deps     map[int64]string
	Q        string
	Profile  string
	Active   string
	Profiles []account.Profile
	Next     int64
}

// DepName is the name of dependencia id, "—" for none.
func (p usersPage) DepName(id *int64) string {
	if id == nil {
		return "—"
	}
	return p.Deps[*id]
}

type userForm struct {
	New          bool
	User         account.User // the user as stored (edit)
	Details      account.Details
	SendWelcome  bool
	Deps         []dependenciaOption
	Profiles     []account.Profile // those the caller may assign
	Message      string
	Errors       map[string]string
	ErrorSummary []string
}

// SelectedDep is the dependencia chosen in the form, 0 for none.
func (f userForm) SelectedDep() int64 {
	if f.Details.DependenciaID == nil {
		return 0
	}
	return *f.Details.DependenciaID
}

func (s *Server) bindUserPages() {
	guard := s.requirePermission(account.ManageUsers)
	s.echo.GET("/usuarios", s.usersList, guard)
	s.echo.GET("/usuarios/nuevo", s.userNew, guard)
	s.echo.POST("/usuarios", s.userCreate, guard)
	s.echo.GET("/usuarios/:id", s.userEdit, guard)
	s.echo.POST("/usuarios/:id", s.userSave, guard)
	s.echo.GET("/contrasena/:token", s.passwordLinkForm)
	s.echo.POST("/contrasena/:token", s.passwordLinkSave)
}

func (s *Server) usersList(c *echo.Context) error {
	noStore(c)
	ctx := c.Request().Context()
	page := usersPage{Q: c.QueryParam("q"), Profile: c.QueryParam("perfil"), Active: c.QueryParam("activo"), Profiles: account.Profiles}
	f := account.Filter{Q: page.Q, Profile: account.Profile(page.Profile), Limit: 100}
	f.AfterID, _ = strconv.ParseInt(c.QueryParam("despues"), 10, 64)
	switch page.Active {
	case "si":
		t := true
		f.Active = &t
	case "no":
		v := false
		f.Active = &v
	}
	users, err := s.accounts().List(ctx, f)
	if err != nil {
		return err
	}
	page.Users = users
	if len(users) == f.Limit {
		page.Next = users[len(users)-1].ID
	}
	deps, err := s.dependenciaOptions(ctx)
	if err != nil {
		return err
	}
	page.Deps = map[int64]string{}
	for _, d := range deps {
		page.Deps[d.ID] = d.Nombre
	}
	return s.render(c, http.StatusOK, "usuarios.html", page)
}

func (s *Server) showUserForm(c *echo.Context, status int, f userForm) error {
	noStore(c)
	deps, err := s.dependenciaOptions(c.Request().Context())
	if err != nil {
		return err
	}
	f.Deps = deps
	u := s.caller(c)
	for _, p := range account.Profiles {
		if u.CanAssign(p) {
			f.Profiles = append(f.Profiles, p)
		}
	}
	return s.render(c, status, "usuario.html", f)
}

func (s *Server) userNew(c *echo.Context) error {
	return s.showUserForm(c, http.StatusOK, userForm{New: true, SendWelcome: true,
		Details: account.Details{Profile: account.Consulta, Active: true}})
}

// formDetails reads the fields of the user form.
func formDetails(c *echo.Context) (account.Details, error) {
	d := account.Details{
		Login:    c.FormValue("login"),
		Email:    c.FormValue("email"),
		FullName: c.FormValue("full_name"),
		Profile:  account.Profile(c.FormValue("profile")),
		Active:   c.FormValue("active") == "on",
	}
	if raw := strings.TrimSpace(c.FormValue("dependencia_id")); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return d, account.Invalid{{Field: "dependencia_id", Message: fmt.Sprintf("La dependencia «%s» no es válida.", raw)}}
		}
		d.DependenciaID = &id
	}
	return d, nil
}

// formErrors places the manager's complaints next to their fields.
func (f *userForm) setError(err error) bool {
	var bad account.Invalid
	if !errors.As(err, &bad) {
		return false
	}
	f.Errors = map[string]string{}
	for _, e := range bad {
		f.Errors[e.Field] = e.Message
		f.ErrorSummary = append(f.ErrorSummary, e.Message)
	}
	return true
}

func (s *Server) userCreate(c *echo.Context) error {
	ctx := c.Request().Context()
	f := userForm{New: true, SendWelcome: c.FormValue("send_welcome") == "on"}
	d, err := formDetails(c)
	f.Details = d
	f.Details.Active = true
	if err == nil {
		m, actor := s.userManager(c)
		var u account.User
		u, err = m.Register(ctx, actor, d, f.SendWelcome)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/usuarios/%d?hecho=alta", u.ID))
		}
	}
	if f.setError(err) {
		return s.showUserForm(c, http.StatusUnprocessableEntity, f)
	}
	return userProblem(err)
}

func (s *Server) userEdit(c *echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := s.accounts().ByID(c.Request().Context(), id)
	if err != nil {
		return userProblem(err)
	}
	if !s.caller(c).CanEdit(u) {
		return userProblem(account.ErrForbidden)
	}
	f := userForm{User: u, Details: account.Details{Login: u.Login, Email: u.Email, FullName: u.FullName,
		Profile: u.Profile, DependenciaID: u.DependenciaID, Active: u.Active}}
	switch c.QueryParam("hecho") {
	case "alta":
		f.Message = "Usuario registrado."
	case "guardado":
		f.Message = "Información del usuario guardada."
	}
	return s.showUserForm(c, http.StatusOK, f)
}

// userSave is "Guardar información del usuario": details, profile,
// "Activo", a new password typed twice, "Enviar correo de bienvenida".
func (s *Server) userSave(c *echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := s.accounts().ByID(ctx, id)
	if err != nil {
		return userProblem(err)
	}
	d, err := formDetails(c)
	f := userForm{User: u, Details: d, SendWelcome: c.FormValue("send_welcome") == "on"}
	if err == nil {
		m, actor := s.userManager(c)
		_, err = m.Save(ctx, actor, id, account.Edit{Details: d, Password: c.FormValue("password"),
			Confirm: c.FormValue("password_confirm"), SendWelcome: f.SendWelcome})
	}
	if err == nil {
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/usuarios/%d?hecho=guardado", id))
	}
	if f.setError(err) {
		return s.showUserForm(c, http.StatusUnprocessableEntity, f)
	}
	return userProblem(err)
}

type passwordLinkPage struct {
	User  account.User
	Token string
	Error string
	Done  bool
}

func (s *Server) passwordLinkForm(c *echo.Context) error {
	noStore(c)
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	u, err := s.accounts().PasswordLinkUser(c.Request().Context(), c.Param("token"))
	if errors.Is(err, account.ErrLinkInvalid) {
		return linkGone()
	}
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "contrasena.html", passwordLinkPage{User: u, Token: c.Param("token")})
}

func linkGone() *Problem {
	return &Problem{Status: http.StatusGone, Code: "enlace_vencido", Title: "El enlace ya no es válido",
		Detail: "El enlace para establecer la contraseña ya se usó, venció o fue reemplazado por uno más reciente. Pida al administrador del portal que le envíe de nuevo el correo de bienvenida."}
}

func (s *Server) passwordLinkSave(c *echo.Context) error {
	noStore(c)
	ctx := c.Request().Context()
	token := c.Param("token")
	u, err := account.UsePasswordLink(ctx, s.opts.Pool, token, c.FormValue("password"), c.FormValue("password_confirm"), c.RealIP())
	var ie *account.InputError
	switch {
	case errors.As(err, &ie):
		u, lerr := s.accounts().PasswordLinkUser(ctx, token)
		if lerr != nil {
			return linkGone()
		}
		return s.render(c, http.StatusUnprocessableEntity, "contrasena.html", passwordLinkPage{User: u, Token: token, Error: ie.Message})
	case errors.Is(err, account.ErrLinkInvalid):
		return linkGone()
	case err != nil:
		return err
	}
	return s.render(c, http.StatusOK, "contrasena.html", passwordLinkPage{User: u, Done: true})
}
