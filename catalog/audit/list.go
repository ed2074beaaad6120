package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Line is one entry of the bitácora as read back.
type Line struct {
	ID            int64           `json:"id"`
	At            time.Time       `json:"at"`
	ActorID       *int64          `json:"actor_id"`
	ActorLogin    string          `json:"actor_login"`
	Action        string          `json:"action"`
	ObjectType    string          `json:"object_type"`
	ObjectID      string          `json:"object_id"`
	DependenciaID *int64          `json:"dependencia_id"`
	Detail        json.RawMessage `json:"detail"`
	RequestID     string          `json:"request_id"`
	RemoteAddr    string          `json:"remote_addr"`
}

// Filter narrows the bitácora; zero values match everything.
type Filter struct {
	Actor      string // actor login, exact (case-insensitive)
	ObjectType string
	ObjectID   string
	// Action matches exactly, or every action under a prefix ending in "."
	// ("user." lists all changes to users).
	Action string
	From   time.Time // inclusive
	To     time.Time // exclusive
	// BeforeID and Limit page newest first (keyset): the next page starts
	// before the last id of this one. Limit 0 means 50.
	BeforeID int64
	Limit    int
}

// List returns the lines that match f, newest first.
func List(ctx context.Context, db pgdb.DBTX, f Filter) ([]Line, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	where := []string{"true"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Actor != "" {
		where = append(where, "lower(actor_login) = lower("+arg(f.Actor)+")")
	}
	if f.ObjectType != "" {
		where = append(where, "object_type = "+arg(f.ObjectType))
	}
	if f.ObjectID != "" {
		where = append(where, "object_id = "+arg(f.ObjectID))
	}
	if f.Action != "" {
		if strings.HasSuffix(f.Action, ".") {
			where = append(where, "starts_with(action, "+arg(f.Action)+")")
		} else {
			where = append(where, "action = "+arg(f.Action))
		}
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(f.To))
	}
	if f.BeforeID > 0 {
		where = append(where, "id < "+arg(f.BeforeID))
	}
	rows, err := db.Query(ctx, `
		SELECT id, at, actor_id, actor_login, action, object_type, object_id, dependencia_id, detail, request_id, remote_addr
		FROM meta.audit_log WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT `+arg(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Line, error) {
		var l Line
		err := r.Scan(&l.ID, &l.At, &l.ActorID, &l.ActorLogin, &l.Action, &l.ObjectType, &l.ObjectID, &l.DependenciaID, &l.Detail, &l.RequestID, &l.RemoteAddr)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	return out, nil
}
