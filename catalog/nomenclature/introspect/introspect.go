// Package introspect reads a live table's description from PostgreSQL's
// catalogs (pg_class, pg_attribute, pg_constraint, pg_description) into a
// nomenclature.Table, so the nomenclature itself stays pure. Names reach
// the server only as parameters, never inside SQL text, so a hostile table
// name (quotes, semicolons, comments) cannot change a query.
package introspect

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// ErrNotFound is returned when the table does not exist.
var ErrNotFound = errors.New("introspect: table not found")

const tableSQL = `
SELECT c.oid, COALESCE(obj_description(c.oid, 'pg_class'), '')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`

const columnsSQL = `
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), COALESCE(col_description(a.attrelid, a.attnum), '')
FROM pg_attribute a
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

// constraintsSQL lists primary keys, uniques, foreign keys and checks with
// their columns in key order, and for foreign keys the referenced table,
// columns and column types.
const constraintsSQL = `
SELECT con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord)::text[],
       COALESCE(rn.nspname, ''), COALESCE(rc.relname, ''),
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)::text[],
       ARRAY(SELECT format_type(a.atttypid, a.atttypmod) FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)::text[],
       pg_get_constraintdef(con.oid)
FROM pg_constraint con
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE con.conrelid = $1 AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY con.contype, con.conname`

// Read describes schema.table.
func Read(ctx context.Context, db pgdb.DBTX, schema, table string) (nomenclature.Table, error) {
	t := nomenclature.Table{Schema: schema, Name: table, Columns: []nomenclature.Column{}}
	var oid uint32
	err := db.QueryRow(ctx, tableSQL, schema, table).Scan(&oid, &t.Comment)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, fmt.Errorf("%w: %s", ErrNotFound, pgdb.QuoteQualified(schema, table))
	}
	if err != nil {
		return t, fmt.Errorf("introspect: read %s: %w", pgdb.QuoteQualified(schema, table), err)
	}
	rows, err := db.Query(ctx, columnsSQL, oid)
	if err != nil {
		return t, fmt.Errorf("introspect: columns of %s: %w", pgdb.QuoteQualified(schema, table), err)
	}
	for rows.Next() {
		var c nomenclature.Column
		if err := rows.Scan(&c.Name, &c.Type, &c.NotNull, &c.Default, &c.Comment); err != nil {
			rows.Close()
			return t, fmt.Errorf("introspect: columns of %s: %w", pgdb.QuoteQualified(schema, table), err)
		}
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return t, fmt.Errorf("introspect: columns of %s: %w", pgdb.QuoteQualified(schema, table), err)
	}
	rows, err = db.Query(ctx, constraintsSQL, oid)
	if err != nil {
		return t, fmt.Errorf("introspect: constraints of %s: %w", pgdb.QuoteQualified(schema, table), err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			name, kind, refSchema, refTable, def string
			cols, refCols, refTypes              []string
		)
		if err := rows.Scan(&name, &kind, &cols, &refSchema, &refTable, &refCols, &refTypes, &def); err != nil {
			return t, fmt.Errorf("introspect: constraints of %s: %w", pgdb.QuoteQualified(schema, table), err)
		}
		switch kind {
		case "p":
			t.PrimaryKey = cols
		case "u":
			t.Unique = append(t.Unique, cols)
		case "f":
			t.ForeignKeys = append(t.ForeignKeys, nomenclature.ForeignKey{Name: name, Columns: cols,
				RefSchema: refSchema, RefTable: refTable, RefColumns: refCols, RefTypes: refTypes})
		case "c":
			t.Checks = append(t.Checks, nomenclature.Check{Name: name, Columns: cols, Expression: def})
		}
	}
	if err := rows.Err(); err != nil {
		return t, fmt.Errorf("introspect: constraints of %s: %w", pgdb.QuoteQualified(schema, table), err)
	}
	return t, nil
}

// Names lists the tables of schema (not partitions), ordered by name.
func Names(ctx context.Context, db pgdb.DBTX, schema string) ([]string, error) {
	rows, err := db.Query(ctx, `
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.relname COLLATE "C"`, schema)
	if err != nil {
		return nil, fmt.Errorf("introspect: list %s: %w", pgdb.QuoteIdent(schema), err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("introspect: list %s: %w", pgdb.QuoteIdent(schema), err)
	}
	return names, nil
}

// List describes every table of schema, ordered by name.
func List(ctx context.Context, db pgdb.DBTX, schema string) ([]nomenclature.Table, error) {
	names, err := Names(ctx, db, schema)
	if err != nil {
		return nil, err
	}
	out := make([]nomenclature.Table, 0, len(names))
	for _, n := range names {
		t, err := Read(ctx, db, schema, n)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
