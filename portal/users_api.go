package portal

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

// userJSON is a user as the API shows it: never a password or its hash.
type userJSON struct {
	ID                 int64     `json:"id"`
	Login              string    `json:"login"`
	Email              string    `json:"email"`
	FullName           string    `json:"full_name"`
	Profile            string    `json:"profile" jsonschema:"enum=superadmin,enum=admin,enum=publicador,enum=consulta"`
	ProfileName        string    `json:"profile_name"`
	DependenciaID      *int64    `json:"dependencia_id"`
	Active             bool      `json:"active"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

func toUserJSON(u account.User) userJSON {
	return userJSON{ID: u.ID, Login: u.Login, Email: u.Email, FullName: u.FullName, Profile: string(u.Profile),
		ProfileName: u.Profile.Name(), DependenciaID: u.DependenciaID, Active: u.Active,
		MustChangePassword: u.MustChangePassword, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// meJSON is the caller with what he may do.
type meJSON struct {
	userJSON
	Permissions []string `json:"permissions"`
}

type userList struct {
	Items []userJSON `json:"items"`
	// NextAfter, when present, is the "after" of the next page.
	NextAfter *int64 `json:"next_after,omitempty"`
}

// userCreateIn registers a user; send_welcome (default true) mails the link
// to set a password.
type userCreateIn struct {
	Login         string `json:"login" jsonschema:"required"`
	Email         string `json:"email" jsonschema:"required"`
	FullName      string `json:"full_name" jsonschema:"required"`
	Profile       string `json:"profile" jsonschema:"required,enum=superadmin,enum=admin,enum=publicador,enum=consulta"`
	DependenciaID *int64 `json:"dependencia_id,omitempty"`
	SendWelcome   *bool  `json:"send_welcome,omitempty"`
}

// userPatchIn changes only the members present. dependencia_id: null
// removes the dependencia.
type userPatchIn struct {
	Login           *string         `json:"login,omitempty"`
	Email           *string         `json:"email,omitempty"`
	FullName        *string         `json:"full_name,omitempty"`
	Profile         *string         `json:"profile,omitempty"`
	DependenciaID   json.RawMessage `json:"dependencia_id,omitempty" jsonschema:"type=integer"`
	Active          *bool           `json:"active,omitempty"`
	Password        string          `json:"password,omitempty"`
	PasswordConfirm string          `json:"password_confirm,omitempty"`
	SendWelcome     bool            `json:"send_welcome,omitempty"`
}

type tokenCreateIn struct {
	Name      string     `json:"name" jsonschema:"required"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// tokenCreated carries the secret: shown this once, never again.
type tokenCreated struct {
	Token  account.Token `json:"token"`
	Secret string        `json:"secret"`
}

type tokenList struct {
	Items []account.Token `json:"items"`
}

func (s *Server) bindUsersAPI() {
	manage := s.requirePermission(account.ManageUsers)
	s.api(http.MethodGet, "/api/v1/me", s.apiMe, APIDoc{Summary: "El usuario que llama y sus permisos", Tag: "usuarios", Auth: true, Response: meJSON{}}, s.requireSignIn)
	s.api(http.MethodGet, "/api/v1/me/tokens", s.apiMyTokens, APIDoc{Summary: "Mis tokens personales vigentes", Tag: "usuarios", Auth: true, Response: tokenList{}}, s.requireSignIn)
	s.api(http.MethodPost, "/api/v1/me/tokens", s.apiCreateToken, APIDoc{Summary: "Crear un token personal (el secreto se muestra una sola vez)", Tag: "usuarios",
		Auth: true, Body: tokenCreateIn{}, Response: tokenCreated{}, Status: http.StatusCreated}, s.requireSignIn)
	s.api(http.MethodDelete, "/api/v1/me/tokens/:id", s.apiRevokeToken, APIDoc{Summary: "Revocar uno de mis tokens", Tag: "usuarios", Auth: true, Status: http.StatusNoContent}, s.requireSignIn)
	s.api(http.MethodGet, "/api/v1/users", s.apiUsers, APIDoc{Summary: "Usuarios del portal", Tag: "usuarios", Auth: true, Response: userList{},
		Query: []Param{
			{Name: "q", Description: "Texto en usuario, correo o nombre (sin distinguir acentos)"},
			{Name: "profile", Description: "superadmin, admin, publicador o consulta"},
			{Name: "dependencia_id", Type: "integer"},
			{Name: "active", Type: "boolean"},
			{Name: "after", Type: "integer", Description: "Paginación: el next_after de la página anterior"},
			{Name: "limit", Type: "integer", Description: "De 1 a 1000; 100 si se omite"},
		}}, manage)
	s.api(http.MethodPost, "/api/v1/users", s.apiCreateUser, APIDoc{Summary: "Registrar usuario", Tag: "usuarios", Auth: true,
		Body: userCreateIn{}, Response: userJSON{}, Status: http.StatusCreated}, manage)
	s.api(http.MethodGet, "/api/v1/users/:id", s.apiUser, APIDoc{Summary: "Un usuario", Tag: "usuarios", Auth: true, Response: userJSON{}}, manage)
	s.api(http.MethodPatch, "/api/v1/users/:id", s.apiPatchUser, APIDoc{Summary: "Modificar usuario: datos, perfil, Activo, contraseña, correo de bienvenida",
		Tag: "usuarios", Auth: true, Body: userPatchIn{}, Response: userJSON{}}, manage)
}

func badJSON(err error) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: "json_invalido", Title: "Solicitud inválida",
		Detail: "El cuerpo no es JSON válido para esta operación: " + err.Error(), cause: err}
}

