package catalog

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Versions lists a catalog's versions, newest first.
func (s *Store) Versions(ctx context.Context, catalogID int64) ([]Version, error) {
	rows, err := s.db.Query(ctx, `
		SELECT number, row_count, added, changed, removed, checksum, actor_login, at, run_id
		FROM meta.catalog_version WHERE catalog_id = $1 ORDER BY number DESC`, catalogID)
	if err != nil {
		return nil, fmt.Errorf("catalog: versions: %w", err)
	}
	defer rows.Close()
	var out []Version
	for rows.Next() {
		var v Version
		if err := rows.Scan(&v.Number, &v.Rows, &v.Added, &v.Changed, &v.Removed, &v.Checksum, &v.By, &v.At, &v.RunID); err != nil {
			return nil, fmt.Errorf("catalog: versions: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: versions: %w", err)
	}
	return out, nil
}

// snapshot runs fn in a read-only repeatable-read transaction, so that the
// live table and the history are read as of one instant, and passes it the
// catalog's current version as of that instant.
func (s *Store) snapshot(ctx context.Context, c *Catalog, fn func(tx pgx.Tx, current int) error) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("catalog: %s: begin: %w", c.Clave, err)
	}
	defer pgdb.Rollback(ctx, tx)
	var cur int
	if err := tx.QueryRow(ctx, `SELECT current_version FROM meta.catalog WHERE id = $1`, c.ID).Scan(&cur); err != nil {
		if err == pgx.ErrNoRows {
			return notFound(c.Clave)
		}
		return fmt.Errorf("catalog: %s: %w", c.Clave, err)
	}
	if err := fn(tx, cur); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// versionSQL selects the rows of version $1 (restricted to the keys in
// table keys when keys is not empty).
func (sh *shape) versionSQL(param, keys string) string {
	keyJoinH, keyJoinL := "", ""
	if keys != "" {
		keyJoinH = " JOIN " + keys + " k ON " + sh.join("k", "h")
		keyJoinL = " JOIN " + keys + " k ON " + sh.join("k", "l")
	}
	return `
		SELECT ` + list("l", sh.cols) + `
		FROM ` + sh.live + ` l` + keyJoinL + `
		LEFT JOIN (SELECT ` + list("", sh.keys) + `, max(` + colHasta + `) AS m FROM ` + sh.hist + ` GROUP BY ` + list("", sh.keys) + `) hm ON ` + sh.join("hm", "l") + `
		WHERE l.activo AND coalesce(hm.m, 1) <= ` + param + `
		UNION ALL
		SELECT ` + list("h", sh.cols) + `
		FROM ` + sh.hist + ` h` + keyJoinH + `
		WHERE NOT h.` + colAusente + ` AND h.` + colDesde + ` <= ` + param + ` AND ` + param + ` < h.` + colHasta
}

// ScanVersion streams the rows of version n of c, ordered by key; each row
// holds the definition's columns (no control columns) in order.
func (s *Store) ScanVersion(ctx context.Context, c *Catalog, n int, fn func(row []any) error) error {
	sh, err := shapeOf(c)
	if err != nil {
		return err
	}
	return s.snapshot(ctx, c, func(tx pgx.Tx, cur int) error {
		if n < 1 || n > cur {
			return versionNotFound(c, n, cur)
		}
		sql := `SELECT ` + list("", sh.cols) + ` FROM ` + sh.live + ` WHERE activo ORDER BY ` + list("", sh.keys)
		var args []any
		if n < cur {
			sql = `SELECT * FROM (` + sh.versionSQL("$1", "") + `) v ORDER BY ` + list("v", sh.keys)
			args = append(args, n)
		}
		rows, err := tx.Query(ctx, sql, args...)
		if err != nil {
			return fmt.Errorf("catalog: %s version %d: %w", c.Clave, n, err)
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return fmt.Errorf("catalog: %s version %d: %w", c.Clave, n, err)
			}
			if err := fn(vals); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("catalog: %s version %d: %w", c.Clave, n, err)
		}
		return nil
	})
}

func versionNotFound(c *Catalog, n, cur int) *Error {
	if cur == 0 {
		return errorf(KindNotFound, "el catálogo «%s» no tiene versiones publicadas", c.Clave)
	}
	return errorf(KindNotFound, "el catálogo «%s» no tiene la versión %d (versiones 1 a %d)", c.Clave, n, cur)
}

// Diff streams the rows that differ between versions from and to of c
// (from < to; from 0 means "nothing": every row of to is added), by key.
func (s *Store) Diff(ctx context.Context, c *Catalog, from, to int, fn func(DiffRow) error) error {
	sh, err := shapeOf(c)
	if err != nil {
		return err
	}
	keyIdx := make([]int, len(sh.keys))
	for i, k := range sh.keys {
		keyIdx[i] = slices.Index(sh.cols, k)
	}
	pick := func(row []any) []any {
		out := make([]any, len(keyIdx))
		for i, j := range keyIdx {
			out[i] = row[j]
		}
		return out
	}
	if from == 0 {
		return s.ScanVersion(ctx, c, to, func(row []any) error {
			return fn(DiffRow{Kind: Added, Key: pick(row), New: row})
		})
	}
	return s.snapshot(ctx, c, func(tx pgx.Tx, cur int) error {
		if from < 0 || from >= to {
			return errorf(KindInvalid, "para comparar versiones la primera debe ser menor que la segunda (%d, %d)", from, to)
		}
		if to > cur {
			return versionNotFound(c, to, cur)
		}
		k0 := pgdb.QuoteIdent(sh.keys[0])
		order := make([]string, len(sh.keys))
		for i, k := range sh.keys {
			q := pgdb.QuoteIdent(k)
			order[i] = "coalesce(a." + q + ", b." + q + ")"
		}
		sql := `
			WITH k AS (SELECT DISTINCT ` + list("", sh.keys) + ` FROM ` + sh.hist + ` WHERE ` + colHasta + ` > $1 AND ` + colHasta + ` <= $2),
			va AS (` + sh.versionSQL("$1", "k") + `),
			vb AS (` + sh.versionSQL("$2", "k") + `)
			SELECT a.` + k0 + ` IS NOT NULL, b.` + k0 + ` IS NOT NULL, ` + list("a", sh.cols) + `, ` + list("b", sh.cols) + `
			FROM va a FULL JOIN vb b ON ` + sh.join("a", "b") + `
			WHERE a.` + k0 + ` IS NULL OR b.` + k0 + ` IS NULL OR ROW(` + list("a", sh.cols) + `) IS DISTINCT FROM ROW(` + list("b", sh.cols) + `)
			ORDER BY ` + joinComma(order)
		rows, err := tx.Query(ctx, sql, from, to)
		if err != nil {
			return fmt.Errorf("catalog: %s diff %d..%d: %w", c.Clave, from, to, err)
		}
		defer rows.Close()
		n := len(sh.cols)
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return fmt.Errorf("catalog: %s diff: %w", c.Clave, err)
			}
			inA, inB := vals[0].(bool), vals[1].(bool)
			d := DiffRow{}
			switch {
			case inA && inB:
				d.Kind, d.Old, d.New = Changed, vals[2:2+n], vals[2+n:]
			case inB:
				d.Kind, d.New = Added, vals[2+n:]
			default:
				d.Kind, d.Old = Removed, vals[2:2+n]
			}
			if d.New != nil {
				d.Key = pick(d.New)
			} else {
				d.Key = pick(d.Old)
			}
			if err := fn(d); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("catalog: %s diff: %w", c.Clave, err)
		}
		return nil
	})
}

func joinComma(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
