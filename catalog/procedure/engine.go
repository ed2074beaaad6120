package procedure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
)

// Engine runs cases of the loaded definitions on the database.
type Engine struct {
	db       pgdb.DBTX
	registry *Registry
	calendar *Calendar
	// BaseURL prefixes links in notifications (e.g. https://datos.…).
	BaseURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	stored   map[string]*Definition // versions read back from the database
	checks   map[string]Check
	effects  map[string]Effect
	platform *Platform // set by UsePlatform
}

// NewEngine returns an engine over db for the definitions of reg.
func NewEngine(db pgdb.DBTX, reg *Registry, cal *Calendar) *Engine {
	return &Engine{db: db, registry: reg, calendar: cal, stored: map[string]*Definition{}, checks: standardChecks(),
		effects: map[string]Effect{}}
}

// Registry returns the loaded definitions.
func (e *Engine) Registry() *Registry { return e.registry }

// Calendar returns the working-day calendar.
func (e *Engine) Calendar() *Calendar { return e.calendar }

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Refusal is an action the engine will not take, with a stable code and a
// Spanish message for the person who asked. Nothing was changed.
type Refusal struct {
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Problems []Problem `json:"problems,omitempty"`
}

func (r *Refusal) Error() string { return r.Message }

// Refusal codes.
const (
	CodeUnknownProcedure = "procedimiento_desconocido"
	CodeIllegalAction    = "accion_no_permitida"
	CodeForbidden        = "rol_no_autorizado"
	CodeInvalidData      = "datos_no_validos"
	CodeMissingField     = "falta_informacion"
	CodeConflict         = "tramite_modificado"
	CodeObservations     = "faltan_observaciones"
)

func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Validate checks that every check and effect the loaded definitions name
// is registered and given what it takes; a problem names the file.
func (e *Engine) Validate() error {
	var errs []error
	for _, d := range e.registry.Versions() {
		p := e.checkEffects(d)
		for _, t := range d.Transitions {
			for _, c := range t.Checks {
				if _, ok := e.checks[c.Check]; !ok {
					p = append(p, fmt.Sprintf("transición «%s»: la verificación %q no existe (%s)", t.Action, c.Check, strings.Join(e.checkNames(), ", ")))
				}
			}
		}
		if len(p) > 0 {
			errs = append(errs, &DefinitionError{File: d.File, Problems: p})
		}
	}
	return errors.Join(errs...)
}

// Sync stores every loaded definition version in the database, so cases can
// be read with the version they started with even after a file changes.
// A file whose content changed without a new version is refused.
func (e *Engine) Sync(ctx context.Context) error {
	if err := e.Validate(); err != nil {
		return err
	}
	for _, d := range e.registry.Versions() {
		body, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("procedure: sync %s: %w", d.Key(), err)
		}
		// Two statements, so the SELECT sees a row another instance starting
		// at the same time has just committed.
		if _, err := e.db.Exec(ctx, `
			INSERT INTO meta.procedure_definition (short, version, clave, name, checksum, body)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (short, version) DO NOTHING`, d.Short, d.Version, d.Clave, d.Name, d.Checksum(), body); err != nil {
			return fmt.Errorf("procedure: sync %s: %w", d.Key(), err)
		}
		var stored string
		if err := e.db.QueryRow(ctx, `SELECT checksum FROM meta.procedure_definition WHERE short = $1 AND version = $2`,
			d.Short, d.Version).Scan(&stored); err != nil {
			return fmt.Errorf("procedure: sync %s: %w", d.Key(), err)
		}
		if stored != d.Checksum() {
			return &DefinitionError{File: d.File, Problems: []string{fmt.Sprintf(
				"el contenido de %s versión %d cambió respecto al que ya usan los trámites: suba «version» a %d", d.Short, d.Version, d.Version+1)}}
		}
	}
	return nil
}

