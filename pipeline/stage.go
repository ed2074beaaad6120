package pipeline

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// cleanupTimeout bounds the clean-up that runs after a load's context is
// gone (dropping its staging table).
const cleanupTimeout = 10 * time.Second

// StagingSchema holds the unlogged tables loads are staged in.
const StagingSchema = "staging"

// rowColumn is the staging table's extra column: the row number of the
// source, so that checks over all rows can say where a problem is.
const rowColumn = "_row"

// staging is the unlogged table of one run.
type staging struct {
	name string // unqualified, in StagingSchema
	cols []*column
}

func stagingName(runID int64) string { return fmt.Sprintf("run_%d", runID) }

// qualified is the quoted, schema-qualified name to put in SQL.
func (s *staging) qualified() string { return pgdb.QuoteQualified(StagingSchema, s.name) }

// create makes the table: one typed column per field (no constraints, so
// COPY does not stop at the first duplicate) and the row number.
func (s *staging) create(ctx context.Context, db pgdb.DBTX) error {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE UNLOGGED TABLE %s (", s.qualified())
	for _, c := range s.cols {
		fmt.Fprintf(&b, "%s %s, ", pgdb.QuoteIdent(c.name), c.sql)
	}
	fmt.Fprintf(&b, "%s bigint NOT NULL)", pgdb.QuoteIdent(rowColumn))
	if _, err := db.Exec(ctx, b.String()); err != nil {
		return fmt.Errorf("create staging table %s: %w", s.name, err)
	}
	return nil
}

// drop removes the table, also when ctx is already cancelled.
func (s *staging) drop(ctx context.Context, db pgdb.DBTX) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	_, err := db.Exec(ctx, "DROP TABLE IF EXISTS "+s.qualified())
	return err
}

// dropRowColumn leaves the table with exactly the definition's columns, as
// publication expects. Dropping a column only marks it dropped: it is free.
func (s *staging) dropRowColumn(ctx context.Context, db pgdb.DBTX) error {
	_, err := db.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", s.qualified(), pgdb.QuoteIdent(rowColumn)))
	return err
}

func (s *staging) columnNames(withRow bool) []string {
	names := make([]string, 0, len(s.cols)+1)
	for _, c := range s.cols {
		names = append(names, c.name)
	}
	if withRow {
		names = append(names, rowColumn)
	}
	return names
}

// copyFrom copies the rows src reads, in COPY text format with the row
// number last, into the table.
func (s *staging) copyFrom(ctx context.Context, db pgdb.DBTX, src io.Reader) (int64, error) {
	n, err := copyText(ctx, db, pgx.Identifier{StagingSchema, s.name}, s.columnNames(true), src)
	if err != nil {
		return n, fmt.Errorf("copy into staging: %w", err)
	}
	return n, nil
}

// keySet is a primary key or a unique field: columns whose values must not
// repeat across all rows.
type keySet struct {
	typ  string // ErrPrimaryKey or ErrUnique
	cols []string
}

func keySets(res *tableschema.Resource) []keySet {
	var out []keySet
	if len(res.Schema.PrimaryKey) > 0 {
		out = append(out, keySet{ErrPrimaryKey, res.Schema.PrimaryKey})
	}
	for _, f := range res.Schema.Fields {
		if f.Constraints.Unique && !(len(res.Schema.PrimaryKey) == 1 && res.Schema.PrimaryKey[0] == f.Name) {
			out = append(out, keySet{ErrUnique, []string{f.Name}})
		}
	}
	return out
}

// checkKeys finds values of a key that repeat across all staged rows. It is
// PostgreSQL that decides, over the staged table, so memory stays flat
// whatever the number of rows: a cheap GROUP BY first, and only when it finds
// repeats the query that says where. Every repeat after the first occurrence
// is an error and leaves the staging table. It returns how many rows left.
func (s *staging) checkKeys(ctx context.Context, db pgdb.DBTX, k keySet, errs *collector, sample int) (int64, error) {
	q := make([]string, len(k.cols))
	notNull := make([]string, len(k.cols))
	for i, c := range k.cols {
		q[i] = pgdb.QuoteIdent(c)
		notNull[i] = q[i] + " IS NOT NULL"
	}
	keys, where := strings.Join(q, ", "), strings.Join(notNull, " AND ")
	var dup bool
	if err := db.QueryRow(ctx, fmt.Sprintf(
		"SELECT EXISTS (SELECT 1 FROM %s WHERE %s GROUP BY %s HAVING count(*) > 1)",
		s.qualified(), where, keys)).Scan(&dup); err != nil {
		return 0, fmt.Errorf("check %s: %w", k.typ, err)
	}
	if !dup {
		return 0, nil
	}
	texts := make([]string, len(k.cols))
	for i := range q {
		texts[i] = q[i] + "::text"
	}
	repeats := fmt.Sprintf(`SELECT %[1]s, first_row, %[2]s FROM (
		SELECT %[1]s, %[3]s, row_number() OVER w AS rn, min(%[1]s) OVER w AS first_row
		FROM %[4]s WHERE %[5]s WINDOW w AS (PARTITION BY %[3]s ORDER BY %[1]s)) d WHERE rn > 1`,
		pgdb.QuoteIdent(rowColumn), strings.Join(texts, ", "), keys, s.qualified(), where)
	rows, err := db.Query(ctx, repeats+" ORDER BY 1 LIMIT $1", sample)
	if err != nil {
		return 0, fmt.Errorf("find repeated %s: %w", k.typ, err)
	}
	var found []ReportError
	for rows.Next() {
		var row, first int64
		vals := make([]string, len(k.cols))
		dst := []any{&row, &first}
		for i := range vals {
			dst = append(dst, &vals[i])
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return 0, err
		}
		found = append(found, repeatError(k, row, first, strings.Join(vals, ", ")))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find repeated %s: %w", k.typ, err)
	}
	tag, err := db.Exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE %s IN (SELECT %s FROM (%s) r)",
		s.qualified(), pgdb.QuoteIdent(rowColumn), pgdb.QuoteIdent(rowColumn), repeats))
	if err != nil {
		return 0, fmt.Errorf("remove repeated %s: %w", k.typ, err)
	}
	errs.addCounted(k.typ, tag.RowsAffected(), found)
	return tag.RowsAffected(), nil
}

