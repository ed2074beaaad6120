package catalog

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Action moves a catalog (or its pending revision) through the lifecycle.
type Action string

// The lifecycle actions.
const (
	Submit  Action = "enviar"   // borrador or con observaciones → en revisión
	Observe Action = "observar" // en revisión → con observaciones (observations required)
	Approve Action = "aprobar"  // en revisión → aprobado
	Publish Action = "publicar" // aprobado → publicado
	Retire  Action = "retirar"  // any state but retirado → retirado
)

// Actions lists the actions in lifecycle order.
var Actions = []Action{Submit, Observe, Approve, Publish, Retire}

// Name is the action as people read it.
func (a Action) Name() string {
	switch a {
	case Submit:
		return "enviar a revisión"
	case Observe:
		return "hacer observaciones"
	case Approve:
		return "aprobar"
	case Publish:
		return "publicar"
	case Retire:
		return "retirar"
	}
	return string(a)
}

// next is the lifecycle: the state an action leads to from each state it
// applies to.
var next = map[Action]map[State]State{
	Submit:  {Borrador: EnRevision, ConObservaciones: EnRevision},
	Observe: {EnRevision: ConObservaciones},
	Approve: {EnRevision: Aprobado},
	Publish: {Aprobado: Publicado},
	Retire:  {Borrador: Retirado, EnRevision: Retirado, ConObservaciones: Retirado, Aprobado: Retirado, Publicado: Retirado},
}

// NextState is where action leads from state; ok is false when the
// lifecycle does not allow it.
func NextState(from State, action Action) (State, bool) {
	to, ok := next[action][from]
	return to, ok
}

// Allowed lists the actions actor may take on c now.
func Allowed(actor Actor, c *Catalog) []Action {
	var out []Action
	from := c.State
	if c.Revision != nil {
		from = c.Revision.State
	}
	for _, a := range Actions {
		target := from
		if a == Retire {
			target = c.State
		}
		if _, ok := NextState(target, a); ok && canAct(actor, a, c.DependenciaID) == nil {
			out = append(out, a)
		}
	}
	return out
}

// canAct: a Publicador sends its own dependencia's catalogs to review;
// Administrador and Super Administrador do everything else; Consulta only
// reads.
func canAct(a Actor, action Action, dependenciaID int64) error {
	switch a.Profile {
	case account.SuperAdmin, account.Admin:
		return nil
	case account.Publicador:
		if action != Submit {
			return errorf(KindForbidden, "un Publicador no puede %s un catálogo: corresponde a un Administrador", action.Name())
		}
		if a.DependenciaID == nil || *a.DependenciaID != dependenciaID {
			return errorf(KindForbidden, "un Publicador sólo puede enviar a revisión catálogos de su propia dependencia")
		}
		return nil
	}
	return errorf(KindForbidden, "el perfil %s no puede %s catálogos", profileName(a.Profile), action.Name())
}

func profileName(p account.Profile) string {
	if p == "" {
		return "anónimo"
	}
	return p.Name()
}

// Transition is one recorded step of the lifecycle.
type Transition struct {
	Action       Action
	From, To     State
	Revision     *int // the revision it moved, when the catalog was already published
	By           string
	At           time.Time
	Observations string
}

// Transition takes action on the catalog clave (or on its pending revision
// when it is published and has one), recording who, when and the
// observations. A refused transition is a *Error and changes nothing.
func (s *Store) Transition(ctx context.Context, actor Actor, clave string, action Action, observations string) (*Catalog, error) {
	observations = strings.TrimSpace(observations)
	if _, ok := next[action]; !ok {
		names := make([]string, len(Actions))
		for i, a := range Actions {
			names[i] = string(a)
		}
		return nil, errorf(KindInvalid, "la acción «%s» no existe; las acciones son: %s", action, strings.Join(names, ", "))
	}
	return s.change(ctx, clave, string(action), func(tx pgx.Tx, c *Catalog) error {
		if err := canAct(actor, action, c.DependenciaID); err != nil {
			return err
		}
		if action == Observe && observations == "" {
			return errorf(KindInvalid, "para hacer observaciones a «%s» escriba cuáles son", clave)
		}
		rev, err := pendingRevision(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if rev != nil && action != Retire {
			return s.transitionRevision(ctx, tx, actor, c, rev, action, observations)
		}
		to, ok := NextState(c.State, action)
		if !ok {
			msg := fmt.Sprintf("no se puede %s el catálogo «%s» en estado %s", action.Name(), clave, c.State.Name())
			if c.State == Publicado {
				msg += "; para modificar un catálogo publicado registre una revisión"
			}
			return errorf(KindTransition, "%s", msg)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE meta.catalog SET state = $2, updated_at = now(),
				published_at = CASE WHEN $2 = 'publicado' THEN coalesce(published_at, now()) ELSE published_at END
			WHERE id = $1`, c.ID, string(to)); err != nil {
			return err
		}
		if rev != nil { // retiring a published catalog discards its pending revision
			if _, err := tx.Exec(ctx, `UPDATE meta.catalog_revision SET state = 'descartado', closed_at = now() WHERE catalog_id = $1 AND number = $2`, c.ID, rev.Number); err != nil {
				return err
			}
		}
		if err := recordTransition(ctx, tx, c.ID, nil, string(action), c.State, to, actor, observations); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: audit.Actor{ID: actor.idPtr(), Login: actor.login()}, Action: "catalog." + string(action), ObjectType: "catalog",
			ObjectID: clave, DependenciaID: &c.DependenciaID,
			Detail: map[string]any{"from": c.State, "to": to, "observations": observations},
		})
	})
}

// History lists the lifecycle transitions of a catalog, oldest first.
func (s *Store) History(ctx context.Context, catalogID int64) ([]Transition, error) {
	rows, err := s.db.Query(ctx, `
		SELECT action, from_state, to_state, revision, actor_login, at, observations
		FROM meta.catalog_transition WHERE catalog_id = $1 ORDER BY at, id`, catalogID)
	if err != nil {
		return nil, fmt.Errorf("catalog: history: %w", err)
	}
	defer rows.Close()
	var out []Transition
	for rows.Next() {
		var t Transition
		if err := rows.Scan(&t.Action, &t.From, &t.To, &t.Revision, &t.By, &t.At, &t.Observations); err != nil {
			return nil, fmt.Errorf("catalog: history: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