// Definition returns the version of short a case uses: the loaded one, or
// the one stored by Sync when its file no longer has it.
func (e *Engine) Definition(ctx context.Context, short string, version int) (*Definition, error) {
	if d, ok := e.registry.Get(short, version); ok {
		return d, nil
	}
	key := fmt.Sprintf("%s@v%d", short, version)
	e.mu.Lock()
	d, ok := e.stored[key]
	e.mu.Unlock()
	if ok {
		return d, nil
	}
	var body []byte
	err := e.db.QueryRow(ctx, `SELECT body FROM meta.procedure_definition WHERE short = $1 AND version = $2`, short, version).Scan(&body)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("procedure: definition %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("procedure: definition %s: %w", key, err)
	}
	d = &Definition{}
	if err := json.Unmarshal(body, d); err != nil {
		return nil, fmt.Errorf("procedure: definition %s: %w", key, err)
	}
	d.File = "(base de datos)"
	e.mu.Lock()
	e.stored[key] = d
	e.mu.Unlock()
	return d, nil
}

// OpenInput is what filing a request takes.
type OpenInput struct {
	Short         string
	DependenciaID *int64
	// Data is the start form's fields.
	Data         map[string]any
	Observations string
	parentID     *int64
}

// Open files a new case of the newest version of in.Short, validating its
// start form; it returns the case in its initial state.
func (e *Engine) Open(ctx context.Context, actor Actor, in OpenInput) (*Case, error) {
	var c *Case
	err := pgdb.WithTx(ctx, e.db, func(tx pgx.Tx) error {
		var err error
		c, err = e.open(ctx, tx, actor, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (e *Engine) open(ctx context.Context, tx pgx.Tx, actor Actor, in OpenInput) (*Case, error) {
	d, ok := e.registry.Latest(in.Short)
	if !ok {
		return nil, refuse(CodeUnknownProcedure, "El procedimiento %q no existe.", in.Short)
	}
	if in.DependenciaID == nil {
		in.DependenciaID = actor.DependenciaID
	}
	probe := &Case{RequesterID: actor.UserID, RequesterLogin: actor.Login, DependenciaID: in.DependenciaID}
	if len(d.StartRoles) > 0 && in.parentID == nil {
		held, err := e.roles(ctx, tx, d, actor, probe)
		if err != nil {
			return nil, err
		}
		if !intersects(held, d.StartRoles) {
			return nil, refuse(CodeForbidden, "Para iniciar «%s» se necesita uno de estos puestos: %s.", d.Name, roleNames(d, d.StartRoles))
		}
	}
	data := map[string]any{}
	if d.StartForm != "" && in.parentID == nil {
		f, _ := d.Form(d.StartForm)
		if err := f.Validate(in.Data); err != nil {
			return nil, invalid(err)
		}
		data[f.ID] = storeForm(f, nil, in.Data)
	} else if len(in.Data) > 0 {
		return nil, refuse(CodeInvalidData, "«%s» no recibe datos al iniciarse.", d.Name)
	}
	if len(in.Observations) > maxObservations {
		return nil, refuse(CodeInvalidData, "Las observaciones tienen más de %d caracteres.", maxObservations)
	}
	now := e.now()
	folio, err := nextFolio(ctx, tx, d.Short, now.In(e.calendar.Location))
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	var id int64
	err = tx.QueryRow(ctx, `
		INSERT INTO meta.procedure_case (folio, short, version, state, data, requester_id, requester_login,
			requester_email, requester_name, dependencia_id, parent_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
		RETURNING id`,
		folio, d.Short, d.Version, d.Initial, body, actor.UserID, actor.Login, actor.Email, actor.Name,
		in.DependenciaID, in.parentID, now).Scan(&id)
	if err != nil {
		return nil, fmt.Errorf("procedure: open %s: %w", d.Short, err)
	}
	ev := Event{ActorID: actor.UserID, ActorLogin: actor.Login, Action: ActionOpen, To: d.Initial,
		Observations: strings.TrimSpace(in.Observations), Data: data, At: now}
	if _, err := appendEvent(ctx, tx, id, ev); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{
		Actor: audit.Actor{ID: actor.UserID, Login: actor.Login}, Action: "procedure.open",
		ObjectType: "procedure_case", ObjectID: folio, DependenciaID: in.DependenciaID,
		Detail: map[string]any{"procedimiento": d.Short, "version": d.Version},
	}); err != nil {
		return nil, err
	}
	return getCase(ctx, tx, folio, false)
}

const maxObservations = 5000

// ActInput is one action on a case.
type ActInput struct {
	Action string
	// LockVersion is the case's lock_version the caller saw; a case changed
	// since then is refused (optimistic locking).
	LockVersion  int
	Data         map[string]any
	Observations string
}

// Act applies an action to the case folio on behalf of actor. An action
// the state does not allow, a role that may not take it, invalid or missing
// data, or a stale LockVersion are refused with a *Refusal and change
// nothing.
func (e *Engine) Act(ctx context.Context, actor Actor, folio string, in ActInput) (*Case, error) {
	var out *Case
	err := pgdb.WithTx(ctx, e.db, func(tx pgx.Tx) error {
		c, err := getCase(ctx, tx, folio, true)
		if err != nil {
			return err
		}
		if in.LockVersion != c.LockVersion {
			return refuse(CodeConflict, "El trámite %s cambió mientras lo consultaba (versión %d, usted vio la %d): vuelva a cargarlo.", c.Folio, c.LockVersion, in.LockVersion)
		}
		d, err := e.Definition(ctx, c.Short, c.Version)
		if err != nil {
			return err
		}
		out, err = e.act(ctx, tx, d, actor, c, in)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (e *Engine) act(ctx context.Context, tx pgx.Tx, d *Definition, actor Actor, c *Case, in ActInput) (*Case, error) {
	st, _ := d.State(c.State)
	t, ok := d.Transition(c.State, in.Action)
	if !ok {
		var names []string
		for _, a := range d.Available(c.State) {
			names = append(names, a.Action)
		}
		if len(names) == 0 {
			return nil, refuse(CodeIllegalAction, "El trámite %s está en «%s», que es final: no admite la acción %q.", c.Folio, st.Label, in.Action)
		}
		return nil, refuse(CodeIllegalAction, "El trámite %s está en «%s»: la acción %q no es posible ahí (posibles: %s).", c.Folio, st.Label, in.Action, strings.Join(names, ", "))
	}
	held, err := e.roles(ctx, tx, d, actor, c)
	if err != nil {
		return nil, err
	}
	acting := intersection(held, t.Roles)
	if len(acting) == 0 {
		return nil, refuse(CodeForbidden, "«%s» corresponde a: %s; usted no tiene ese puesto en el trámite %s.", t.Label, roleNames(d, t.Roles), c.Folio)
	}
	obs := strings.TrimSpace(in.Observations)
	if t.Observations == "required" && obs == "" {
		return nil, refuse(CodeObservations, "«%s» necesita observaciones: escriba qué falta o qué se observó.", t.Label)
	}
	if len(obs) > maxObservations {
		return nil, refuse(CodeInvalidData, "Las observaciones tienen más de %d caracteres.", maxObservations)
	}
	if c.Data == nil {
		c.Data = map[string]any{}
	}
	var submitted map[string]any
	if t.Form != "" {
		f, _ := d.Form(t.Form)
		if err := f.Validate(in.Data); err != nil {
			return nil, invalid(err)
		}
		c.Data[f.ID] = storeForm(f, c.Data[f.ID], in.Data)
		submitted = map[string]any{f.ID: in.Data}
	} else if len(in.Data) > 0 {
		return nil, refuse(CodeInvalidData, "«%s» no recibe datos de ningún formato.", t.Label)
	}
	if missing := missingFields(d, c.Data, t.Requires); len(missing) > 0 {
		r := refuse(CodeMissingField, "Para «%s» falta información: %s.", t.Label, strings.Join(missingLabels(missing), "; "))
		r.Problems = missing
		return nil, r
	}
	if err := e.runChecks(ctx, tx, d, t, c.Data); err != nil {
		return nil, err
	}

	now := e.now()
	to, _ := d.State(t.To)
	assignee := c.AssigneeID
	if t.Assign == "self" && actor.UserID != nil {
		assignee = actor.UserID
	}
	body, err := json.Marshal(c.Data)
	if err != nil {
		return nil, err
	}
	tag, err := tx.Exec(ctx, `
		UPDATE meta.procedure_case
		SET state = $2, data = $3, assignee_id = $4, lock_version = lock_version + 1, updated_at = $5::timestamptz,
		    closed_at = CASE WHEN $6::boolean THEN $5::timestamptz ELSE NULL END
		WHERE id = $1 AND lock_version = $7`,
		c.ID, t.To, body, assignee, now, to.Final, c.LockVersion)
	if err != nil {
		return nil, fmt.Errorf("procedure: act %s on %s: %w", t.Action, c.Folio, err)
	}
	if tag.RowsAffected() != 1 {
		return nil, refuse(CodeConflict, "El trámite %s cambió mientras lo consultaba: vuelva a cargarlo.", c.Folio)
	}
	seq, err := appendEvent(ctx, tx, c.ID, Event{ActorID: actor.UserID, ActorLogin: actor.Login, Action: t.Action,
		From: c.State, To: t.To, Roles: acting, Observations: obs, Data: submitted, At: now})
	if err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, tx, audit.Entry{
		Actor: audit.Actor{ID: actor.UserID, Login: actor.Login}, Action: "procedure." + t.Action,
		ObjectType: "procedure_case", ObjectID: c.Folio, DependenciaID: c.DependenciaID,
		Detail: map[string]any{"de": c.State, "a": t.To, "roles": acting},
	}); err != nil {
		return nil, err
	}
	if len(t.Effects) > 0 {
		moved := *c
		moved.State, moved.AssigneeID, moved.LockVersion = t.To, assignee, c.LockVersion+1
		if err := e.runEffects(ctx, tx, d, t, actor, &moved, obs, seq, now); err != nil {
			return nil, err
		}
	}
	nc, err := getCase(ctx, tx, c.Folio, false)
	if err != nil {
		return nil, err
	}
	if t.Handoff != "" {
		if err := e.handoff(ctx, tx, d, actor, nc, t); err != nil {
			return nil, err
		}
	}
	for _, id := range t.Notify {
		m, _ := d.Message(id)
		if _, err := e.notify(ctx, tx, d, nc, m, MessageData{Action: t.Label, Observations: obs, Actor: actor.Login},
			fmt.Sprintf("procedure:%s:%d:%s", nc.Folio, seq, m.ID)); err != nil {
			return nil, err
		}
	}
	return nc, nil
}

// handoff opens the procedure named by the handoff field, linked to c.
func (e *Engine) handoff(ctx context.Context, tx pgx.Tx, d *Definition, actor Actor, c *Case, t Transition) error {
	formID, fieldID, _ := strings.Cut(t.Handoff, ".")
	next, _ := fieldValue(c.Data[formID], fieldID)
	short, _ := next.(string)
	if _, ok := e.registry.Latest(short); !ok {
		return nil // e.g. "ninguno": nothing follows
	}
	requester := Actor{UserID: c.RequesterID, Login: c.RequesterLogin, Email: c.RequesterEmail, Name: c.RequesterName}
	child, err := e.open(ctx, tx, requester, OpenInput{Short: short, DependenciaID: c.DependenciaID, parentID: &c.ID,
		Observations: fmt.Sprintf("Continúa el trámite %s (%s), por %s.", c.Folio, d.Name, actor.Login)})
	if err != nil {
		return fmt.Errorf("procedure: hand %s off to %s: %w", c.Folio, short, err)
	}
	_ = child
	return nil
}

// storeForm merges a submission into the case data: repeated forms keep a
// list of entries, others are replaced whole.
func storeForm(f Form, prev any, sub map[string]any) any {
	if sub == nil {
		sub = map[string]any{}
	}
	if !f.Repeated {
		return sub
	}
	list, _ := prev.([]any)
	return append(list, sub)
}

func fieldValue(form any, field string) (any, bool) {
	switch v := form.(type) {
	case map[string]any:
		x, ok := v[field]
		return x, ok && x != nil && x != ""
	case []any:
		for i := len(v) - 1; i >= 0; i-- {
			if m, ok := v[i].(map[string]any); ok {
				if x, ok := m[field]; ok && x != nil && x != "" {
					return x, true
				}
			}
		}
	}
	return nil, false
}

func missingFields(d *Definition, data map[string]any, requires []string) []Problem {
	var out []Problem
	for _, r := range requires {
		formID, fieldID, _ := strings.Cut(r, ".")
		if _, ok := fieldValue(data[formID], fieldID); ok {
			continue
		}
		f, _ := d.Form(formID)
		label := fieldID
		for _, fd := range f.Fields {
			if fd.ID == fieldID {
				label = fd.Label
			}
		}
		out = append(out, Problem{Form: f.Clave, Field: fieldID, Label: label, Message: "falta"})
	}
	return out
}

func missingLabels(ps []Problem) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = fmt.Sprintf("«%s» del formato %s", p.Label, p.Form)
	}
	return out
}

func invalid(err error) error {
	var ide *InvalidDataError
	if errors.As(err, &ide) {
		return &Refusal{Code: CodeInvalidData, Message: "Los datos del formato no son válidos: " + strings.TrimPrefix(ide.Error(), "datos no válidos: ") + ".", Problems: ide.Problems}
	}
	return err
}

// Roles returns the roles of d that actor holds on case c.
func (e *Engine) Roles(ctx context.Context, actor Actor, c *Case) ([]string, error) {
	d, err := e.Definition(ctx, c.Short, c.Version)
	if err != nil {
		return nil, err
	}
	return e.roles(ctx, e.db, d, actor, c)
}

func (e *Engine) roles(ctx context.Context, db pgdb.DBTX, d *Definition, actor Actor, c *Case) ([]string, error) {
	var granted []string
	if actor.UserID != nil {
		rows, err := db.Query(ctx, `SELECT role FROM meta.procedure_role_grant WHERE user_id = $1`, *actor.UserID)
		if err != nil {
			return nil, fmt.Errorf("procedure: roles of %s: %w", actor.Login, err)
		}
		granted, err = pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return nil, fmt.Errorf("procedure: roles of %s: %w", actor.Login, err)
		}
	}
	var out []string
	for _, r := range d.Roles {
		var holds bool
		switch r.Kind {
		case RoleGranted:
			holds = slices.Contains(granted, r.ID) || (actor.Profile != "" && slices.Contains(r.Profiles, actor.Profile))
		case RoleRequester:
			holds = c != nil && ((actor.UserID != nil && c.RequesterID != nil && *actor.UserID == *c.RequesterID) ||
				(actor.UserID == nil && c.RequesterID == nil && actor.Login != "" && actor.Login == c.RequesterLogin))
		case RoleDependencia:
			holds = c != nil && actor.DependenciaID != nil && c.DependenciaID != nil && *actor.DependenciaID == *c.DependenciaID
		}
		if holds {
			out = append(out, r.ID)
		}
	}
	return out, nil
}

// Steward reports whether actor holds a granted role (by profile or grant)
// in some procedure: stewards see every case.
func (e *Engine) Steward(ctx context.Context, actor Actor) (bool, error) {
	for _, d := range e.registry.All() {
		held, err := e.roles(ctx, e.db, d, actor, nil)
		if err != nil {
			return false, err
		}
		if len(held) > 0 {
			return true, nil
		}
	}
	return false, nil
}

// Actions returns the transitions actor may take on c now.
func (e *Engine) Actions(ctx context.Context, actor Actor, c *Case) ([]Transition, error) {
	d, err := e.Definition(ctx, c.Short, c.Version)
	if err != nil {
		return nil, err
	}
	held, err := e.roles(ctx, e.db, d, actor, c)
	if err != nil {
		return nil, err
	}
	var out []Transition
	for _, t := range d.Available(c.State) {
		if intersects(held, t.Roles) {
			out = append(out, t)
		}
	}
	return out, nil
}

// Grant gives a user one of the manual's roles (a puesto of kind granted
// in some loaded procedure).
func (e *Engine) Grant(ctx context.Context, by audit.Actor, userID int64, role string) error {
	if err := e.grantable(role); err != nil {
		return err
	}
	return pgdb.WithTx(ctx, e.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO meta.procedure_role_grant (user_id, role, granted_by) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, userID, role, by.Login); err != nil {
			return fmt.Errorf("procedure: grant %s: %w", role, err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: by, Action: "procedure.grant",
			ObjectType: "user", ObjectID: fmt.Sprint(userID), Detail: map[string]any{"rol": role}})
	})
}

