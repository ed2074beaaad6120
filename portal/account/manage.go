package account

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
)

// ErrForbidden means the actor's profile does not allow the change.
var ErrForbidden = errors.New("account: not allowed")

// Invalid lists what is wrong with a user's details, field by field.
type Invalid []InputError

func (v Invalid) Error() string {
	msgs := make([]string, len(v))
	for i, e := range v {
		msgs[i] = e.Field + ": " + e.Message
	}
	return "account: invalid user: " + strings.Join(msgs, "; ")
}

// Details are a user's details as the form "Registrar usuario" / "editar"
// captures them (MP-DGTIT-DAID-GGD-GUP-1.6, activity 4).
type Details struct {
	Login         string  `json:"login"`
	Email         string  `json:"email"`
	FullName      string  `json:"full_name"`
	Profile       Profile `json:"profile"`
	DependenciaID *int64  `json:"dependencia_id,omitempty"`
	Active        bool    `json:"active"`
}

// Manager carries out the user management of the manual: register a user,
// change login / e-mail / dependencia, change profile, set a new password,
// deactivate, resend the welcome e-mail. Every change is one transaction with
// its bitácora line and, for the welcome e-mail, its outbox message.
type Manager struct {
	DB pgdb.DBTX
	// BaseURL is the portal's public address, for the link in the welcome e-mail.
	BaseURL string
	// LinkTTL is how long a set-password link lasts (default 72 hours).
	LinkTTL time.Duration
}

// Actor is who manages: a signed-in user, or nil for the command line
// (the operator of the database), which may do everything.
type Actor struct {
	User       *User
	RequestID  string
	RemoteAddr string
}

func (a Actor) entry(action, userID string, dep *int64, detail any) audit.Entry {
	e := audit.Entry{Action: action, ObjectType: "user", ObjectID: userID, DependenciaID: dep, Detail: detail,
		RequestID: a.RequestID, RemoteAddr: a.RemoteAddr}
	if a.User != nil {
		id := a.User.ID
		e.Actor = audit.Actor{ID: &id, Login: a.User.Login}
	} else {
		e.Actor = audit.Actor{Login: "cli"}
	}
	return e
}

func (a Actor) canAssign(p Profile) bool { return a.User == nil || a.User.CanAssign(p) }

var loginRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}$`)

// normalize trims and lower-cases what is compared case-insensitively, and
// checks every field.
func (d *Details) normalize() Invalid {
	d.Login = strings.ToLower(strings.TrimSpace(d.Login))
	d.Email = strings.TrimSpace(d.Email)
	d.FullName = strings.TrimSpace(d.FullName)
	var bad Invalid
	if !loginRe.MatchString(d.Login) {
		bad = append(bad, InputError{Field: "login", Message: fmt.Sprintf("El usuario «%s» no es válido: de 2 a 63 caracteres, letras minúsculas sin acentos, dígitos, punto, guion o guion bajo, y empieza con letra o dígito.", d.Login)})
	}
	if a, err := mail.ParseAddress(d.Email); err != nil || a.Address != d.Email || !strings.Contains(d.Email, "@") {
		bad = append(bad, InputError{Field: "email", Message: fmt.Sprintf("El correo electrónico «%s» no es válido.", d.Email)})
	}
	if n := utf8.RuneCountInString(d.FullName); n < 3 || n > 200 {
		bad = append(bad, InputError{Field: "full_name", Message: "El nombre completo es obligatorio (de 3 a 200 caracteres)."})
	}
	if !d.Profile.Valid() {
		bad = append(bad, InputError{Field: "profile", Message: fmt.Sprintf("El perfil «%s» no existe: elija Super Administrador, Administrador, Publicador o Consulta.", d.Profile)})
	}
	if d.Profile == Publicador && d.DependenciaID == nil {
		bad = append(bad, InputError{Field: "dependencia_id", Message: "Un Publicador pertenece a una dependencia: elíjala."})
	}
	return bad
}

func (m *Manager) checkDependencia(ctx context.Context, db pgdb.DBTX, id *int64) Invalid {
	if id == nil {
		return nil
	}
	var ok bool
	if err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM meta.dependencia WHERE id = $1 AND activo)`, *id).Scan(&ok); err != nil || !ok {
		return Invalid{{Field: "dependencia_id", Message: fmt.Sprintf("La dependencia %d no existe o no está activa.", *id)}}
	}
	return nil
}

func duplicateError(d Details) Invalid {
	return Invalid{{Field: "login", Message: fmt.Sprintf("Ya existe un usuario con el usuario «%s» o el correo «%s».", d.Login, d.Email)}}
}

