package keyring

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Column names a table whose rows hold a sealed value beside the id of the
// key that sealed it: columns id, key_id and Sealed.
type Column struct {
	Schema, Table, Sealed string
	// What names one row in errors ("connector", "entity access").
	What string
}

// ResealColumn re-encrypts, in tx, every value of col sealed under a key other
// than the current one (after GOBDATOS_SECRET_KEY changed), locking the rows
// it reads. It returns how many rows changed.
func (k *Keyring) ResealColumn(ctx context.Context, tx pgx.Tx, col Column, purpose string) (int, error) {
	table, sealedCol := pgdb.QuoteQualified(col.Schema, col.Table), pgdb.QuoteIdent(col.Sealed)
	rows, err := tx.Query(ctx, `SELECT id, key_id, `+sealedCol+` FROM `+table+` WHERE key_id <> $1 FOR UPDATE`, k.CurrentID())
	if err != nil {
		return 0, err
	}
	type row struct {
		id     int64
		keyID  string
		sealed []byte
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.keyID, &x.sealed)
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range all {
		id, sealed, changed, err := k.Reseal(x.keyID, x.sealed, purpose)
		if err != nil {
			return n, fmt.Errorf("%s %d: %w", col.What, x.id, err)
		}
		if !changed {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE `+table+` SET key_id = $2, `+sealedCol+` = $3 WHERE id = $1`, x.id, id, sealed); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