// Get returns the case folio.
func (e *Engine) Get(ctx context.Context, folio string) (*Case, error) {
	return getCase(ctx, e.db, folio, false)
}

// List returns cases matching f, newest first.
func (e *Engine) List(ctx context.Context, f Filter) ([]*Case, error) {
	return listCases(ctx, e.db, f)
}

// History returns the case's history, oldest first.
func (e *Engine) History(ctx context.Context, c *Case) ([]Event, error) {
	return history(ctx, e.db, c.ID)
}

// MessageData is what a message template sees.
type MessageData struct {
	Folio        string
	Procedure    string
	Clave        string
	State        string
	Action       string
	Observations string
	Actor        string
	Requester    string
	Link         string
	Clock        string
	// Catalogo is the page of the catalog the case's steps created or
	// linked ("" when none): the reply mail points to it.
	Catalogo string
}

// notify queues m for its recipients and returns how many were new.
func (e *Engine) notify(ctx context.Context, tx pgx.Tx, d *Definition, c *Case, m Message, md MessageData, dedup string) (int, error) {
	st, _ := d.State(c.State)
	md.Folio, md.Procedure, md.Clave, md.State = c.Folio, d.Name, d.Clave, st.Label
	md.Requester = c.RequesterName
	if md.Requester == "" {
		md.Requester = c.RequesterLogin
	}
	md.Link = strings.TrimRight(e.BaseURL, "/") + "/tramites/" + c.Folio
	ls, err := links(ctx, tx, c.ID)
	if err != nil {
		return 0, err
	}
	for _, l := range ls {
		if l.Kind == LinkCatalog {
			md.Catalogo = strings.TrimRight(e.BaseURL, "/") + l.Path()
		}
	}
	subject, err := render(m.Subject, md)
	if err != nil {
		return 0, fmt.Errorf("procedure: message %s: %w", m.ID, err)
	}
	body, err := render(m.Body, md)
	if err != nil {
		return 0, fmt.Errorf("procedure: message %s: %w", m.ID, err)
	}
	to, err := e.recipients(ctx, tx, d, c, m.To)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, addr := range to {
		added, err := outbox.Enqueue(ctx, tx, outbox.Message{Kind: outbox.Email, Recipient: addr, Subject: subject, Body: body,
			DedupKey: dedup + ":" + addr})
		if err != nil {
			return 0, err
		}
		if added {
			n++
		}
	}
	return n, nil
}

