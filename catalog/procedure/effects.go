package procedure

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// EffectRef asks that taking an action also do something on the platform
// (create the draft catalog, move it through its lifecycle, grant an
// entity's access, generate the instructivo), in the action's transaction.
type EffectRef struct {
	Effect string `yaml:"effect" json:"effect"`
	// Field is "form.field"; its value is what the effect acts on (a table,
	// a kind of access). Effects that act on what earlier steps linked to
	// the case take none.
	Field string `yaml:"field" json:"field,omitempty"`
	// With gives the effect's other inputs: parameter → "form.field".
	With map[string]string `yaml:"with" json:"with,omitempty"`
	// When limits the effect to cases whose field holds one of these values
	// (e.g. the F-5 access is a role, not a connector).
	When []string `yaml:"when" json:"when,omitempty"`
}

// Effect is something an action does besides moving the case.
type Effect struct {
	// Does says in Spanish what the effect does, for the procedure's page.
	Does string
	// Field says whether a reference must name a field ("field").
	Field bool
	// Params are the parameters a reference may give in "with".
	Params []string
	// Do carries the effect out. A *Refusal (see Refuse) stops the action
	// and changes nothing; so does any other error, as a failure.
	Do func(ctx context.Context, r *EffectRun) error
}

// EffectRun is one effect being carried out for an action.
type EffectRun struct {
	Tx           pgx.Tx
	Definition   *Definition
	Case         *Case // as the action leaves it, data merged
	Transition   Transition
	Actor        Actor
	Observations string
	// Value is the field's value as text ("" when the ref names none or
	// the case does not hold it).
	Value string
	// BaseURL prefixes links (the engine's BaseURL).
	BaseURL string
	Now     time.Time

	ref EffectRef
	seq int
}

// Param returns the case's value of a "with" parameter.
func (r *EffectRun) Param(name string) (any, bool) {
	ref, ok := r.ref.With[name]
	if !ok {
		return nil, false
	}
	formID, fieldID, _ := strings.Cut(ref, ".")
	return fieldValue(r.Case.Data[formID], fieldID)
}

// ParamString returns a "with" parameter as trimmed text ("" if absent).
func (r *EffectRun) ParamString(name string) string {
	v, ok := r.Param(name)
	if !ok {
		return ""
	}
	return strings.TrimSpace(fmt.Sprint(v))
}

