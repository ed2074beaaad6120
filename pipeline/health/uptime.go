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

// uptimeSQL sums the checks of each group (key: a column of both the checks
// and their hourly roll-up) over the Windows that end now, window n being
// the nth of $1 (seconds): whole hours from meta.connectivity_hour, and the
// partial hour at a window's start from the checks themselves, so that the
// figures are exactly those of the checks, with an hour of checks read at
// most per window. where filters both tables (alias t).
func uptimeSQL(key, where string) string {
	return `WITH w AS (
		SELECT v.n, now() - make_interval(secs => v.secs) AS since,
			date_trunc('hour', (now() - make_interval(secs => v.secs)) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '1 hour' AS whole
		FROM unnest($1::float8[]) WITH ORDINALITY AS v(secs, n)
	), part AS (
		SELECT t.` + key + ` AS k, w.n, t.checks, t.checks - t.failures AS ok
		FROM meta.connectivity_hour t JOIN w ON t.hour >= w.whole
		WHERE t.hour >= (SELECT min(whole) FROM w) AND ` + where + `
		UNION ALL
		SELECT e.k, w.n, 1, e.ok FROM w CROSS JOIN LATERAL (
			SELECT t.` + key + ` AS k, (t.status = 'ok')::int AS ok FROM meta.connectivity_check t
			WHERE t.checked_at > w.since AND t.checked_at < w.whole AND ` + where + `) e
	)
	SELECT k, n, sum(checks)::bigint, sum(ok)::bigint FROM part GROUP BY k, n`
}

func windowSeconds() []float64 {
	out := make([]float64, len(Windows))
	for i, w := range Windows {
		out[i] = w.Span.Seconds()
	}
	return out
}

// collectUptimes reads the rows (key, window number, checks, ok) of
// uptimeSQL into each key's uptimes, keys in the order they come.
func collectUptimes[K comparable](rows pgx.Rows) (map[K][]Uptime, []K, error) {
	counts := map[K]*[6]int64{}
	var keys []K
	var k K
	var n, checks, ok int64
	_, err := pgx.ForEachRow(rows, []any{&k, &n, &checks, &ok}, func() error {
		c := counts[k]
		if c == nil {
			c = new([6]int64)
			counts[k] = c
			keys = append(keys, k)
		}
		if n >= 1 && int(n) <= len(Windows) {
			c[2*(n-1)], c[2*(n-1)+1] = checks, ok
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	out := make(map[K][]Uptime, len(counts))
	for k, c := range counts {
		out[k] = uptimes(*c)
	}
	return out, keys, nil
}

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

// UptimesOf is the uptime of each target over 24 h, 7 d and 30 d (without
// checks, the Ratio is nil); one query for all the targets.
func UptimesOf(ctx context.Context, db pgdb.DBTX, kind TargetKind, ids []int64) (map[int64][]Uptime, error) {
	col := targetColumn(kind)
	rows, err := db.Query(ctx, uptimeSQL(col, "t."+col+" = ANY($2)"), windowSeconds(), ids)
	if err != nil {
		return nil, fmt.Errorf("health: uptime of %s: %w", kind, err)
	}
	out, _, err := collectUptimes[int64](rows)
	if err != nil {
		return nil, fmt.Errorf("health: uptime of %s: %w", kind, err)
	}
	for _, id := range ids {
		if out[id] == nil {
			out[id] = uptimes([6]int64{})
		}
	}
	return out, nil
}

// TargetUptime is the uptime of one connector or entity access over 24 h,
// 7 d and 30 d.
func TargetUptime(ctx context.Context, db pgdb.DBTX, kind TargetKind, id int64) ([]Uptime, error) {
	all, err := UptimesOf(ctx, db, kind, []int64{id})
	if err != nil {
		return nil, err
	}
	return all[id], nil
}

// DependenciaUptime is the uptime of all of a dependencia's connectors and
// entity access roles together.
type DependenciaUptime struct {
	Dependencia string   `json:"dependencia"`
	Uptime      []Uptime `json:"uptime"`
}

// ByDependencia computes every dependencia's uptime (those with checks in
// the last 30 days), ordered by clave.
func ByDependencia(ctx context.Context, db pgdb.DBTX) ([]DependenciaUptime, error) {
	rows, err := db.Query(ctx, `SELECT d.clave, u.n, u.checks, u.ok
		FROM (`+uptimeSQL("dependencia_id", "true")+`) AS u(k, n, checks, ok)
		JOIN meta.dependencia d ON d.id = u.k ORDER BY d.clave, u.n`, windowSeconds())
	if err != nil {
		return nil, fmt.Errorf("health: uptime by dependencia: %w", err)
	}
	ups, claves, err := collectUptimes[string](rows)
	if err != nil {
		return nil, fmt.Errorf("health: uptime by dependencia: %w", err)
	}
	out := make([]DependenciaUptime, len(claves))
	for i, clave := range claves {
		out[i] = DependenciaUptime{Dependencia: clave, Uptime: ups[clave]}
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
	col := targetColumn(kind)
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

// DefaultRetention is how long checks are kept when configuration does not
// say.
const DefaultRetention = 90 * 24 * time.Hour

// MinRetention is the shortest retention Prune accepts: the 30-day uptime
// reads the checks of the hour at its start.
const MinRetention = 31 * 24 * time.Hour

// Prune deletes the checks older than keep, and the roll-up's hours wholly
// before them; it returns how many checks it deleted.
func Prune(ctx context.Context, db pgdb.DBTX, keep time.Duration) (int64, error) {
	if keep < MinRetention {
		return 0, fmt.Errorf("health: prune: keeping checks %s is less than the %s the uptimes need", keep, MinRetention)
	}
	var n int64
	err := pgdb.WithTx(ctx, db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM meta.connectivity_check WHERE checked_at < now() - make_interval(secs => $1)`, keep.Seconds())
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		_, err = tx.Exec(ctx, `DELETE FROM meta.connectivity_hour
			WHERE hour < date_trunc('hour', (now() - make_interval(secs => $1)) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`, keep.Seconds())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("health: prune: %w", err)
	}
	return n, nil
}