func render(text string, md MessageData) (string, error) {
	t, err := template.New("m").Option("missingkey=error").Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, md); err != nil {
		return "", err
	}
	return b.String(), nil
}

// recipients resolves "requester", "assignee" or "role:ROLE" to addresses.
func (e *Engine) recipients(ctx context.Context, db pgdb.DBTX, d *Definition, c *Case, to string) ([]string, error) {
	switch {
	case to == "requester":
		if c.RequesterEmail != "" {
			return []string{c.RequesterEmail}, nil
		}
		return nil, nil
	case to == "assignee":
		if c.AssigneeID == nil {
			return nil, nil
		}
		return e.emails(ctx, db, `SELECT email FROM meta.app_user WHERE id = $1 AND active`, *c.AssigneeID)
	default:
		r, ok := d.Role(strings.TrimPrefix(to, "role:"))
		if !ok {
			return nil, nil
		}
		switch r.Kind {
		case RoleRequester:
			return e.recipients(ctx, db, d, c, "requester")
		case RoleDependencia:
			if c.DependenciaID == nil {
				return nil, nil
			}
			return e.emails(ctx, db, `SELECT email FROM meta.app_user WHERE dependencia_id = $1 AND active ORDER BY id`, *c.DependenciaID)
		}
		profiles := r.Profiles
		if profiles == nil {
			profiles = []string{}
		}
		return e.emails(ctx, db, `
			SELECT email FROM meta.app_user u
			WHERE u.active AND (u.profile = ANY($1)
			   OR EXISTS (SELECT 1 FROM meta.procedure_role_grant g WHERE g.user_id = u.id AND g.role = $2))
			ORDER BY u.id`, profiles, r.ID)
	}
}

func (e *Engine) emails(ctx context.Context, db pgdb.DBTX, q string, args ...any) ([]string, error) {
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("procedure: recipients: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("procedure: recipients: %w", err)
	}
	return out, nil
}

func intersects(a, b []string) bool { return len(intersection(a, b)) > 0 }

func intersection(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func roleNames(d *Definition, ids []string) string {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id
		if r, ok := d.Role(id); ok {
			names[i] = r.Name
		}
	}
	return strings.Join(names, ", ")
}