func decodeJSON(c *echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badJSON(err)
	}
	return nil
}

func (s *Server) apiMe(c *echo.Context) error {
	noStore(c)
	u := s.caller(c)
	out := meJSON{userJSON: toUserJSON(*u), Permissions: []string{}}
	for _, p := range account.Permissions {
		if u.Holds(p) {
			out.Permissions = append(out.Permissions, string(p))
		}
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiMyTokens(c *echo.Context) error {
	noStore(c)
	toks, err := s.accounts().Tokens(c.Request().Context(), s.caller(c).ID)
	if err != nil {
		return err
	}
	if toks == nil {
		toks = []account.Token{}
	}
	return c.JSON(http.StatusOK, tokenList{Items: toks})
}

func (s *Server) apiCreateToken(c *echo.Context) error {
	noStore(c)
	var in tokenCreateIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := s.caller(c)
	tok, secret, err := s.createTokenExpiring(ctx, c, u, in.Name, in.ExpiresAt)
	var ie *account.InputError
	if errors.As(err, &ie) {
		return &Problem{Status: http.StatusUnprocessableEntity, Code: "datos_invalidos", Title: "Los datos del token no son válidos",
			Detail: ie.Message, Errors: []ProblemItem{{Field: ie.Field, Message: ie.Message}}}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tokenCreated{Token: tok, Secret: secret})
}

func (s *Server) apiRevokeToken(c *echo.Context) error {
	if err := s.revokeToken(c); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func queryInt(c *echo.Context, name string) (*int64, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return nil, nil
	}
	v, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return nil, &Problem{Status: http.StatusBadRequest, Code: "parametro_invalido", Title: "Solicitud inválida",
			Detail: "El parámetro «" + name + "» debe ser un número entero; se recibió «" + raw + "».",
			Errors: []ProblemItem{{Field: name, Value: raw, Message: "no es un número entero"}}}
	}
	return &v, nil
}

// queryLimit reads "limit" (1 to 1000), def when absent.
func queryLimit(c *echo.Context, def int) (int, error) {
	limit, err := queryInt(c, "limit")
	if err != nil || limit == nil {
		return def, err
	}
	if *limit < 1 || *limit > 1000 {
		return 0, &Problem{Status: http.StatusBadRequest, Code: "parametro_invalido", Title: "Solicitud inválida", Detail: "«limit» debe estar entre 1 y 1000."}
	}
	return int(*limit), nil
}

func (s *Server) apiUsers(c *echo.Context) error {
	noStore(c)
	f := account.Filter{Q: c.QueryParam("q"), Profile: account.Profile(c.QueryParam("profile"))}
	if f.Profile != "" && !f.Profile.Valid() {
		return &Problem{Status: http.StatusBadRequest, Code: "parametro_invalido", Title: "Solicitud inválida",
			Detail: "El perfil «" + string(f.Profile) + "» no existe: use superadmin, admin, publicador o consulta."}
	}
	dep, err := queryInt(c, "dependencia_id")
	if err != nil {
		return err
	}
	f.DependenciaID = dep
	after, err := queryInt(c, "after")
	if err != nil {
		return err
	}
	if after != nil {
		f.AfterID = *after
	}
	if f.Limit, err = queryLimit(c, 100); err != nil {
		return err
	}
	if raw := c.QueryParam("active"); raw != "" {
		v, err := strconv.ParseBool(raw)
		if err != nil {
			return &Problem{Status: http.StatusBadRequest, Code: "parametro_invalido", Title: "Solicitud inválida", Detail: "«active» debe ser true o false."}
		}
		f.Active = &v
	}
	users, err := s.accounts().List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := userList{Items: make([]userJSON, 0, len(users))}
	for _, u := range users {
		out.Items = append(out.Items, toUserJSON(u))
	}
	if len(users) == f.Limit {
		last := users[len(users)-1].ID
		out.NextAfter = &last
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiCreateUser(c *echo.Context) error {
	var in userCreateIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	welcome := in.SendWelcome == nil || *in.SendWelcome
	m, actor := s.userManager(c)
	u, err := m.Register(c.Request().Context(), actor, account.Details{Login: in.Login, Email: in.Email, FullName: in.FullName,
		Profile: account.Profile(in.Profile), DependenciaID: in.DependenciaID}, welcome)
	if err != nil {
		return userProblem(err)
	}
	c.Response().Header().Set("Location", "/api/v1/users/"+strconv.FormatInt(u.ID, 10))
	return c.JSON(http.StatusCreated, toUserJSON(u))
}

func (s *Server) apiUser(c *echo.Context) error {
	noStore(c)
	id, err := pathID(c)
	if err != nil {
		return err
	}
	u, err := s.accounts().ByID(c.Request().Context(), id)
	if err != nil {
		return userProblem(err)
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
}

func (s *Server) apiPatchUser(c *echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in userPatchIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	u, err := s.accounts().ByID(ctx, id)
	if err != nil {
		return userProblem(err)
	}
	d := account.Details{Login: u.Login, Email: u.Email, FullName: u.FullName, Profile: u.Profile, DependenciaID: u.DependenciaID, Active: u.Active}
	if in.Login != nil {
		d.Login = *in.Login
	}
	if in.Email != nil {
		d.Email = *in.Email
	}
	if in.FullName != nil {
		d.FullName = *in.FullName
	}
	if in.Profile != nil {
		d.Profile = account.Profile(*in.Profile)
	}
	if in.Active != nil {
		d.Active = *in.Active
	}
	if len(in.DependenciaID) > 0 {
		var dep *int64
		if err := json.Unmarshal(in.DependenciaID, &dep); err != nil {
			return badJSON(err)
		}
		d.DependenciaID = dep
	}
	m, actor := s.userManager(c)
	u, err = m.Save(ctx, actor, id, account.Edit{Details: d, Password: in.Password, Confirm: in.PasswordConfirm, SendWelcome: in.SendWelcome})
	if err != nil {
		return userProblem(err)
	}
	return c.JSON(http.StatusOK, toUserJSON(u))
}
