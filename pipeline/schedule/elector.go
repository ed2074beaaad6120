// Package schedule runs gobdatos' scheduled work (connectivity checks,
// scheduled loads, nomenclature audits, outbox delivery) with gocron, on
// exactly one instance at a time: the leader, elected with a PostgreSQL
// advisory lock.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrNotLeader is what IsLeader answers on the instances that must not run jobs.
var ErrNotLeader = errors.New("schedule: another instance is the leader")

// LeaderLock is the advisory lock key of the scheduler leader ("gobdatos-leader").
const LeaderLock int64 = 0x676f6264_6c656164

// Elector implements gocron's Elector on a session-level advisory lock held on
// one dedicated connection (never a pooled one: a pool could hand the lock's
// session to someone else, or unlock through another session). When the
// leader dies, PostgreSQL ends its session and releases the lock, and the
// next instance to ask becomes leader; when the database restarts, the
// leader notices on its next check and competes again.
type Elector struct {
	cfg    *pgx.ConnConfig
	key    int64
	logger *slog.Logger

	mu   sync.Mutex
	conn *pgx.Conn // non-nil while we hold the lock
}

// NewElector returns an elector that connects like pool does.
func NewElector(pool *pgxpool.Pool, key int64, logger *slog.Logger) *Elector {
	if logger == nil {
		logger = slog.Default()
	}
	cfg := pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "gobdatos-leader"
	return &Elector{cfg: cfg, key: key, logger: logger}
}

// IsLeader returns nil when this instance holds (or has just taken) the lock.
func (e *Elector) IsLeader(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if e.conn != nil {
		if err := e.conn.Ping(ctx); err == nil {
			return nil
		}
		e.logger.Warn("lost the scheduler leadership: the database session ended")
		_ = e.conn.Close(context.WithoutCancel(ctx))
		e.conn = nil
	}
	conn, err := pgx.ConnectConfig(ctx, e.cfg)
	if err != nil {
		return fmt.Errorf("schedule: elector connect: %w", err)
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", e.key).Scan(&got); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return fmt.Errorf("schedule: elector: %w", err)
	}
	if !got {
		_ = conn.Close(context.WithoutCancel(ctx))
		return ErrNotLeader
	}
	e.conn = conn
	e.logger.Info("this instance is now the scheduler leader")
	return nil
}

// Leading reports, without asking the database, whether this instance held
// the lock at its last check.
func (e *Elector) Leading() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conn != nil
}

// Close gives the leadership up (another instance takes it at its next check).
func (e *Elector) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = e.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", e.key)
	err := e.conn.Close(ctx)
	e.conn = nil
	return err
}
