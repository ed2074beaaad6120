package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dgtit-gto/gobdatos/connectors/registry"
)

// Scheduler is what Jobs needs of pipeline/schedule.Scheduler.
type Scheduler interface {
	EveryJob(name string, d time.Duration, first time.Time, task func(ctx context.Context) error) (uuid.UUID, error)
	CronJob(name, crontab string, task func(ctx context.Context) error) (uuid.UUID, error)
	Remove(id uuid.UUID) error
}

// DefaultAccessInterval is how often entity access roles are checked.
const DefaultAccessInterval = 5 * time.Minute

// Jobs keeps one scheduled check per enabled connector (when the Checker
// has a Probe) and per active entity access, and follows their changes (LISTEN gobdatos_check_targets)
// without a restart. Every instance keeps the jobs; the scheduler's leader
// runs them.
type Jobs struct {
	Sched   Scheduler
	Checker *Checker
	// Loads, when set, runs the connectors' scheduled loads (load_cron).
	Loads          *Loads
	AccessInterval time.Duration
	Logger         *slog.Logger

	mu   sync.Mutex
	jobs map[string]scheduled
}

type scheduled struct {
	id       uuid.UUID
	interval time.Duration
	cron     string
}

// target is one row the jobs follow.
type target struct {
	key      string // "connector:12", "access:3", "load:12"
	kind     TargetKind
	id       int64
	interval time.Duration
	cron     string    // loads only
	due      time.Time // last check + interval: the job keeps the target's rhythm across restarts
}

func (j *Jobs) logger() *slog.Logger {
	if j.Logger == nil {
		return slog.Default()
	}
	return j.Logger
}

func (j *Jobs) accessInterval() time.Duration {
	if j.AccessInterval <= 0 {
		return DefaultAccessInterval
	}
	return j.AccessInterval
}

// targets lists what should be scheduled; key narrows it to one target.
func (j *Jobs) targets(ctx context.Context, key string) ([]target, error) {
	kind, id := "", int64(0)
	if key != "" {
		k, v, _ := strings.Cut(key, ":")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("health: bad notification %q", key)
		}
		kind, id = k, n
	}
	rows, err := j.Checker.DB.Query(ctx, `
		SELECT 'connector', id, extract(epoch FROM check_interval)::float8, coalesce(last_check_at + check_interval, '-infinity'), ''
		FROM meta.connector
		WHERE enabled AND $4 AND ($1 = '' OR ($1 = 'connector' AND id = $2))
		UNION ALL
		SELECT 'load', id, 0, '-infinity', load_cron
		FROM meta.connector
		WHERE enabled AND $5 AND load_cron <> '' AND target_catalog <> '' AND ($1 = '' OR ($1 = 'connector' AND id = $2))
		UNION ALL
		SELECT 'access', id, $3::float8, coalesce(last_check_at + make_interval(secs => $3), '-infinity'), ''
		FROM meta.entity_access
		WHERE revoked_at IS NULL AND ($1 = '' OR ($1 = 'access' AND id = $2))`,
		kind, id, j.accessInterval().Seconds(), j.Checker.Probe != nil, j.Loads != nil)
	if err != nil {
		return nil, fmt.Errorf("health: targets: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (target, error) {
		var t target
		var secs float64
		var due pgtype.Timestamptz
		err := r.Scan(&t.kind, &t.id, &secs, &due, &t.cron)
		t.due = time.Now()
		if due.Valid && due.InfinityModifier == pgtype.Finite {
			t.due = due.Time
		}
		t.interval = time.Duration(secs * float64(time.Second))
		t.key = fmt.Sprintf("%s:%d", t.kind, t.id)
		return t, err
	})
}

// Sync makes the scheduled jobs match the database: all of them, or only
// the target named by key ("connector:12").
func (j *Jobs) Sync(ctx context.Context, key string) error {
	want, err := j.targets(ctx, key)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.jobs == nil {
		j.jobs = map[string]scheduled{}
	}
	seen := make(map[string]bool, len(want))
	for _, t := range want {
		seen[t.key] = true
		if cur, ok := j.jobs[t.key]; ok {
			if cur.interval == t.interval && cur.cron == t.cron {
				continue
			}
			if err := j.Sched.Remove(cur.id); err != nil {
				return err
			}
			delete(j.jobs, t.key)
		}
		var id uuid.UUID
		if t.kind == kindLoad {
			id, err = j.Sched.CronJob("load "+t.key, t.cron, j.task(t))
		} else {
			id, err = j.Sched.EveryJob("check "+t.key, t.interval, t.due, j.task(t))
		}
		if err != nil {
			return err
		}
		j.jobs[t.key] = scheduled{id: id, interval: t.interval, cron: t.cron}
	}
	for k, cur := range j.jobs {
		if seen[k] || (key != "" && k != key && k != loadKey(key)) {
			continue
		}
		if err := j.Sched.Remove(cur.id); err != nil {
			return err
		}
		delete(j.jobs, k)
	}
	return nil
}

// Len is the number of scheduled checks.
func (j *Jobs) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.jobs)
}

// kindLoad marks a connector's scheduled load among the jobs.
const kindLoad TargetKind = "load"

// loadKey is the load job that follows a connector's notification.
func loadKey(key string) string {
	if rest, ok := strings.CutPrefix(key, "connector:"); ok {
		return "load:" + rest
	}
	return ""
}

func (j *Jobs) task(t target) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		var err error
		switch t.kind {
		case kindLoad:
			_, err = j.Loads.Run(ctx, t.id)
		case KindConnector:
			_, err = j.Checker.Connector(ctx, t.id, false)
		default:
			_, err = j.Checker.EntityAccess(ctx, t.id, t.interval, false)
		}
		if errors.Is(err, ErrSkipped) || ctx.Err() != nil {
			return nil // skipped, or the scheduler is shutting down
		}
		return err
	}
}

// Run syncs every job, then follows the changes until ctx ends. The LISTEN
// connection is its own (never a pooled one); when it breaks, Run
// reconnects and syncs everything again, since notifications sent
// meanwhile are lost.
func (j *Jobs) Run(ctx context.Context, ready func()) error {
	backoff := time.Second
	for {
		err := j.listen(ctx, ready)
		ready = nil
		if ctx.Err() != nil {
			return nil
		}
		j.logger().Warn("connector change listener stopped; reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (j *Jobs) listen(ctx context.Context, ready func()) error {
	cfg := j.Checker.DB.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "gobdatos-listen"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+registry.Channel); err != nil {
		return err
	}
	if err := j.Sync(ctx, ""); err != nil {
		return err
	}
	j.logger().Info("connectivity checks scheduled", "targets", j.Len())
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if err := j.Sync(ctx, n.Payload); err != nil {
			j.logger().Error("reload connectivity check", "target", n.Payload, "err", err)
		}
	}
}
