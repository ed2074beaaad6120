package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// GUP-1.6 carried out: each row of the F-6 request is one change to one
// user; activity 4 («usuarios_gestionados») applies every change with the
// user management of /usuarios (account.Manager: the same profile rules,
// bitácora and welcome e-mail) and takes the action in the same
// transaction, recording what was applied in the case («gestion.aplicados»).
// Pages and API both go through applyUserChanges, so the action is never
// taken without its changes.

// The kinds of change of the F-6 field «tipo_gestion».
const (
	gupAlta       = "Alta de nuevo usuario"
	gupInfo       = "Modificar información del usuario"
	gupPerfil     = "Modificar perfil"
	gupContrasena = "Modificar contraseña"
	gupBaja       = "Deshabilitar acceso"
	gupBienvenida = "Reenviar correo de bienvenida"
)

// appliesUserChanges reports whether action on a case of d is the one that
// applies the F-6 changes (versions without the form «gestion» predate it).
func appliesUserChanges(d *procedure.Definition, action string) bool {
	if d.Short != "GUP-1.6" || action != "usuarios_gestionados" {
		return false
	}
	t, ok := d.Transition("gestion", action)
	return ok && t.Form == "gestion"
}

// userChange is one requested change, its form pre-filled from the request
// and the user as stored, then overridden by what the administrator sent.
type userChange struct {
	N       int
	Kind    string
	Login   string // the user the request names
	Request []fieldValue
	Target  *account.User // the existing user (nil for an alta, or unknown)
	Details account.Details
	Apply   bool
	// Welcome sends the welcome e-mail with its one-time link.
	Welcome           bool
	Password, Confirm string
	Errors            map[string]string
	Message           string
}

// New reports whether the change registers a user.
func (ch userChange) New() bool { return ch.Kind == gupAlta }

// AsksPassword reports whether the change is a new password.
func (ch userChange) AsksPassword() bool { return ch.Kind == gupContrasena }

// SelectedDep is the dependencia chosen, 0 for none.
func (ch userChange) SelectedDep() int64 {
	if ch.Details.DependenciaID == nil {
		return 0
	}
	return *ch.Details.DependenciaID
}

// Field is the form name of one of the change's inputs.
func (ch userChange) Field(name string) string { return fmt.Sprintf("c%d_%s", ch.N, name) }

func entryText(e map[string]any, field string) string {
	s, _ := e[field].(string)
	return strings.TrimSpace(s)
}

func profileByName(name string) (account.Profile, bool) {
	for _, p := range account.Profiles {
		if strings.EqualFold(p.Name(), strings.TrimSpace(name)) || string(p) == name {
			return p, true
		}
	}
	return "", false
}

func matchDependencia(deps []dependenciaOption, text string) *int64 {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	for _, d := range deps {
		if strings.EqualFold(d.Clave, text) || strings.EqualFold(d.Nombre, text) {
			id := d.ID
			return &id
		}
	}
	return nil
}

