// Package health runs the connectivity checks of connectors and of entity
// access roles, keeps their history (meta.connectivity_check), computes
// uptime from it, and alerts the owner and the stewards — once — after N
// consecutive failures, and again on recovery, through the outbox.
//
// A check first claims its target (last_check_at), so that two instances,
// or a new leader just after the old one died, never check the same target
// twice in one interval; the result, the target's state and any alert are
// then written in one transaction, so an alert is queued exactly once.
package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Statuses of a check: connectors.Status spelled as text.
const (
	StatusOK         = string(connectors.StatusOK)
	StatusDNS        = string(connectors.StatusDNS)
	StatusRefused    = string(connectors.StatusRefused)
	StatusTimeout    = string(connectors.StatusTimeout)
	StatusTLS        = string(connectors.StatusTLS)
	StatusAuth       = string(connectors.StatusAuth)
	StatusPermission = string(connectors.StatusPermission)
	StatusMissing    = string(connectors.StatusMissing)
	StatusDrift      = string(connectors.StatusDrift)
	StatusError      = string(connectors.StatusError)
)

// DefaultThreshold is how many consecutive failures raise an alert.
const DefaultThreshold = 3

// DefaultConcurrency bounds the checks running at once.
const DefaultConcurrency = 32

// claimFraction: a target checked less than this part of its interval ago
// is not checked again (timers of two instances never line up exactly).
const claimFraction = 0.8

// Result is the outcome of one check.
type Result struct {
	Status  string        `json:"status"`
	Latency time.Duration `json:"latency"`
	Message string        `json:"message"` // Spanish
}

// OK reports whether the target answered as expected.
func (r Result) OK() bool { return r.Status == StatusOK }

// ConnectorProbe checks one connector with its credentials; it must return
// within ctx's deadline.
type ConnectorProbe func(ctx context.Context, c registry.Connector, cred registry.Credentials) Result

// SourceProbe checks a connector through its connectors.Source: reach,
// authentication, the object, and its columns against expected_columns
// (drift).
func SourceProbe(ctx context.Context, c registry.Connector, cred registry.Credentials) Result {
	src, err := c.CheckSource(cred)
	if err != nil {
		return Result{Status: StatusError, Message: err.Error()}
	}
	res := src.Check(ctx, c.ExpectedColumns)
	return Result{Status: string(res.Status), Latency: res.Latency, Message: res.Message}
}

// TargetKind says what is checked.
type TargetKind string

// The kinds of target.
const (
	KindConnector TargetKind = "connector"
	KindAccess    TargetKind = "access"
)

// Checker runs checks and records them.
type Checker struct {
	DB         *pgxpool.Pool
	Connectors *registry.Store
	Access     *access.Store
	// Probe checks connectors (the connectors package's Source.Check).
	Probe ConnectorProbe
	// AccessTimeout bounds an entity access check (default 15 s).
	AccessTimeout time.Duration
	Alerts        Alerts
	Logger        *slog.Logger

	sem chan struct{}
}

// NewChecker returns a checker running at most concurrency checks at once.
func NewChecker(c Checker, concurrency int) *Checker {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.AccessTimeout == 0 {
		c.AccessTimeout = registry.DefaultCheckTimeout
	}
	if c.Alerts.Threshold == 0 {
		c.Alerts.Threshold = DefaultThreshold
	}
	c.sem = make(chan struct{}, concurrency)
	return &c
}

// ErrSkipped means the target was checked by someone else within its
// interval, is disabled, or no longer exists.
var ErrSkipped = errors.New("health: check skipped")

func (c *Checker) acquire(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Checker) release() { <-c.sem }

