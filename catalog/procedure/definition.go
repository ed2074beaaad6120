package procedure

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Definition is one procedure of the manual as data: what a case of it may
// go through, who may move it, which formats it asks for and which clocks
// run on it. One YAML file in schemas/procedures holds one definition.
type Definition struct {
	// Clave is the manual's key as printed, e.g. MP-DGTIT-DAID-GGD-ADC-1.3.
	Clave string `yaml:"clave" json:"clave"`
	// Short is the short key used in URLs and folios, e.g. ADC-1.3.
	Short     string `yaml:"short" json:"short"`
	Version   int    `yaml:"version" json:"version"`
	Name      string `yaml:"name" json:"name"`
	Process   string `yaml:"process" json:"process"`
	Objective string `yaml:"objective" json:"objective"`
	// EstimatedTime is the manual's "Tiempo aproximado de ejecución" as a
	// duration of business time ("1d", "4h"); empty when it says
	// "Indefinido".
	EstimatedTime string `yaml:"estimated_time" json:"estimated_time,omitempty"`
	// Notes record corrections made to the manual's text (typos, numbers).
	Notes       []string     `yaml:"notes" json:"notes,omitempty"`
	Roles       []Role       `yaml:"roles" json:"roles"`
	Activities  []Activity   `yaml:"activities" json:"activities"`
	States      []State      `yaml:"states" json:"states"`
	Initial     string       `yaml:"initial" json:"initial"`
	Transitions []Transition `yaml:"transitions" json:"transitions"`
	Forms       []Form       `yaml:"forms" json:"forms"`
	// StartForm is the format a requester fills to open a case.
	StartForm string `yaml:"start_form" json:"start_form,omitempty"`
	// StartRoles may open a case; empty means any signed-in user.
	StartRoles []string    `yaml:"start_roles" json:"start_roles,omitempty"`
	Clocks     []Clock     `yaml:"clocks" json:"clocks,omitempty"`
	Indicators []Indicator `yaml:"indicators" json:"indicators,omitempty"`
	Messages   []Message   `yaml:"messages" json:"messages,omitempty"`

	// File is where the definition was read from (not part of its content).
	File string `yaml:"-" json:"-"`
}

// RoleKind says how a person holds a role.
type RoleKind string

// The ways a role is held.
const (
	// RoleGranted roles are held by grant (meta.procedure_role_grant) or by
	// the portal profiles listed in the role's Profiles.
	RoleGranted RoleKind = "granted"
	// RoleRequester is held by whoever filed the case.
	RoleRequester RoleKind = "requester"
	// RoleDependencia is held by the users of the case's dependencia.
	RoleDependencia RoleKind = "dependencia"
)

// Role is a puesto of the manual.
type Role struct {
	ID   string   `yaml:"id" json:"id"`
	Name string   `yaml:"name" json:"name"`
	Kind RoleKind `yaml:"kind" json:"kind"`
	// Profiles are the portal profiles (superadmin, admin, publicador,
	// consulta) that hold this role without a grant.
	Profiles []string `yaml:"profiles" json:"profiles,omitempty"`
}

// Activity is one numbered line of the manual's activity table.
type Activity struct {
	N         int      `yaml:"n" json:"n"`
	Text      string   `yaml:"text" json:"text"`
	Roles     []string `yaml:"roles" json:"roles,omitempty"`
	Documents []string `yaml:"documents" json:"documents,omitempty"`
	// Decision is the question the manual asks after this activity.
	Decision string `yaml:"decision" json:"decision,omitempty"`
}

// State is where a case can be.
type State struct {
	ID    string `yaml:"id" json:"id"`
	Label string `yaml:"label" json:"label"`
	// Activities are the manual's activity numbers done in this state.
	Activities []int `yaml:"activities" json:"activities,omitempty"`
	Final      bool  `yaml:"final" json:"final,omitempty"`
	// Waiting marks a state where the case waits on the requester: no
	// steward clock runs there unless a clock names it.
	Waiting bool `yaml:"waiting" json:"waiting,omitempty"`
}

// Transition is an action that moves a case from one of From to To.
type Transition struct {
	Action string   `yaml:"action" json:"action"`
	Label  string   `yaml:"label" json:"label"`
	From   []string `yaml:"from" json:"from"`
	To     string   `yaml:"to" json:"to"`
	Roles  []string `yaml:"roles" json:"roles"`
	// Activity is the manual's activity number the action completes.
	Activity int `yaml:"activity" json:"activity,omitempty"`
	// Decision and Answer tie the action to a decision of the manual
	// ("¿Está completa la información?" / "Sí").
	Decision string `yaml:"decision" json:"decision,omitempty"`
	Answer   string `yaml:"answer" json:"answer,omitempty"`
	// Form is a format whose data the action submits (validated whole).
	Form string `yaml:"form" json:"form,omitempty"`
	// Requires are fields ("form.field") the case must hold once the
	// action's data is merged.
	Requires []string `yaml:"requires" json:"requires,omitempty"`
	// Checks verify fields against the platform (see Engine checks).
	Checks []CheckRef `yaml:"checks" json:"checks,omitempty"`
	// Effects are what the action does on the platform, in its
	// transaction (see Engine effects): all or nothing with the move.
	Effects []EffectRef `yaml:"effects" json:"effects,omitempty"`
	// Observations: "required" or "" (optional).
	Observations string `yaml:"observations" json:"observations,omitempty"`
	// Notify names messages (Messages[].ID) queued when the action is taken.
	Notify []string `yaml:"notify" json:"notify,omitempty"`
	// Assign: "self" makes whoever takes the action the case's assignee.
	Assign string `yaml:"assign" json:"assign,omitempty"`
	// Handoff is a field whose value is the Short of the procedure that
	// follows; taking the action opens that procedure's case.
	Handoff string `yaml:"handoff" json:"handoff,omitempty"`
}

