// Package audit writes the bitácora: the append-only log of every change to
// users, catalogs and connectors. Entries are written with the change, in
// the same transaction, so the log never records what did not happen.
package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Actor is who made a change: a user, or the system itself.
type Actor struct {
	ID    *int64
	Login string
}

// System is the actor of scheduled and start-up work.
var System = Actor{Login: "sistema"}

// Entry is one line of the bitácora.
type Entry struct {
	Actor         Actor
	Action        string // e.g. "catalog.publish", "user.create"
	ObjectType    string // e.g. "catalog", "user", "connector"
	ObjectID      string
	DependenciaID *int64
	Detail        any // marshalled as JSON; never put secrets here
	RequestID     string
	RemoteAddr    string
}

// Record appends e to the bitácora on db (pass the transaction of the change).
func Record(ctx context.Context, db pgdb.DBTX, e Entry) error {
	detail := []byte("{}")
	if e.Detail != nil {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return fmt.Errorf("audit: detail: %w", err)
		}
		detail = b
	}
	if e.Actor.Login == "" {
		e.Actor = System
	}
	_, err := db.Exec(ctx, `
		INSERT INTO meta.audit_log (actor_id, actor_login, action, object_type, object_id, dependencia_id, detail, request_id, remote_addr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.Actor.ID, e.Actor.Login, e.Action, e.ObjectType, e.ObjectID, e.DependenciaID, detail, e.RequestID, e.RemoteAddr)
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}
