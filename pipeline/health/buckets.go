package health

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Bucket is the checks of one target within one slice of time, for charts
// of uptime over time.
type Bucket struct {
	Start  time.Time `json:"start"`
	Checks int64     `json:"checks"`
	OK     int64     `json:"ok"`
}

// Ratio is the share of successful checks; ok is false when there were none.
func (b Bucket) Ratio() (ratio float64, ok bool) {
	if b.Checks == 0 {
		return 0, false
	}
	return float64(b.OK) / float64(b.Checks), true
}

func targetColumn(kind TargetKind) string {
	if kind == KindAccess {
		return "access_id"
	}
	return "connector_id"
}

// HourEnd is the end of the hour (UTC) that holds t: the end of charts
// whose last slice is the hour under way.
func HourEnd(t time.Time) time.Time { return t.Truncate(time.Hour).Add(time.Hour) }

// BucketsOf splits the n*step before end into n slices of step, oldest
// first, and counts each target's checks and successes in each: one bar per
// hour of the last day (n=24, step=time.Hour) or per day of the last month.
// It reads the hourly roll-up, so end must be a whole hour (HourEnd) and
// step whole hours. One query for all the targets.
func BucketsOf(ctx context.Context, db pgdb.DBTX, kind TargetKind, ids []int64, end time.Time, step time.Duration, n int) (map[int64][]Bucket, error) {
	if n <= 0 || step < time.Hour || step%time.Hour != 0 || !end.Truncate(time.Hour).Equal(end) {
		return nil, fmt.Errorf("health: buckets of %s: %d slices of %s ending %s are not whole hours", kind, n, step, end)
	}
	start := end.Add(-time.Duration(n) * step)
	out := make(map[int64][]Bucket, len(ids))
	for _, id := range ids {
		b := make([]Bucket, n)
		for i := range b {
			b[i].Start = start.Add(time.Duration(i) * step)
		}
		out[id] = b
	}
	col := targetColumn(kind)
	rows, err := db.Query(ctx, `
		SELECT `+col+`, floor(extract(epoch FROM hour - $2::timestamptz) / $3)::int AS b,
			sum(checks)::bigint, sum(checks - failures)::bigint
		FROM meta.connectivity_hour
		WHERE `+col+` = ANY($1) AND hour >= $2::timestamptz AND hour < $4::timestamptz
		GROUP BY 1, 2`, ids, start, step.Seconds(), end)
	if err != nil {
		return nil, fmt.Errorf("health: buckets of %s: %w", kind, err)
	}
	var id int64
	var b int
	var checks, ok int64
	_, err = pgx.ForEachRow(rows, []any{&id, &b, &checks, &ok}, func() error {
		if b >= 0 && b < n {
			out[id][b].Checks, out[id][b].OK = checks, ok
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("health: buckets of %s: %w", kind, err)
	}
	return out, nil
}

// LatestOf is each target's newest check; targets never checked are absent.
func LatestOf(ctx context.Context, db pgdb.DBTX, kind TargetKind, ids []int64) (map[int64]Check, error) {
	col := targetColumn(kind)
	// One index probe per target, however long its history.
	rows, err := db.Query(ctx, `SELECT t.id, c.checked_at, c.status, c.latency_ms, c.message
		FROM unnest($1::bigint[]) AS t(id)
		CROSS JOIN LATERAL (SELECT checked_at, status, latency_ms, message FROM meta.connectivity_check
			WHERE `+col+` = t.id ORDER BY checked_at DESC, id DESC LIMIT 1) c`, ids)
	if err != nil {
		return nil, fmt.Errorf("health: latest checks of %s: %w", kind, err)
	}
	out := map[int64]Check{}
	var id int64
	var c Check
	_, err = pgx.ForEachRow(rows, []any{&id, &c.At, &c.Status, &c.LatencyMS, &c.Message}, func() error {
		out[id] = c
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("health: latest checks of %s: %w", kind, err)
	}
	return out, nil
}