// requestedChanges pre-fills one change per F-6 row of the case.
func (s *Server) requestedChanges(ctx context.Context, db pgdb.DBTX, d *procedure.Definition, cs *procedure.Case, deps []dependenciaOption) ([]userChange, error) {
	f6, _ := d.Form("f6")
	rows, _ := cs.Data["f6"].([]any)
	out := make([]userChange, 0, len(rows))
	for i, raw := range rows {
		e, _ := raw.(map[string]any)
		ch := userChange{N: i + 1, Kind: entryText(e, "tipo_gestion"), Login: strings.ToLower(entryText(e, "login")), Apply: true}
		for _, fd := range f6.Fields {
			if v, ok := e[fd.ID]; ok {
				ch.Request = append(ch.Request, fieldValue{Label: fd.Label, Value: showValue(v)})
			}
		}
		profile, hasProfile := profileByName(entryText(e, "perfil"))
		dep := matchDependencia(deps, entryText(e, "dependencia"))
		if ch.New() {
			if !hasProfile {
				profile = account.Consulta
			}
			ch.Details = account.Details{Login: ch.Login, Email: entryText(e, "correo"), FullName: entryText(e, "nombre_completo"),
				Profile: profile, DependenciaID: dep, Active: true}
			ch.Welcome = true
			out = append(out, ch)
			continue
		}
		u, err := account.NewStore(db).ByLogin(ctx, ch.Login)
		if errors.Is(err, account.ErrNotFound) {
			ch.Apply = false
			ch.Details.Login = ch.Login
			ch.Message = fmt.Sprintf("No existe un usuario «%s»: este cambio no puede aplicarse; explíquelo en las observaciones.", ch.Login)
			out = append(out, ch)
			continue
		}
		if err != nil {
			return nil, err
		}
		ch.Target = &u
		ch.Details = account.Details{Login: u.Login, Email: u.Email, FullName: u.FullName, Profile: u.Profile,
			DependenciaID: u.DependenciaID, Active: u.Active}
		switch ch.Kind {
		case gupInfo:
			if v := entryText(e, "login_nuevo"); v != "" {
				ch.Details.Login = v
			}
			if v := entryText(e, "correo"); v != "" {
				ch.Details.Email = v
			}
			if v := entryText(e, "nombre_completo"); v != "" {
				ch.Details.FullName = v
			}
			if dep != nil {
				ch.Details.DependenciaID = dep
			}
		case gupPerfil:
			if hasProfile {
				ch.Details.Profile = profile
			}
			if dep != nil {
				ch.Details.DependenciaID = dep
			}
		case gupBaja:
			ch.Details.Active = false
		case gupBienvenida:
			ch.Welcome = true
		}
		out = append(out, ch)
	}
	return out, nil
}

// fromForm overrides the pre-filled change with the page's form.
func (ch *userChange) fromForm(v url.Values) {
	ch.Apply = v.Get(ch.Field("aplicar")) != ""
	ch.Details.Login = v.Get(ch.Field("login"))
	ch.Details.Email = v.Get(ch.Field("email"))
	ch.Details.FullName = v.Get(ch.Field("full_name"))
	ch.Details.Profile = account.Profile(v.Get(ch.Field("profile")))
	ch.Details.Active = ch.New() || v.Get(ch.Field("active")) != ""
	ch.Details.DependenciaID = nil
	if raw := strings.TrimSpace(v.Get(ch.Field("dependencia_id"))); raw != "" {
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
			ch.Details.DependenciaID = &id
		}
	}
	ch.Welcome = v.Get(ch.Field("send_welcome")) != ""
	ch.Password, ch.Confirm = v.Get(ch.Field("password")), v.Get(ch.Field("password_confirm"))
}

// userChangeIn is one change as the API receives it (data.cambios[]):
// what is omitted keeps the value pre-filled from the request.
type userChangeIn struct {
	N               int     `json:"n"`
	Apply           *bool   `json:"aplicar,omitempty"`
	Login           *string `json:"login,omitempty"`
	Email           *string `json:"email,omitempty"`
	FullName        *string `json:"full_name,omitempty"`
	Profile         *string `json:"profile,omitempty"`
	DependenciaID   *int64  `json:"dependencia_id,omitempty"`
	Active          *bool   `json:"active,omitempty"`
	Password        string  `json:"password,omitempty"`
	PasswordConfirm string  `json:"password_confirm,omitempty"`
	SendWelcome     *bool   `json:"send_welcome,omitempty"`
}

func (ch *userChange) fromJSON(in userChangeIn) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if in.Apply != nil {
		ch.Apply = *in.Apply
	}
	set(&ch.Details.Login, in.Login)
	set(&ch.Details.Email, in.Email)
	set(&ch.Details.FullName, in.FullName)
	if in.Profile != nil {
		ch.Details.Profile = account.Profile(*in.Profile)
	}
	if in.DependenciaID != nil {
		ch.Details.DependenciaID = in.DependenciaID
	}
	if in.Active != nil && !ch.New() {
		ch.Details.Active = *in.Active
	}
	if in.SendWelcome != nil {
		ch.Welcome = *in.SendWelcome
	}
	ch.Password, ch.Confirm = in.Password, in.PasswordConfirm
}

// changesFromJSON reads data.cambios of an API call onto the pre-filled changes.
func changesFromJSON(changes []userChange, data map[string]any) error {
	raw, ok := data["cambios"]
	if !ok {
		return nil
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return badJSON(err)
	}
	var ins []userChangeIn
	if err := json.Unmarshal(b, &ins); err != nil {
		return badJSON(err)
	}
	for _, in := range ins {
		if in.N < 1 || in.N > len(changes) {
			return &Problem{Status: http.StatusUnprocessableEntity, Code: procedure.CodeInvalidData, Title: "La acción no se realizó",
				Detail: fmt.Sprintf("El cambio %d no existe: la solicitud pide %d.", in.N, len(changes))}
		}
		changes[in.N-1].fromJSON(in)
	}
	return nil
}