// ParamList returns a list parameter as strings (one per entry).
func (r *EffectRun) ParamList(name string) []string {
	v, ok := r.Param(name)
	if !ok {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s := strings.TrimSpace(fmt.Sprint(e)); s != "" {
				out = append(out, s)
			}
		}
	case []string:
		out = slices.Clone(x)
	default:
		for _, s := range strings.Split(fmt.Sprint(x), "\n") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// Refuse is the refusal an effect returns when the platform does not allow
// what the action asks: the action's label is added to the message.
func (r *EffectRun) Refuse(format string, args ...any) error {
	return refuse(CodeEffectFailed, "«%s» no pudo hacerse: %s.", r.Transition.Label, fmt.Sprintf(format, args...))
}

// Link records on the case something the effect created or found, so the
// case page links to it and later steps act on it.
func (r *EffectRun) Link(ctx context.Context, kind, ref, label string) error {
	_, err := r.Tx.Exec(ctx, `
		INSERT INTO meta.procedure_link (case_id, seq, kind, ref, label, at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (case_id, kind, ref) DO UPDATE SET label = EXCLUDED.label`,
		r.Case.ID, r.seq, kind, ref, label, r.Now)
	if err != nil {
		return fmt.Errorf("procedure: link %s %s to %s: %w", kind, ref, r.Case.Folio, err)
	}
	return nil
}

// Linked returns the newest link of kind on the case.
func (r *EffectRun) Linked(ctx context.Context, kind string) (Link, bool, error) {
	links, err := links(ctx, r.Tx, r.Case.ID)
	if err != nil {
		return Link{}, false, err
	}
	for i := len(links) - 1; i >= 0; i-- {
		if links[i].Kind == kind {
			return links[i], true, nil
		}
	}
	return Link{}, false, nil
}

// Link is something a step of a case created or linked on the platform.
type Link struct {
	Kind  string    `json:"tipo"`
	Ref   string    `json:"referencia"`
	Label string    `json:"etiqueta"`
	Seq   int       `json:"evento"`
	At    time.Time `json:"fecha"`
}

// Path is the portal page of what l links to ("" when it has none).
func (l Link) Path() string {
	switch l.Kind {
	case LinkCatalog:
		return "/catalogos/" + url.PathEscape(l.Ref)
	case LinkRevision:
		clave, _, _ := strings.Cut(l.Ref, "#")
		return "/catalogos/" + url.PathEscape(clave)
	case LinkConnector:
		return "/conectores/" + url.PathEscape(l.Ref)
	}
	return ""
}

// The kinds of link the standard effects record.
const (
	LinkCatalog     = "catalogo"
	LinkRevision    = "revision"
	LinkAccess      = "acceso"
	LinkConnector   = "conector"
	LinkInstructivo = "instructivo"
)

// CodeEffectFailed is the refusal of an action whose effect the platform
// did not allow.
const CodeEffectFailed = "efecto_fallido"

func links(ctx context.Context, db pgdb.DBTX, caseID int64) ([]Link, error) {
	rows, err := db.Query(ctx, `SELECT kind, ref, label, seq, at FROM meta.procedure_link WHERE case_id = $1 ORDER BY seq, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("procedure: links: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Link, error) {
		var l Link
		err := row.Scan(&l.Kind, &l.Ref, &l.Label, &l.Seq, &l.At)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("procedure: links: %w", err)
	}
	return out, nil
}

// Links returns what the steps of c created or linked, oldest first.
func (e *Engine) Links(ctx context.Context, c *Case) ([]Link, error) {
	return links(ctx, e.db, c.ID)
}

// Does lists in Spanish what taking t of d does on the platform besides
// moving the case (its effects, in order).
func (e *Engine) Does(d *Definition, t Transition) []string {
	var out []string
	for _, ref := range t.Effects {
		text := e.effects[ref.Effect].Does
		if text == "" {
			text = ref.Effect
		}
		if len(ref.When) > 0 {
			formID, fieldID, _ := strings.Cut(ref.Field, ".")
			label := fieldID
			if f, ok := d.Form(formID); ok {
				for _, fd := range f.Fields {
					if fd.ID == fieldID {
						label = fd.Label
					}
				}
			}
			text += " (si «" + label + "» es «" + strings.Join(ref.When, "» o «") + "»)"
		}
		out = append(out, text)
	}
	return out
}

// SetEffect adds or replaces an effect (for procedures of other modules).
// Set effects before Sync, which refuses definitions naming unknown ones.
func (e *Engine) SetEffect(name string, eff Effect) { e.effects[name] = eff }

func (e *Engine) effectNames() []string {
	out := make([]string, 0, len(e.effects))
	for k := range e.effects {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkEffects: every effect a definition names is registered and given
// what it takes.
func (e *Engine) checkEffects(d *Definition) []string {
	var p []string
	for _, t := range d.Transitions {
		for _, ref := range t.Effects {
			eff, ok := e.effects[ref.Effect]
			if !ok {
				p = append(p, fmt.Sprintf("transición «%s»: el efecto %q no existe (%s)", t.Action, ref.Effect, strings.Join(e.effectNames(), ", ")))
				continue
			}
			if eff.Field && ref.Field == "" {
				p = append(p, fmt.Sprintf("transición «%s»: el efecto %q necesita «field»", t.Action, ref.Effect))
			}
			if !eff.Field && ref.Field != "" {
				p = append(p, fmt.Sprintf("transición «%s»: el efecto %q no recibe «field»", t.Action, ref.Effect))
			}
			for name := range ref.With {
				if !slices.Contains(eff.Params, name) {
					p = append(p, fmt.Sprintf("transición «%s»: el efecto %q no tiene el parámetro %q (%s)", t.Action, ref.Effect, name, strings.Join(eff.Params, ", ")))
				}
			}
		}
	}
	sort.Strings(p)
	return p
}

// runEffects carries out t's effects on the case, in tx, after the case
// moved and its history recorded event seq.
func (e *Engine) runEffects(ctx context.Context, tx pgx.Tx, d *Definition, t Transition, actor Actor, c *Case, obs string, seq int, now time.Time) error {
	for _, ref := range t.Effects {
		eff := e.effects[ref.Effect]
		if eff.Do == nil {
			return fmt.Errorf("procedure: effect %q of %s is not registered", ref.Effect, d.Key())
		}
		run := &EffectRun{Tx: tx, Definition: d, Case: c, Transition: t, Actor: actor, Observations: obs,
			BaseURL: strings.TrimRight(e.BaseURL, "/"), Now: now, ref: ref, seq: seq}
		if ref.Field != "" {
			formID, fieldID, _ := strings.Cut(ref.Field, ".")
			v, ok := fieldValue(c.Data[formID], fieldID)
			if len(ref.When) > 0 && (!ok || !slices.Contains(ref.When, strings.TrimSpace(fmt.Sprint(v)))) {
				continue
			}
			if !ok {
				missing := missingFields(d, c.Data, []string{ref.Field})
				r := refuse(CodeMissingField, "Para «%s» falta información: %s.", t.Label, strings.Join(missingLabels(missing), "; "))
				r.Problems = missing
				return r
			}
			run.Value = strings.TrimSpace(fmt.Sprint(v))
		}
		if err := eff.Do(ctx, run); err != nil {
			var r *Refusal
			if errors.As(err, &r) {
				return r
			}
			return fmt.Errorf("procedure: effect %s of %s on %s: %w", ref.Effect, t.Action, c.Folio, err)
		}
	}
	return nil
}
