package procedure

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// CaseClocks returns the clocks of c at now.
func (e *Engine) CaseClocks(ctx context.Context, c *Case, now time.Time) ([]ClockStatus, error) {
	d, err := e.Definition(ctx, c.Short, c.Version)
	if err != nil {
		return nil, err
	}
	hist, err := history(ctx, e.db, c.ID)
	if err != nil {
		return nil, err
	}
	return e.calendar.Clocks(d, hist, now), nil
}

// CheckClocks queues the 50 % and 100 % messages of every open case's
// clocks that reached them. It is idempotent (each message has a dedup key
// per case, clock and threshold), so it can run every few minutes; it
// returns how many messages it queued.
func (e *Engine) CheckClocks(ctx context.Context, now time.Time) (int, error) {
	var afterID int64
	queued := 0
	for {
		rows, err := e.db.Query(ctx, `SELECT folio, id FROM meta.procedure_case WHERE closed_at IS NULL AND id > $1 ORDER BY id LIMIT 200`, afterID)
		if err != nil {
			return queued, fmt.Errorf("procedure: check clocks: %w", err)
		}
		type ref struct {
			folio string
			id    int64
		}
		refs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ref, error) {
			var x ref
			return x, r.Scan(&x.folio, &x.id)
		})
		if err != nil {
			return queued, fmt.Errorf("procedure: check clocks: %w", err)
		}
		if len(refs) == 0 {
			return queued, nil
		}
		for _, r := range refs {
			n, err := e.checkCase(ctx, r.folio, now)
			if err != nil {
				return queued, err
			}
			queued += n
			afterID = r.id
		}
	}
}

func (e *Engine) checkCase(ctx context.Context, folio string, now time.Time) (int, error) {
	queued := 0
	err := pgdb.WithTx(ctx, e.db, func(tx pgx.Tx) error {
		c, err := getCase(ctx, tx, folio, false)
		if err != nil {
			return err
		}
		d, err := e.Definition(ctx, c.Short, c.Version)
		if err != nil {
			return err
		}
		hist, err := history(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		for i, st := range e.calendar.Clocks(d, hist, now) {
			ck := d.Clocks[i]
			for _, th := range []struct {
				pct  float64
				msgs []string
			}{{50, ck.At50}, {100, ck.At100}} {
				if st.Percent < th.pct {
					continue
				}
				for _, id := range th.msgs {
					m, _ := d.Message(id)
					md := MessageData{Clock: st.ElapsedText + " de " + st.TargetText}
					n, err := e.notify(ctx, tx, d, c, m, md, fmt.Sprintf("procedure:%s:clock:%s:%g:%s", c.Folio, ck.ID, th.pct, m.ID))
					if err != nil {
						return err
					}
					queued += n
				}
			}
		}
		return nil
	})
	return queued, err
}