// changeRefused turns the user management's refusal of change ch into the
// engine's kind of refusal, its problems named by the change's form fields.
func changeRefused(ch userChange, err error) error {
	r := &procedure.Refusal{Code: procedure.CodeInvalidData}
	var bad account.Invalid
	switch {
	case errors.As(err, &bad):
		msgs := make([]string, len(bad))
		for i, b := range bad {
			msgs[i] = b.Message
			r.Problems = append(r.Problems, procedure.Problem{Form: "F-DGTIT-DAID-GGD-6", Field: ch.Field(b.Field),
				Label: fmt.Sprintf("Cambio %d", ch.N), Message: b.Message})
		}
		r.Message = strings.Join(msgs, " ")
	case errors.Is(err, account.ErrForbidden):
		r.Code = procedure.CodeForbidden
		r.Message = "sólo un Super Administrador registra o modifica a un Super Administrador."
	case errors.Is(err, account.ErrNotFound):
		r.Message = "el usuario no existe."
	default:
		return fmt.Errorf("gup: change %d: %w", ch.N, err)
	}
	r.Message = fmt.Sprintf("El cambio %d (%s «%s») no se pudo aplicar: %s Ningún cambio se aplicó.", ch.N, ch.Kind, ch.Login, r.Message)
	return r
}

// applyUserChanges applies every change marked to apply and takes the
// action, all in one transaction; a refused change or action changes
// nothing. Changes left unapplied need observations that say why.
func (s *Server) applyUserChanges(c *echo.Context, cs *procedure.Case, changes []userChange, in procedure.ActInput) (*procedure.Case, error) {
	ctx := c.Request().Context()
	u := s.caller(c)
	if !u.Holds(account.ManageUsers) {
		return nil, &procedure.Refusal{Code: procedure.CodeForbidden,
			Message: "Aplicar los cambios de usuarios necesita el perfil Super Administrador o Administrador (actividad 3 del procedimiento)."}
	}
	var applied []any
	skipped := false
	for _, ch := range changes {
		if !ch.Apply {
			skipped = true
		}
	}
	if skipped && strings.TrimSpace(in.Observations) == "" {
		return nil, &procedure.Refusal{Code: procedure.CodeObservations,
			Message: "Hay cambios solicitados que no se aplicarán: escriba en las observaciones por qué."}
	}
	var out *procedure.Case
	err := pgdb.WithTx(ctx, s.opts.Pool, func(tx pgx.Tx) error {
		m, actor := s.userManager(c)
		m.DB = tx
		for _, ch := range changes {
			line, err := applyChange(ctx, m, actor, ch)
			if err != nil {
				return changeRefused(ch, err)
			}
			applied = append(applied, line)
		}
		in.Data = map[string]any{"aplicados": applied}
		var err error
		out, err = s.opts.Procedures.OnDB(tx).Act(ctx, procedureActor(u), cs.Folio, in)
		return err
	})
	return out, err
}