// repeatError is the error of a row whose key k (cell, its values joined by
// ", ") already appears in row first.
func repeatError(k keySet, row, first int64, cell string) ReportError {
	label := "la clave primaria"
	if k.typ == ErrUnique {
		label = "el valor único"
	}
	return ReportError{Type: k.typ, RowNumber: row, FieldName: strings.Join(k.cols, ", "), Cell: cell,
		Message: fmt.Sprintf("fila %d, columna «%s», valor «%s»: %s se repite; ya aparece en la fila %d",
			row, strings.Join(k.cols, ", "), clip(cell), label, first)}
}

// checkForeignKey finds staged rows whose reference is not among the
// published rows of the referenced catalog (or, for a reference to the same
// table, among the staged rows), records them and removes them.
func (s *staging) checkForeignKey(ctx context.Context, db pgdb.DBTX, fk tableschema.ForeignKey, errs *collector, sample int) (int64, error) {
	if len(fk.Fields) == 0 || len(fk.Fields) != len(fk.Reference.Fields) {
		return 0, &keyError{fmt.Sprintf("la llave foránea (%s) no tiene los mismos campos que su referencia (%s)",
			strings.Join(fk.Fields, ", "), strings.Join(fk.Reference.Fields, ", "))}
	}
	ref := s.qualified()
	refName := "este mismo catálogo"
	if r := strings.TrimPrefix(fk.Reference.Resource, "cat."); r != "" {
		var exists bool
		if err := db.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", pgdb.QuoteQualified("cat", r)).Scan(&exists); err != nil {
			return 0, fmt.Errorf("foreign key to %s: %w", r, err)
		}
		if !exists {
			return 0, &keyError{fmt.Sprintf("la llave foránea (%s) apunta al catálogo «%s», que no existe", strings.Join(fk.Fields, ", "), r)}
		}
		ref, refName = pgdb.QuoteQualified("cat", r), "«"+r+"»"
	}
	var cond, match, texts []string
	for i, f := range fk.Fields {
		cond = append(cond, "s."+pgdb.QuoteIdent(f)+" IS NOT NULL")
		match = append(match, "r."+pgdb.QuoteIdent(fk.Reference.Fields[i])+" = s."+pgdb.QuoteIdent(f))
		texts = append(texts, "s."+pgdb.QuoteIdent(f)+"::text")
	}
	where := fmt.Sprintf("%s AND NOT EXISTS (SELECT 1 FROM %s r WHERE %s)",
		strings.Join(cond, " AND "), ref, strings.Join(match, " AND "))
	rows, err := db.Query(ctx, fmt.Sprintf("SELECT s.%s, %s FROM %s s WHERE %s ORDER BY 1 LIMIT $1",
		pgdb.QuoteIdent(rowColumn), strings.Join(texts, ", "), s.qualified(), where), sample)
	if err != nil {
		return 0, fmt.Errorf("check foreign key to %s: %w", refName, err)
	}
	var found []ReportError
	for rows.Next() {
		var row int64
		vals := make([]string, len(fk.Fields))
		dst := []any{&row}
		for i := range vals {
			dst = append(dst, &vals[i])
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return 0, err
		}
		cell := strings.Join(vals, ", ")
		found = append(found, ReportError{Type: ErrForeignKey, RowNumber: row, FieldName: strings.Join(fk.Fields, ", "), Cell: cell,
			Message: fmt.Sprintf("fila %d, columna «%s», valor «%s»: no existe en %s (%s)",
				row, strings.Join(fk.Fields, ", "), clip(cell), refName, strings.Join(fk.Reference.Fields, ", "))})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("check foreign key to %s: %w", refName, err)
	}
	if len(found) == 0 {
		return 0, nil
	}
	tag, err := db.Exec(ctx, fmt.Sprintf("DELETE FROM %s s WHERE %s", s.qualified(), where))
	if err != nil {
		return 0, fmt.Errorf("remove rows without reference: %w", err)
	}
	errs.addCounted(ErrForeignKey, tag.RowsAffected(), found)
	return tag.RowsAffected(), nil
}

// keyError is a definition whose keys the load cannot check.
type keyError struct{ msg string }

func (e *keyError) Error() string { return e.msg }
