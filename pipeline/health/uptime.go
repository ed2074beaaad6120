package health

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Uptime is the share of checks that found a target working within a
// window. Ratio is nil when there were no checks.
type Uptime struct {
	Window string   `json:"window"` // "24h", "7d", "30d"
	Checks int64    `json:"checks"`
	OK     int64    `json:"ok"`
	Ratio  *float64 `json:"ratio"`
}

// Windows over which uptime is computed.
var Windows = []struct {
	Name string
	Span time.Duration
}{{"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}}

const uptimeCols = `
	count(*) FILTER (WHERE checked_at > now() - interval '24 hours'),
	count(*) FILTER (WHERE checked_at > now() - interval '24 hours' AND status = 'ok'),
	count(*) FILTER (WHERE checked_at > now() - interval '7 days'),
	count(*) FILTER (WHERE checked_at > now() - interval '7 days' AND status = 'ok'),
	count(*),
	count(*) FILTER (WHERE status = 'ok')`

func uptimes(n [6]int64) []Uptime {
	out := make([]Uptime, len(Windows))
	for i, w := range Windows {
		u := Uptime{Window: w.Name, Checks: n[2*i], OK: n[2*i+1]}
		if u.Checks > 0 {
			r := float64(u.OK) / float64(u.Checks)
			u.Ratio = &r
		}
		out[i] = u
	}
	return out
}

// TargetUptime is the uptime of one connector or entity access over 24 h,
// 7 d and 30 d.
func TargetUptime(ctx context.Context, db pgdb.DBTX, kind TargetKind, id int64) ([]Uptime, error) {
	col := "connector_id"
	if kind == KindAccess {
		col = "access_id"
	}
	var n [6]int64
	if err := db.QueryRow(ctx, `SELECT `+uptimeCols+` FROM meta.connectivity_check
		WHERE `+col+` = $1 AND checked_at > now() - interval '30 days'`, id).
		Scan(&n[0], &n[1], &n[2], &n[3], &n[4], &n[5]); err != nil {
		return nil, fmt.Errorf("health: uptime of %s %d: %w", kind, id, err)
	}
	return uptimes(n), nil
}

// DependenciaUptime is the uptime of all of a dependencia's connectors and
// entity access roles together.
type DependenciaUptime struct {
	Dependencia string   `json:"dependencia"`
	Uptime      []Uptime `json:"uptime"`
}

// ByDependencia computes every dependencia's uptime (those with checks).
func ByDependencia(ctx context.Context, db pgdb.DBTX) ([]DependenciaUptime, error) {
	rows, err := db.Query(ctx, `SELECT d.clave, `+uptimeCols+` FROM meta.connectivity_check c
		JOIN meta.dependencia d ON d.id = c.dependencia_id
		WHERE c.checked_at > now() - interval '30 days'
		GROUP BY d.clave ORDER BY d.clave`)
	if err != nil {
		return nil, fmt.Errorf("health: uptime by dependencia: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DependenciaUptime, error) {
		var d DependenciaUptime
		var n [6]int64
		err := r.Scan(&d.Dependencia, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5])
		d.Uptime = uptimes(n)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("health: uptime by dependencia: %w", err)
	}
	return out, nil
}

// Check is one stored check.
type Check struct {
	At        time.Time `json:"at"`
	Status    string    `json:"status"`
	LatencyMS float64   `json:"latency_ms"`
	Message   string    `json:"message"`
}

// History returns a target's latest checks, newest first.
func History(ctx context.Context, db pgdb.DBTX, kind TargetKind, id int64, limit int) ([]Check, error) {
	col := "connector_id"
	if kind == KindAccess {
		col = "access_id"
	}
	rows, err := db.Query(ctx, `SELECT checked_at, status, latency_ms, message FROM meta.connectivity_check
		WHERE `+col+` = $1 ORDER BY checked_at DESC, id DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("health: history of %s %d: %w", kind, id, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Check, error) {
		var c Check
		return c, r.Scan(&c.At, &c.Status, &c.LatencyMS, &c.Message)
	})
	if err != nil {
		return nil, fmt.Errorf("health: history of %s %d: %w", kind, id, err)
	}
	return out, nil
}

// Prune deletes checks older than keep (the uptime needs 30 days).
func Prune(ctx context.Context, db pgdb.DBTX, keep time.Duration) (int64, error) {
	tag, err := db.Exec(ctx, `DELETE FROM meta.connectivity_check WHERE checked_at < now() - make_interval(secs => $1)`, keep.Seconds())
	if err != nil {
		return 0, fmt.Errorf("health: prune: %w", err)
	}
	return tag.RowsAffected(), nil
}