// Connector checks connector id. Unless force, it runs only when the
// connector is enabled and was not checked within its interval.
func (c *Checker) Connector(ctx context.Context, id int64, force bool) (Result, error) {
	var claimed bool
	err := c.DB.QueryRow(ctx, `
		UPDATE meta.connector SET last_check_at = now()
		WHERE id = $1 AND ($2 OR (enabled AND (last_check_at IS NULL
			OR last_check_at <= now() - check_interval * $3::float8)))
		RETURNING true`, id, force, claimFraction).Scan(&claimed)
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, ErrSkipped
	}
	if err != nil {
		return Result{}, fmt.Errorf("health: claim connector %d: %w", id, err)
	}
	if err := c.acquire(ctx); err != nil {
		return Result{}, err
	}
	defer c.release()
	start := time.Now()
	conn, err := c.Connectors.Get(ctx, id)
	if errors.Is(err, registry.ErrNotFound) {
		return Result{}, ErrSkipped
	}
	if err != nil {
		return Result{}, err
	}
	cred, err := c.Connectors.Secret(ctx, id)
	var res Result
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return Result{}, ErrSkipped
	case err != nil:
		// Credentials that do not open (the key changed) are the
		// platform's fault, recorded as an error of the check.
		c.Logger.Error("connector credentials do not open", "connector", id, "err", err)
		res = Result{Status: StatusError, Message: "no se pudieron descifrar las credenciales del conector (¿cambió GOBDATOS_SECRET_KEY sin GOBDATOS_SECRET_KEY_PREVIOUS?)"}
	default:
		pctx, cancel := context.WithTimeout(ctx, conn.CheckTimeout.Duration())
		res = c.Probe(pctx, conn, cred)
		cancel()
		if res.Latency == 0 {
			res.Latency = time.Since(start)
		}
	}
	if err := c.record(ctx, KindConnector, id, start, res); err != nil {
		return res, err
	}
	return res, nil
}

// EntityAccess checks the entity access grant id by logging in as its role.
func (c *Checker) EntityAccess(ctx context.Context, id int64, interval time.Duration, force bool) (Result, error) {
	var claimed bool
	err := c.DB.QueryRow(ctx, `
		UPDATE meta.entity_access SET last_check_at = now()
		WHERE id = $1 AND revoked_at IS NULL AND ($2 OR last_check_at IS NULL
			OR last_check_at <= now() - make_interval(secs => $3 * $4::float8))
		RETURNING true`, id, force, interval.Seconds(), claimFraction).Scan(&claimed)
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, ErrSkipped
	}
	if err != nil {
		return Result{}, fmt.Errorf("health: claim access %d: %w", id, err)
	}
	if err := c.acquire(ctx); err != nil {
		return Result{}, err
	}
	defer c.release()
	start := time.Now()
	cred, err := c.Access.Credentials(ctx, id)
	if errors.Is(err, access.ErrNotFound) {
		return Result{}, ErrSkipped
	}
	var res Result
	if err != nil {
		c.Logger.Error("entity access password does not open", "access", id, "err", err)
		res = Result{Status: StatusError, Message: "no se pudo descifrar la contraseña del acceso (¿cambió GOBDATOS_SECRET_KEY sin GOBDATOS_SECRET_KEY_PREVIOUS?)"}
	} else {
		pctx, cancel := context.WithTimeout(ctx, c.AccessTimeout)
		res = ProbeRole(pctx, c.DB.Config().ConnConfig, cred)
		cancel()
	}
	if err := c.record(ctx, KindAccess, id, start, res); err != nil {
		return res, err
	}
	return res, nil
}

// record stores the result, updates the target's state and queues the
// alert it causes, in one transaction. A target deleted meanwhile keeps no
// result.
func (c *Checker) record(ctx context.Context, kind TargetKind, id int64, at time.Time, res Result) error {
	// The check's own context may be nearly spent; the write gets its own.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	table, col := "meta.connector", "connector_id"
	if kind == KindAccess {
		table, col = "meta.entity_access", "access_id"
	}
	err := pgdb.WithTx(ctx, c.DB, func(tx pgx.Tx) error {
		var st state
		err := tx.QueryRow(ctx, `
			UPDATE `+table+` SET last_status = $2,
				failures = CASE WHEN $2 = 'ok' THEN 0 ELSE failures + 1 END
			WHERE id = $1
			RETURNING dependencia_id, failures, alerted`, id, res.Status).Scan(&st.dependenciaID, &st.failures, &st.alerted)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrSkipped // deleted while its check ran
		}
		if err != nil {
			return err
		}
		var checkID int64
		if err := tx.QueryRow(ctx, `
			INSERT INTO meta.connectivity_check (`+col+`, dependencia_id, checked_at, status, latency_ms, message)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			id, st.dependenciaID, at, res.Status, float64(res.Latency)/float64(time.Millisecond), res.Message).Scan(&checkID); err != nil {
			return err
		}
		return c.alert(ctx, tx, kind, id, checkID, st, res)
	})
	if errors.Is(err, ErrSkipped) {
		return err
	}
	if err != nil {
		return fmt.Errorf("health: record %s %d: %w", kind, id, err)
	}
	return nil
}

type state struct {
	dependenciaID int64
	failures      int
	alerted       bool
}