// Register creates a user (the button "Registrar usuario") and, when
// welcome is true, sends the welcome e-mail with a link to set a password.
func (m *Manager) Register(ctx context.Context, a Actor, d Details, welcome bool) (User, error) {
	d.Active = true
	bad := d.normalize()
	if len(bad) > 0 {
		return User{}, bad
	}
	if !a.canAssign(d.Profile) {
		return User{}, fmt.Errorf("%w: assign %s", ErrForbidden, d.Profile)
	}
	var u User
	err := pgdb.WithTx(ctx, m.DB, func(tx pgx.Tx) error {
		if bad := m.checkDependencia(ctx, tx, d.DependenciaID); bad != nil {
			return bad
		}
		var err error
		u, err = NewStore(tx).Create(ctx, NewUser{Login: d.Login, Email: d.Email, FullName: d.FullName, Profile: d.Profile, DependenciaID: d.DependenciaID})
		if errors.Is(err, ErrDuplicate) {
			return duplicateError(d)
		}
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, a.entry("user.create", fmt.Sprint(u.ID), u.DependenciaID, d)); err != nil {
			return err
		}
		if welcome {
			return m.sendWelcome(ctx, tx, a, u)
		}
		return nil
	})
	return u, err
}

// Update changes a user's details (login, e-mail, name, dependencia,
// profile, "Activo"). Deactivating ends the user's sessions and tokens at
// once. Only a Super Administrador edits or makes a Super Administrador, and
// nobody deactivates or demotes himself.
func (m *Manager) Update(ctx context.Context, a Actor, id int64, d Details) (User, error) {
	bad := d.normalize()
	if len(bad) > 0 {
		return User{}, bad
	}
	var u User
	err := pgdb.WithTx(ctx, m.DB, func(tx pgx.Tx) error {
		before, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM meta.app_user WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if !a.canAssign(before.Profile) || !a.canAssign(d.Profile) {
			return fmt.Errorf("%w: edit %s as %s", ErrForbidden, before.Login, d.Profile)
		}
		if a.User != nil && a.User.ID == id && (!d.Active || d.Profile != before.Profile) {
			return Invalid{{Field: "active", Message: "No puede desactivar su propia cuenta ni cambiar su propio perfil; pídalo a otro administrador."}}
		}
		if bad := m.checkDependencia(ctx, tx, d.DependenciaID); bad != nil && !sameID(d.DependenciaID, before.DependenciaID) {
			return bad
		}
		u, err = scanUser(tx.QueryRow(ctx, `
			UPDATE meta.app_user SET login = $2, email = $3, full_name = $4, profile = $5, dependencia_id = $6, active = $7, updated_at = now()
			WHERE id = $1 RETURNING `+userColumns,
			id, d.Login, d.Email, d.FullName, d.Profile, d.DependenciaID, d.Active))
		if pgdb.IsCode(err, pgdb.UniqueViolation) {
			return duplicateError(d)
		}
		if err != nil {
			return fmt.Errorf("account: update %d: %w", id, err)
		}
		changes := diff(before, u)
		if len(changes) == 0 {
			return nil
		}
		action := "user.update"
		switch {
		case before.Active && !u.Active:
			action = "user.deactivate"
			if _, err := NewStore(tx).EndSessions(ctx, id); err != nil {
				return err
			}
			if _, err := NewStore(tx).RevokeTokens(ctx, id); err != nil {
				return err
			}
		case !before.Active && u.Active:
			action = "user.activate"
		case before.Profile != u.Profile:
			action = "user.set_profile"
		}
		return audit.Record(ctx, tx, a.entry(action, fmt.Sprint(id), u.DependenciaID, changes))
	})
	return u, err
}

func sameID(a, b *int64) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// change is one field's value before and after, for the bitácora.
type change struct {
	From any `json:"de"`
	To   any `json:"a"`
}

func diff(a, b User) map[string]change {
	out := map[string]change{}
	add := func(field string, x, y any) {
		if x != y {
			out[field] = change{x, y}
		}
	}
	add("login", a.Login, b.Login)
	add("email", a.Email, b.Email)
	add("full_name", a.FullName, b.FullName)
	add("profile", a.Profile, b.Profile)
	add("active", a.Active, b.Active)
	if !sameID(a.DependenciaID, b.DependenciaID) {
		out["dependencia_id"] = change{a.DependenciaID, b.DependenciaID}
	}
	return out
}

