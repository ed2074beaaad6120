package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Delivery is one queued message as a Sender sees it.
type Delivery struct {
	ID        int64
	Kind      Kind
	Recipient string
	Subject   string
	Body      string
	Payload   []byte // JSON
	Attempts  int    // before this one
	CreatedAt time.Time
}

// Sender delivers messages of one kind.
type Sender interface {
	Send(ctx context.Context, d Delivery) error
}

// ErrPermanent marks a failure that retrying cannot fix (a malformed address,
// a 4xx answer): the message is abandoned at once.
var ErrPermanent = errors.New("outbox: permanent failure")

// Deliverer sends due messages, one transaction per message: the row stays
// locked (FOR UPDATE SKIP LOCKED) while it is sent and is marked delivered in
// the same transaction, so several deliverers never send the same message,
// and a crash mid-send leaves it pending. Delivery is therefore at least
// once; receivers can drop repeats by the stable message id (Message-ID for
// mail, X-Gobdatos-Delivery for webhooks).
type Deliverer struct {
	DB      *pgxpool.Pool
	Senders map[Kind]Sender
	Logger  *slog.Logger
	// Batch caps messages per DeliverDue call (default 100).
	Batch int
	// MaxAttempts before a message is abandoned (default 12: about a day
	// with the default backoff).
	MaxAttempts int
	// SendTimeout bounds one send (default 30s).
	SendTimeout time.Duration
	// Backoff is the wait before attempt n+1 (default: 30s·2ⁿ, at most 2h,
	// with ±20% jitter).
	Backoff func(attempt int) time.Duration
}

// Result counts what one DeliverDue did.
type Result struct {
	Sent, Retried, Abandoned int
}

// DefaultBackoff waits 30s·2ⁿ, at most 2 hours, with ±20% jitter.
func DefaultBackoff(attempt int) time.Duration {
	d := 30 * time.Second << min(attempt, 10)
	if d > 2*time.Hour {
		d = 2 * time.Hour
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// DeliverDue sends every message whose time has come, up to Batch.
func (d *Deliverer) DeliverDue(ctx context.Context) (Result, error) {
	batch := d.Batch
	if batch == 0 {
		batch = 100
	}
	var res Result
	for range batch {
		done, err := d.deliverOne(ctx, &res)
		if err != nil || done {
			return res, err
		}
	}
	return res, nil
}

// deliverOne sends the oldest due message; done reports that none was due.
func (d *Deliverer) deliverOne(ctx context.Context, res *Result) (done bool, err error) {
	err = pgdb.WithTx(ctx, d.DB, func(tx pgx.Tx) error {
		var m Delivery
		err := tx.QueryRow(ctx, `
			SELECT id, kind, recipient, subject, body, payload, attempts, created_at
			FROM meta.outbox
			WHERE delivered_at IS NULL AND abandoned_at IS NULL AND available_at <= now()
			ORDER BY available_at, id
			LIMIT 1
			FOR UPDATE SKIP LOCKED`).
			Scan(&m.ID, &m.Kind, &m.Recipient, &m.Subject, &m.Body, &m.Payload, &m.Attempts, &m.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			done = true
			return nil
		}
		if err != nil {
			return fmt.Errorf("outbox: claim: %w", err)
		}
		sendErr := d.send(ctx, m)
		switch {
		case sendErr == nil:
			res.Sent++
			_, err = tx.Exec(ctx, `UPDATE meta.outbox SET delivered_at = now(), attempts = attempts + 1, last_error = '' WHERE id = $1`, m.ID)
		case errors.Is(sendErr, ErrPermanent) || m.Attempts+1 >= d.maxAttempts():
			res.Abandoned++
			d.logger().Warn("outbox message abandoned", "id", m.ID, "kind", m.Kind, "attempts", m.Attempts+1, "err", sendErr)
			_, err = tx.Exec(ctx, `UPDATE meta.outbox SET abandoned_at = now(), attempts = attempts + 1, last_error = $2 WHERE id = $1`,
				m.ID, truncate(sendErr.Error(), 2000))
		default:
			res.Retried++
			wait := d.backoff(m.Attempts)
			d.logger().Info("outbox message will be retried", "id", m.ID, "kind", m.Kind, "attempts", m.Attempts+1, "in", wait, "err", sendErr)
			_, err = tx.Exec(ctx, `
				UPDATE meta.outbox SET attempts = attempts + 1, last_error = $2, available_at = now() + $3::interval
				WHERE id = $1`, m.ID, truncate(sendErr.Error(), 2000), wait.String())
		}
		if err != nil {
			return fmt.Errorf("outbox: record delivery of %d: %w", m.ID, err)
		}
		return nil
	})
	return done, err
}

func (d *Deliverer) send(ctx context.Context, m Delivery) error {
	s, ok := d.Senders[m.Kind]
	if !ok {
		return fmt.Errorf("%w: no sender for %s", ErrPermanent, m.Kind)
	}
	timeout := d.SendTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.Send(ctx, m)
}

func (d *Deliverer) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return 12
}

func (d *Deliverer) backoff(attempt int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}

func (d *Deliverer) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