// applyChange applies one change and says in a line what was done.
func applyChange(ctx context.Context, m *account.Manager, a account.Actor, ch userChange) (string, error) {
	head := fmt.Sprintf("%d. %s «%s»", ch.N, ch.Kind, ch.Login)
	if !ch.Apply {
		return head + ": no aplicado.", nil
	}
	if ch.New() {
		u, err := m.Register(ctx, a, ch.Details, ch.Welcome)
		if err != nil {
			return "", err
		}
		line := fmt.Sprintf("%s: registrado como %s (%s)", head, u.Profile.Name(), u.Email)
		if ch.Welcome {
			line += "; correo de bienvenida enviado"
		}
		return line + ".", nil
	}
	if ch.Target == nil {
		return "", account.Invalid{{Field: "login", Message: fmt.Sprintf("No existe un usuario «%s»; no aplique este cambio y explíquelo en las observaciones.", ch.Login)}}
	}
	if ch.Kind == gupContrasena && ch.Password == "" && !ch.Welcome {
		return "", account.Invalid{{Field: "password", Message: "Escriba la nueva contraseña dos veces, o marque «Enviar correo de bienvenida» para que el usuario la establezca."}}
	}
	before := *ch.Target
	after, err := m.Save(ctx, a, before.ID, account.Edit{Details: ch.Details, Password: ch.Password, Confirm: ch.Confirm, SendWelcome: ch.Welcome})
	if err != nil {
		return "", err
	}
	var done []string
	if after.Login != before.Login {
		done = append(done, fmt.Sprintf("usuario cambiado a «%s»", after.Login))
	}
	if after.Email != before.Email {
		done = append(done, fmt.Sprintf("correo cambiado a %s", after.Email))
	}
	if after.FullName != before.FullName {
		done = append(done, "nombre cambiado")
	}
	if !sameDep(after.DependenciaID, before.DependenciaID) {
		done = append(done, "dependencia cambiada")
	}
	if after.Profile != before.Profile {
		done = append(done, "perfil cambiado a "+after.Profile.Name())
	}
	if before.Active && !after.Active {
		done = append(done, "acceso deshabilitado")
	}
	if !before.Active && after.Active {
		done = append(done, "acceso habilitado")
	}
	if ch.Password != "" {
		done = append(done, "contraseña nueva establecida")
	}
	if ch.Welcome {
		done = append(done, "correo de bienvenida enviado")
	}
	if len(done) == 0 {
		return head + ": sin cambios (ya estaba así).", nil
	}
	return head + ": " + strings.Join(done, ", ") + ".", nil
}

func sameDep(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// actOnCase takes an action for the caller. The GUP-1.6 action that
// applies the requested user changes pre-fills them from the case, lets
// adjust apply what the administrator sent, and applies them with the action.
func (s *Server) actOnCase(c *echo.Context, cs *procedure.Case, d *procedure.Definition, in procedure.ActInput, adjust func([]userChange) error) (*procedure.Case, error) {
	ctx := c.Request().Context()
	if !appliesUserChanges(d, in.Action) || cs.State != "gestion" {
		return s.opts.Procedures.Act(ctx, procedureActor(s.caller(c)), cs.Folio, in)
	}
	deps, err := s.dependenciaOptions(ctx)
	if err != nil {
		return nil, err
	}
	changes, err := s.requestedChanges(ctx, s.opts.Pool, d, cs, deps)
	if err != nil {
		return nil, err
	}
	if err := adjust(changes); err != nil {
		return nil, err
	}
	return s.applyUserChanges(c, cs, changes, in)
}

// userChangesView fills the action's form with the requested changes:
// pre-filled, or as sent when the action was refused (with the problems
// next to their fields).
func (s *Server) userChangesView(c *echo.Context, av *actionView, d *procedure.Definition, cs *procedure.Case, sent url.Values, problems []procedure.Problem) error {
	ctx := c.Request().Context()
	deps, err := s.dependenciaOptions(ctx)
	if err != nil {
		return err
	}
	changes, err := s.requestedChanges(ctx, s.opts.Pool, d, cs, deps)
	if err != nil {
		return err
	}
	for i := range changes {
		ch := &changes[i]
		if sent != nil {
			ch.fromForm(sent)
		}
		for _, p := range problems {
			if field, ok := strings.CutPrefix(p.Field, ch.Field("")); ok {
				if ch.Errors == nil {
					ch.Errors = map[string]string{}
				}
				ch.Errors[field] = p.Message
			}
		}
	}
	av.Changes, av.Deps = changes, deps
	av.FormName = "Cambios solicitados en el formato F-DGTIT-DAID-GGD-6"
	// Every profile: a change the caller may not make is refused with its
	// reason, never quietly turned into another profile.
	av.Profiles = account.Profiles
	return nil
}

// appliedSummary is what the reply to a GUP-1.6 request says was done: the
// lines recorded when the changes were applied.
func appliedSummary(cs *procedure.Case) string {
	g, _ := cs.Data["gestion"].(map[string]any)
	lines, _ := g["aplicados"].([]any)
	if len(lines) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("Cambios aplicados:")
	for _, l := range lines {
		b.WriteString("\n")
		b.WriteString(fmt.Sprint(l))
	}
	return b.String()
}