// Form is a formato: a set of fields with validation rules.
type Form struct {
	ID     string  `yaml:"id" json:"id"`
	Clave  string  `yaml:"clave" json:"clave"`
	Name   string  `yaml:"name" json:"name"`
	Fields []Field `yaml:"fields" json:"fields"`
	// Repeated forms (minutas, bitácoras) are kept as a list: each
	// submission appends one entry.
	Repeated bool `yaml:"repeated" json:"repeated,omitempty"`
}

// Clock measures business time spent in some states against a target.
type Clock struct {
	ID      string   `yaml:"id" json:"id"`
	Label   string   `yaml:"label" json:"label"`
	Target  string   `yaml:"target" json:"target"`
	Running []string `yaml:"running" json:"running"`
	// Natural counts calendar time instead of business time.
	Natural bool `yaml:"natural" json:"natural,omitempty"`
	// At50 and At100 name messages queued when half and all of the
	// target have been used.
	At50  []string `yaml:"at50" json:"at50,omitempty"`
	At100 []string `yaml:"at100" json:"at100,omitempty"`
}

// Indicator is one of the process's indicators.
type Indicator struct {
	ID   string `yaml:"id" json:"id"`
	Name string `yaml:"name" json:"name"`
	// Kind selects how it is computed: "model_current",
	// "catalogs_published", "time_vs_estimate".
	Kind string `yaml:"kind" json:"kind"`
}

// Message is a notification sent through the outbox.
type Message struct {
	ID string `yaml:"id" json:"id"`
	// To is "requester", "assignee" or "role:ROLE".
	To      string `yaml:"to" json:"to"`
	Subject string `yaml:"subject" json:"subject"`
	// Body is a text/template over the case (see MessageData).
	Body string `yaml:"body" json:"body"`
}

// Key identifies one version of a definition.
func (d *Definition) Key() string { return d.Short + "@v" + strconv.Itoa(d.Version) }

// State returns the state with id, if any.
func (d *Definition) State(id string) (State, bool) {
	i := slices.IndexFunc(d.States, func(s State) bool { return s.ID == id })
	if i < 0 {
		return State{}, false
	}
	return d.States[i], true
}

// Form returns the form with id, if any.
func (d *Definition) Form(id string) (Form, bool) {
	i := slices.IndexFunc(d.Forms, func(f Form) bool { return f.ID == id })
	if i < 0 {
		return Form{}, false
	}
	return d.Forms[i], true
}

// Role returns the role with id, if any.
func (d *Definition) Role(id string) (Role, bool) {
	i := slices.IndexFunc(d.Roles, func(r Role) bool { return r.ID == id })
	if i < 0 {
		return Role{}, false
	}
	return d.Roles[i], true
}

// RoleName is the manual's name of role id (the id when unknown).
func (d *Definition) RoleName(id string) string {
	if r, ok := d.Role(id); ok {
		return r.Name
	}
	return id
}

// Message returns the message with id, if any.
func (d *Definition) Message(id string) (Message, bool) {
	i := slices.IndexFunc(d.Messages, func(m Message) bool { return m.ID == id })
	if i < 0 {
		return Message{}, false
	}
	return d.Messages[i], true
}

// Activity returns the activity numbered n, if any.
func (d *Definition) Activity(n int) (Activity, bool) {
	i := slices.IndexFunc(d.Activities, func(a Activity) bool { return a.N == n })
	if i < 0 {
		return Activity{}, false
	}
	return d.Activities[i], true
}

// Transition returns the transition named action that leaves state from.
func (d *Definition) Transition(from, action string) (Transition, bool) {
	for _, t := range d.Transitions {
		if t.Action == action && slices.Contains(t.From, from) {
			return t, true
		}
	}
	return Transition{}, false
}

// Available lists the transitions that leave state.
func (d *Definition) Available(state string) []Transition {
	var out []Transition
	for _, t := range d.Transitions {
		if slices.Contains(t.From, state) {
			out = append(out, t)
		}
	}
	return out
}

// Checksum is a digest of the definition's content, to tell whether a
// file changed without a new version.
func (d *Definition) Checksum() string {
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

var (
	idPattern    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
	shortPattern = regexp.MustCompile(`^[A-Z]{2,5}-[0-9]+(\.[0-9]+)*$`)
)

// ParseDuration reads a business-time duration: "1d" (working days), "4h",
// "30m", or combinations ("1d4h"). A working day is DayLength long.
func ParseDuration(s string, day time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("duración vacía")
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if i <= 0 {
			return 0, fmt.Errorf("duración %q no válida: use por ejemplo 1d, 4h o 30m", s)
		}
		n, err := strconv.Atoi(rest[:i])
		if err != nil {
			return 0, fmt.Errorf("duración %q no válida", s)
		}
		var unit time.Duration
		switch rest[i] {
		case 'd':
			unit = day
		case 'h':
			unit = time.Hour
		case 'm':
			unit = time.Minute
		default:
			return 0, fmt.Errorf("duración %q no válida: la unidad %q no existe (d, h, m)", s, rest[i])
		}
		total += time.Duration(n) * unit
		rest = rest[i+1:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("duración %q debe ser mayor que cero", s)
	}
	return total, nil
}
