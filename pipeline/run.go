package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Trigger says what started a run.
type Trigger string

// The triggers of a run.
const (
	Manual   Trigger = "manual"
	Upload   Trigger = "upload"
	Schedule Trigger = "schedule"
)

// State is where a run is in its life.
type State string

// The states of a run. Queued and Running are the only unfinished ones.
const (
	Queued    State = "queued"
	Running   State = "running"
	Succeeded State = "succeeded"
	Failed    State = "failed"
	Rejected  State = "rejected"
)

// Finished reports whether a run in state s is over.
func (s State) Finished() bool { return s != Queued && s != Running }

// Spanish is the state as the portal and the CLI say it.
func (s State) Spanish() string {
	switch s {
	case Queued:
		return "en cola"
	case Running:
		return "en curso"
	case Succeeded:
		return "publicada"
	case Failed:
		return "fallida"
	case Rejected:
		return "rechazada"
	}
	return string(s)
}

// The stages of a run, in order; Timings are keyed by them.
const (
	StageOpen     = "open"
	StageValidate = "validate" // decode, convert, check and COPY into staging, streamed together
	StageKeys     = "keys"     // unique keys and foreign keys over all staged rows
	StagePublish  = "publish"  // diff and publication, one transaction
)

// Run is one load of one catalog, as recorded in meta.load_run.
type Run struct {
	ID           int64              `json:"id"`
	CatalogID    int64              `json:"catalogId"`
	CatalogClave string             `json:"catalog"`
	Trigger      Trigger            `json:"trigger"`
	State        State              `json:"state"`
	Stage        string             `json:"stage"`
	DryRun       bool               `json:"dryRun"`
	Source       string             `json:"source"`
	ActorLogin   string             `json:"actor"`
	CreatedAt    time.Time          `json:"createdAt"`
	StartedAt    *time.Time         `json:"startedAt,omitempty"`
	FinishedAt   *time.Time         `json:"finishedAt,omitempty"`
	HeartbeatAt  time.Time          `json:"heartbeatAt"`
	Timings      map[string]float64 `json:"timings"` // seconds per stage
	RowsRead     int64              `json:"rowsRead"`
	RowsValid    int64              `json:"rowsValid"`
	RowsRejected int64              `json:"rowsRejected"`
	RowsAdded    int64              `json:"rowsAdded"`
	RowsChanged  int64              `json:"rowsChanged"`
	RowsRemoved  int64              `json:"rowsRemoved"`
	BytesRead    int64              `json:"bytesRead"`
	BytesTotal   *int64             `json:"bytesTotal,omitempty"`
	Report       *Report            `json:"report,omitempty"`
	Error        string             `json:"error,omitempty"`
	ErrorCode    string             `json:"errorCode,omitempty"`
	Version      *int               `json:"version,omitempty"`
}

// NewRun is what creating a run takes.
type NewRun struct {
	CatalogID    int64
	CatalogClave string
	Trigger      Trigger
	DryRun       bool
	Source       string // a description without secrets
	ActorID      *int64
	ActorLogin   string
}

// ErrRunNotFound is returned for a run id that does not exist.
var ErrRunNotFound = errors.New("la carga no existe")

const runColumns = `id, catalog_id, catalog_clave, trigger, state, stage, dry_run, source, actor_login,
	created_at, started_at, finished_at, heartbeat_at, timings, rows_read, rows_valid, rows_rejected,
	rows_added, rows_changed, rows_removed, bytes_read, bytes_total, report, error, error_code, version`

func scanRun(row pgx.Row) (*Run, error) {
	var r Run
	var timings, report []byte
	if err := row.Scan(&r.ID, &r.CatalogID, &r.CatalogClave, &r.Trigger, &r.State, &r.Stage, &r.DryRun, &r.Source,
		&r.ActorLogin, &r.CreatedAt, &r.StartedAt, &r.FinishedAt, &r.HeartbeatAt, &timings, &r.RowsRead,
		&r.RowsValid, &r.RowsRejected, &r.RowsAdded, &r.RowsChanged, &r.RowsRemoved, &r.BytesRead,
		&r.BytesTotal, &report, &r.Error, &r.ErrorCode, &r.Version); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(timings, &r.Timings); err != nil {
		return nil, fmt.Errorf("run %d: timings: %w", r.ID, err)
	}
	if report != nil {
		r.Report = &Report{}
		if err := json.Unmarshal(report, r.Report); err != nil {
			return nil, fmt.Errorf("run %d: report: %w", r.ID, err)
		}
	}
	return &r, nil
}