// SetPassword gives a user a new password chosen by an administrator, typed
// twice ("capture la nueva contraseña y verifique"). The user's sessions end.
func (m *Manager) SetPassword(ctx context.Context, a Actor, id int64, password, confirm string, mustChange bool) error {
	if err := CheckNewPassword(password, confirm); err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return Invalid{*ie}
		}
		return err
	}
	return pgdb.WithTx(ctx, m.DB, func(tx pgx.Tx) error {
		target, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM meta.app_user WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return err
		}
		if !a.canAssign(target.Profile) {
			return fmt.Errorf("%w: set password of %s", ErrForbidden, target.Login)
		}
		st := NewStore(tx)
		if err := st.SetPassword(ctx, id, password, mustChange); err != nil {
			return err
		}
		if a.User == nil || a.User.ID != id {
			if _, err := st.EndSessions(ctx, id); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, a.entry("user.set_password", fmt.Sprint(id), target.DependenciaID, map[string]bool{"must_change": mustChange}))
	})
}

// SendWelcome (re)sends the welcome e-mail ("Enviar correo de bienvenida")
// with a new one-time link to set a password; earlier links stop working.
func (m *Manager) SendWelcome(ctx context.Context, a Actor, id int64) error {
	return pgdb.WithTx(ctx, m.DB, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM meta.app_user WHERE id = $1`, id))
		if err != nil {
			return err
		}
		if !a.canAssign(u.Profile) {
			return fmt.Errorf("%w: welcome %s", ErrForbidden, u.Login)
		}
		if !u.Active {
			return Invalid{{Field: "send_welcome", Message: "El usuario está desactivado: actívelo antes de enviarle el correo de bienvenida."}}
		}
		return m.sendWelcome(ctx, tx, a, u)
	})
}

func (m *Manager) sendWelcome(ctx context.Context, tx pgx.Tx, a Actor, u User) error {
	ttl := m.LinkTTL
	if ttl == 0 {
		ttl = 72 * time.Hour
	}
	secret, err := NewStore(tx).NewPasswordLink(ctx, u.ID, "welcome", ttl)
	if err != nil {
		return err
	}
	link := strings.TrimRight(m.BaseURL, "/") + "/contrasena/" + secret
	body := fmt.Sprintf(`Hola, %s:

Se le dio de alta en el portal del Modelo de Gobierno de Datos (Datosigto) de la
Dirección General de Tecnologías de la Información y Telecomunicaciones.

  Usuario: %s
  Perfil:  %s

Para establecer su contraseña abra este enlace (sirve una sola vez y vence en %d horas):

  %s

Si usted no esperaba este correo, ignórelo.

Portal del Modelo de Gobierno de Datos · Gobierno del Estado de Guanajuato
`, u.FullName, u.Login, u.Profile.Name(), int(ttl.Hours()), link)
	if _, err := outbox.Enqueue(ctx, tx, outbox.Message{Kind: outbox.Email, Recipient: u.Email,
		Subject: "Bienvenida al portal del Modelo de Gobierno de Datos", Body: body}); err != nil {
		return err
	}
	return audit.Record(ctx, tx, a.entry("user.welcome_sent", fmt.Sprint(u.ID), u.DependenciaID, map[string]string{"email": u.Email}))
}

// Edit is what «Guardar información del usuario» saves on an existing user:
// the details, optionally a new password typed twice, and optionally «Enviar
// correo de bienvenida».
type Edit struct {
	Details     Details
	Password    string
	Confirm     string
	SendWelcome bool
}

// Save applies an Edit in one transaction: a bad password, a refused
// profile or a bad detail changes nothing. It returns the user as saved.
func (m *Manager) Save(ctx context.Context, a Actor, id int64, e Edit) (User, error) {
	if e.Password != "" || e.Confirm != "" {
		if err := CheckNewPassword(e.Password, e.Confirm); err != nil {
			var ie *InputError
			if errors.As(err, &ie) {
				return User{}, Invalid{*ie}
			}
			return User{}, err
		}
	}
	var u User
	err := pgdb.WithTx(ctx, m.DB, func(tx pgx.Tx) error {
		in := &Manager{DB: tx, BaseURL: m.BaseURL, LinkTTL: m.LinkTTL}
		if _, err := in.Update(ctx, a, id, e.Details); err != nil {
			return err
		}
		if e.Password != "" {
			if err := in.SetPassword(ctx, a, id, e.Password, e.Confirm, false); err != nil {
				return err
			}
		}
		if e.SendWelcome {
			if err := in.SendWelcome(ctx, a, id); err != nil {
				return err
			}
		}
		var err error
		u, err = NewStore(tx).ByID(ctx, id)
		return err
	})
	return u, err
}
