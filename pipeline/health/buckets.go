package health

import (
	"context"
	"fmt"
	"time"

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

// Buckets splits the n*step before end into n slices of step, oldest first,
// and counts a target's checks and successes in each: one bar per hour of
// the last day (n=24, step=time.Hour) or per day of the last month.
func Buckets(ctx context.Context, db pgdb.DBTX, kind TargetKind, id int64, end time.Time, step time.Duration, n int) ([]Bucket, error) {
	if n <= 0 || step <= 0 {
		return nil, fmt.Errorf("health: buckets of %s %d: %d slices of %s", kind, id, n, step)
	}
	col := "connector_id"
	if kind == KindAccess {
		col = "access_id"
	}
	start := end.Add(-time.Duration(n) * step)
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = start.Add(time.Duration(i) * step)
	}
	rows, err := db.Query(ctx, `
		SELECT floor(extract(epoch FROM checked_at - $2::timestamptz) / $3)::int AS b,
			count(*), count(*) FILTER (WHERE status = 'ok')
		FROM meta.connectivity_check
		WHERE `+col+` = $1 AND checked_at >= $2::timestamptz AND checked_at < $4::timestamptz
		GROUP BY b`, id, start, step.Seconds(), end)
	if err != nil {
		return nil, fmt.Errorf("health: buckets of %s %d: %w", kind, id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var b int
		var checks, ok int64
		if err := rows.Scan(&b, &checks, &ok); err != nil {
			return nil, fmt.Errorf("health: buckets of %s %d: %w", kind, id, err)
		}
		if b >= 0 && b < n {
			out[b].Checks, out[b].OK = checks, ok
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("health: buckets of %s %d: %w", kind, id, err)
	}
	return out, nil
}