// CreateRun records a queued run.
func CreateRun(ctx context.Context, db pgdb.DBTX, n NewRun) (*Run, error) {
	if n.Trigger == "" {
		n.Trigger = Manual
	}
	if n.ActorLogin == "" {
		n.ActorLogin = "sistema"
	}
	r, err := scanRun(db.QueryRow(ctx, `
		INSERT INTO meta.load_run (catalog_id, catalog_clave, trigger, dry_run, source, actor_id, actor_login)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+runColumns,
		n.CatalogID, n.CatalogClave, n.Trigger, n.DryRun, n.Source, n.ActorID, n.ActorLogin))
	if err != nil {
		return nil, fmt.Errorf("pipeline: create run for %s: %w", n.CatalogClave, err)
	}
	return r, nil
}

// GetRun reads one run.
func GetRun(ctx context.Context, db pgdb.DBTX, id int64) (*Run, error) {
	r, err := scanRun(db.QueryRow(ctx, `SELECT `+runColumns+` FROM meta.load_run WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrRunNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("pipeline: run %d: %w", id, err)
	}
	return r, nil
}

// ListRuns returns a catalog's runs, newest first; before (a run id, 0 for
// none) pages backwards.
func ListRuns(ctx context.Context, db pgdb.DBTX, catalogID int64, before int64, limit int) ([]Run, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	rows, err := db.Query(ctx, `SELECT `+runColumns+` FROM meta.load_run
		WHERE catalog_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, catalogID, before, limit)
	if err != nil {
		return nil, fmt.Errorf("pipeline: list runs: %w", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// progress is what a running load writes while it goes.
type progress struct {
	stage                 string
	read, valid, rejected int64
	bytesRead             int64
	bytesTotal            *int64
	timings               map[string]float64
}

func (p progress) timingsJSON() []byte {
	b, _ := json.Marshal(p.timings)
	return b
}

func startRun(ctx context.Context, db pgdb.DBTX, id int64) error {
	tag, err := db.Exec(ctx, `UPDATE meta.load_run SET state = 'running', started_at = now(), heartbeat_at = now(), stage = $2
		WHERE id = $1 AND state = 'queued'`, id, StageOpen)
	if err != nil {
		return fmt.Errorf("pipeline: start run %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("pipeline: start run %d: la carga ya no está en cola", id)
	}
	return nil
}

func updateProgress(ctx context.Context, db pgdb.DBTX, id int64, p progress) error {
	_, err := db.Exec(ctx, `UPDATE meta.load_run SET stage = $2, rows_read = $3, rows_valid = $4, rows_rejected = $5,
		bytes_read = $6, bytes_total = $7, timings = $8, heartbeat_at = now() WHERE id = $1 AND state = 'running'`,
		id, p.stage, p.read, p.valid, p.rejected, p.bytesRead, p.bytesTotal, p.timingsJSON())
	if err != nil {
		return fmt.Errorf("pipeline: progress of run %d: %w", id, err)
	}
	return nil
}

// outcome is how a run ends.
type outcome struct {
	state    State
	progress progress
	report   *Report
	err      string
	code     string
	version  *int
	added    int64
	changed  int64
	removed  int64
}

func finishRun(ctx context.Context, db pgdb.DBTX, id int64, o outcome) error {
	var report []byte
	if o.report != nil {
		b, err := json.Marshal(o.report)
		if err != nil {
			return fmt.Errorf("pipeline: report of run %d: %w", id, err)
		}
		report = b
	}
	p := o.progress
	_, err := db.Exec(ctx, `UPDATE meta.load_run SET state = $2, stage = $3, rows_read = $4, rows_valid = $5,
		rows_rejected = $6, bytes_read = $7, bytes_total = $8, timings = $9, report = $10, error = $11,
		error_code = $12, version = $13, rows_added = $14, rows_changed = $15, rows_removed = $16,
		finished_at = now(), heartbeat_at = now()
		WHERE id = $1 AND state IN ('queued', 'running')`,
		id, o.state, p.stage, p.read, p.valid, p.rejected, p.bytesRead, p.bytesTotal, p.timingsJSON(), report,
		o.err, o.code, o.version, o.added, o.changed, o.removed)
	if err != nil {
		return fmt.Errorf("pipeline: finish run %d: %w", id, err)
	}
	return nil
}

// lockKey is the first half of the advisory lock a run holds on its catalog
// ("gobd" + "load"); the catalog id is the second.
const lockKey int32 = 0x676f6264

// lockCatalog takes the catalog's load lock on a connection of its own, held
// for the whole run, so that runs of one catalog never overlap, and a crash
// (which ends the session) releases it. When another run holds it, lockCatalog
// waits for it up to wait, then answers ok = false.
func lockCatalog(ctx context.Context, pool *pgxpool.Pool, catalogID int64, wait time.Duration) (unlock func(), ok bool, err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("pipeline: lock catalog %d: %w", catalogID, err)
	}
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", lockKey, int32(catalogID)).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("pipeline: lock catalog %d: %w", catalogID, err)
	}
	if !ok && wait > 0 {
		ok, err = waitLock(ctx, conn, catalogID, wait)
		if err != nil {
			conn.Release()
			return nil, false, err
		}
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", lockKey, int32(catalogID)); err != nil {
			// The session may hold the lock still: close it rather than
			// return it to the pool.
			_ = conn.Conn().Close(ctx)
		}
		conn.Release()
	}, true, nil
}

// RecoverRuns marks failed the runs that a crash or a restart left queued or
// running, and drops their staging tables. A run is only orphaned when no
// session holds its catalog's lock, so RecoverRuns is safe while other
// instances are loading. It returns how many runs it marked.
func RecoverRuns(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	// A queued run waits in the memory of the process that accepted it and
	// holds no lock yet: it is orphaned once its heartbeat is old.
	rows, err := pool.Query(ctx, `SELECT id, catalog_id, state FROM meta.load_run
		WHERE state = 'running' OR (state = 'queued' AND heartbeat_at < now() - interval '10 minutes') ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("pipeline: recover runs: %w", err)
	}
	type orphan struct {
		id, catalog int64
		state       State
	}
	var open []orphan
	for rows.Next() {
		var o orphan
		if err := rows.Scan(&o.id, &o.catalog, &o.state); err != nil {
			rows.Close()
			return 0, err
		}
		open = append(open, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("pipeline: recover runs: %w", err)
	}
	n := 0
	for _, o := range open {
		unlock, ok, err := lockCatalog(ctx, pool, o.catalog, 0)
		if err != nil {
			return n, err
		}
		if !ok {
			continue // a live run of another instance holds it
		}
		msg := "la carga se interrumpió (el proceso terminó o se reinició) antes de concluir; el catálogo publicado no cambió"
		tag, err := pool.Exec(ctx, `UPDATE meta.load_run SET state = 'failed', error = $2, error_code = 'interrupted',
			finished_at = now() WHERE id = $1 AND state IN ('queued', 'running')`, o.id, msg)
		if err == nil {
			_, err = pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgdb.QuoteQualified(StagingSchema, stagingName(o.id)))
		}
		unlock()
		if err != nil {
			return n, fmt.Errorf("pipeline: recover run %d: %w", o.id, err)
		}
		n += int(tag.RowsAffected())
	}
	return n, nil
}

// waitLock waits up to wait for the catalog's load lock on conn. A run reads
// as finished from its publication's commit on, a moment before its lock is
// released: a caller that starts the next load as soon as it sees the last
// one finished must find the catalog free, not busy.
func waitLock(ctx context.Context, conn *pgxpool.Conn, catalogID int64, wait time.Duration) (bool, error) {
	timeout := strconv.FormatInt(max(wait.Milliseconds(), 1), 10)
	if _, err := conn.Exec(ctx, "SELECT set_config('lock_timeout', $1, false)", timeout); err != nil {
		return false, fmt.Errorf("pipeline: lock catalog %d: %w", catalogID, err)
	}
	_, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1, $2)", lockKey, int32(catalogID))
	var pgErr *pgconn.PgError
	locked := err == nil
	if errors.As(err, &pgErr) && pgErr.Code == "55P03" { // lock_not_available
		err = nil
	}
	if _, resetErr := conn.Exec(ctx, "RESET lock_timeout"); resetErr != nil && err == nil {
		err = resetErr
	}
	if err != nil {
		if locked {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1, $2)", lockKey, int32(catalogID))
		}
		return false, fmt.Errorf("pipeline: lock catalog %d: %w", catalogID, err)
	}
	return locked, nil
}
