package catalog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// RowFilter keeps the rows whose Field equals Value (read as the field's
// type).
type RowFilter struct {
	Field, Value string
}

// RowsQuery asks for a page of a catalog's rows.
type RowsQuery struct {
	// Version is the version to read; 0 reads the current one.
	Version int
	// Fields are the columns to return, in order; empty returns all.
	Fields  []string
	Filters []RowFilter
	// Text keeps rows whose text contains it, accent- and case-insensitive.
	Text string
	// Sort orders by one column (then by the key); empty orders by key.
	Sort string
	Desc bool
	// After is the Next of the previous page (keyset paging).
	After string
	// Offset skips rows (for clients that page by number, like CKAN's).
	Offset int
	Limit  int
	// RowID puts RowIDField first in every row: CKAN's "_id".
	RowID bool
}

// RowIDField is the member RowsQuery.RowID adds: a stable integer per row,
// the same in every version. It is the primary key when that is one
// integer column (RowIDKey), otherwise 52 bits of the MD5 of the key's
// text (below 2^53, exact in JavaScript; two keys of a million-row catalog
// share one with odds of about one in ten thousand).
const RowIDField = "_id"

// RowIDKey returns the column whose values are the row ids, when the
// primary key is one integer column; "" when the ids are hashes of the key.
func RowIDKey(c *Catalog) (string, error) {
	sh, err := shapeOf(c)
	if err != nil {
		return "", err
	}
	cols, err := dataColumns(c.Resource)
	if err != nil {
		return "", err
	}
	if len(sh.keys) == 1 {
		for _, col := range cols {
			if col.Field.Name == sh.keys[0] && col.Type.IsInteger() {
				return col.Field.Name, nil
			}
		}
	}
	return "", nil
}

// rowIDExpr is the SQL of a row's RowIDField over alias l.
func rowIDExpr(c *Catalog, sh *shape) (string, error) {
	key, err := RowIDKey(c)
	if err != nil {
		return "", err
	}
	if key != "" {
		return "l." + pgdb.QuoteIdent(key) + "::bigint", nil
	}
	return "('x' || left(md5(ROW(" + list("l", sh.keys) + ")::text), 13))::bit(52)::bigint", nil
}

// RowsPage is one page of rows, each a JSON object of the asked fields.
type RowsPage struct {
	Version int
	Fields  []tableschema.Field
	Rows    []json.RawMessage
	// Next is the After of the following page; empty on the last page.
	Next string
}

// MaxPageRows is the largest page Rows returns.
const MaxPageRows = 1000

// rowsPlan is the SQL of a rows query: the source, its conditions and args.
type rowsPlan struct {
	sh      *shape
	cols    []column
	fields  []column
	from    string // "cat"."t" l or (…) l
	where   []string
	args    []any
	version int
}

func (p *rowsPlan) arg(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

func (p *rowsPlan) column(name string) (column, bool) {
	i := slices.IndexFunc(p.cols, func(c column) bool { return c.Field.Name == name })
	if i < 0 {
		return column{}, false
	}
	return p.cols[i], true
}

// castType is the type a text parameter is cast to before it is compared to
// a column: the base type, so that a long text is not cut to varchar(n).
func castType(t tableschema.SQLType) string {
	switch t.Base {
	case "varchar", "char", "bpchar", "character varying", "character":
		return "text"
	}
	return t.Base
}

func (p *rowsPlan) unknownField(c *Catalog, name string) *Error {
	names := make([]string, len(p.cols))
	for i, col := range p.cols {
		names[i] = col.Field.Name
	}
	return errorf(KindInvalid, "el campo «%s» no existe en el catálogo «%s»; sus campos son: %s", name, c.Clave, strings.Join(names, ", "))
}

// plan checks q against c's definition and builds the source and filters.
func (s *Store) plan(ctx context.Context, db pgdb.DBTX, c *Catalog, q RowsQuery, current int) (*rowsPlan, error) {
	sh, err := shapeOf(c)
	if err != nil {
		return nil, err
	}
	cols, err := dataColumns(c.Resource)
	if err != nil {
		return nil, err
	}
	p := &rowsPlan{sh: sh, cols: cols, version: current}
	if len(q.Fields) == 0 {
		p.fields = cols
	}
	for _, f := range q.Fields {
		col, ok := p.column(f)
		if !ok {
			return nil, p.unknownField(c, f)
		}
		if !slices.ContainsFunc(p.fields, func(x column) bool { return x.Field.Name == f }) {
			p.fields = append(p.fields, col)
		}
	}
	switch {
	case q.Version == 0 || q.Version == current:
		p.from = sh.live + " l"
		p.where = append(p.where, "l.activo")
	case q.Version < 0 || q.Version > current:
		return nil, versionNotFound(c, q.Version, current)
	default:
		p.version = q.Version
		p.from = "(" + sh.versionSQL(p.arg(q.Version), "") + ") l"
	}
	// Filters on one field are alternatives (OR); filters on different
	// fields all apply (AND).
	var order []string
	byField := map[string][]string{}
	for _, f := range q.Filters {
		col, ok := p.column(f.Field)
		if !ok {
			return nil, p.unknownField(c, f.Field)
		}
		typ := castType(col.Type)
		var ignored string
		if err := db.QueryRow(ctx, "SELECT CAST($1 AS "+typ+")::text", f.Value).Scan(&ignored); err != nil {
			if strings.HasPrefix(pgCode(err), "22") {
				return nil, errorf(KindInvalid, "el valor «%s» del filtro «%s» no es válido para su tipo (%s)", f.Value, f.Field, col.Type)
			}
			return nil, fmt.Errorf("catalog: %s: filter %s: %w", c.Clave, f.Field, err)
		}
		if _, seen := byField[f.Field]; !seen {
			order = append(order, f.Field)
		}
		byField[f.Field] = append(byField[f.Field], f.Value)
	}
	for _, name := range order {
		col, _ := p.column(name)
		typ := castType(col.Type)
		q := "l." + pgdb.QuoteIdent(name)
		if vals := byField[name]; len(vals) == 1 {
			p.where = append(p.where, q+" = CAST("+p.arg(vals[0])+" AS "+typ+")")
		} else {
			p.where = append(p.where, q+" = ANY(CAST("+p.arg(vals)+" AS "+typ+"[]))")
		}
	}
	if t := strings.TrimSpace(q.Text); t != "" {
		like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(t)
		p.where = append(p.where, "meta.f_unaccent(ROW("+list("l", sh.cols)+")::text) ILIKE '%' || meta.f_unaccent("+p.arg(like)+") || '%'")
	}
	return p, nil
}

func pgCode(err error) string {
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) {
		return pe.SQLState()
	}
	return ""
}

func (p *rowsPlan) cond() string {
	if len(p.where) == 0 {
		return ""
	}
	return " WHERE (" + strings.Join(p.where, ") AND (") + ")"
}

// Rows returns one page of c's rows, by key (or by q.Sort, then key), in
// pages linked by keyset: the last page costs what the first does.
func (s *Store) Rows(ctx context.Context, c *Catalog, q RowsQuery) (*RowsPage, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	if limit > MaxPageRows {
		return nil, errorf(KindInvalid, "el límite %d es mayor que el máximo de %d filas por página", limit, MaxPageRows)
	}
	var page *RowsPage
	read := func(db pgdb.DBTX, cur int) error {
		p, err := s.plan(ctx, db, c, q, cur)
		if err != nil {
			return err
		}
		var order []column
		if q.Sort != "" {
			col, ok := p.column(q.Sort)
			if !ok {
				return p.unknownField(c, q.Sort)
			}
			if len(p.sh.keys) != 1 || p.sh.keys[0] != q.Sort {
				order = append(order, col)
			}
		}
		nSort := len(order)
		for _, k := range p.sh.keys {
			col, _ := p.column(k)
			order = append(order, col)
		}
		dir, op, nulls := "", ">", " NULLS LAST"
		if q.Desc {
			dir, op, nulls = " DESC", "<", " NULLS FIRST"
		}
		if q.After != "" {
			cond, err := p.keyset(q.After, order, nSort, op)
			if err != nil {
				return err
			}
			p.where = append(p.where, cond)
		}
		fieldList := make([]string, 0, len(p.fields)+1)
		if q.RowID {
			id, err := rowIDExpr(c, p.sh)
			if err != nil {
				return err
			}
			fieldList = append(fieldList, id+" AS "+pgdb.QuoteIdent(RowIDField))
		}
		for _, f := range p.fields {
			fieldList = append(fieldList, "l."+pgdb.QuoteIdent(f.Field.Name))
		}
		sel := make([]string, 0, len(order)+1)
		sel = append(sel, "(SELECT row_to_json(x) FROM (SELECT "+strings.Join(fieldList, ", ")+") x)::text")
		ord := make([]string, len(order))
		for i, o := range order {
			q := "l." + pgdb.QuoteIdent(o.Field.Name)
			sel = append(sel, q+"::text")
			ord[i] = q + dir
			if i < nSort {
				ord[i] += nulls
			}
		}
		sql := "SELECT " + strings.Join(sel, ", ") + " FROM " + p.from + p.cond() +
			" ORDER BY " + strings.Join(ord, ", ") + " LIMIT " + p.arg(limit+1)
		if q.Offset > 0 {
			sql += " OFFSET " + p.arg(q.Offset)
		}
		rows, err := db.Query(ctx, sql, p.args...)
		if err != nil {
			if strings.HasPrefix(pgCode(err), "22") {
				return errorf(KindInvalid, "el cursor «after» no es válido para este catálogo u orden")
			}
			return fmt.Errorf("catalog: %s rows: %w", c.Clave, err)
		}
		defer rows.Close()
		page = &RowsPage{Version: p.version}
		for _, f := range p.fields {
			page.Fields = append(page.Fields, f.Field)
		}
		var last []*string
		for rows.Next() {
			if len(page.Rows) == limit {
				b, _ := json.Marshal(last)
				page.Next = base64.RawURLEncoding.EncodeToString(b)
				break
			}
			raw := rows.RawValues()
			page.Rows = append(page.Rows, json.RawMessage(slices.Clone(raw[0])))
			last = make([]*string, len(order))
			for i := range order {
				if v := raw[i+1]; v != nil {
					s := string(v)
					last[i] = &s
				}
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("catalog: %s rows: %w", c.Clave, err)
		}
		return nil
	}
	if q.Version == 0 {
		// The current version: the live table alone, no snapshot needed.
		if err := read(s.db, c.CurrentVersion); err != nil {
			return nil, err
		}
		return page, nil
	}
	err := s.snapshot(ctx, c, func(tx pgx.Tx, cur int) error { return read(tx, cur) })
	if err != nil {
		return nil, err
	}
	return page, nil
}

// keyset writes the condition "after the row with these values" over the
// order columns (the first nSort may be NULL: NULLS LAST ascending, FIRST
// descending; the key columns never are).
func (p *rowsPlan) keyset(after string, order []column, nSort int, op string) (string, error) {
	bad := errorf(KindInvalid, "el cursor «after» no es válido; use el valor «next» de la página anterior")
	raw, err := base64.RawURLEncoding.DecodeString(after)
	if err != nil {
		return "", bad
	}
	var vals []*string
	if err := json.Unmarshal(raw, &vals); err != nil || len(vals) != len(order) {
		return "", bad
	}
	keyCols, keyVals := make([]string, 0, len(order)), make([]string, 0, len(order))
	for i := nSort; i < len(order); i++ {
		if vals[i] == nil {
			return "", bad
		}
		keyCols = append(keyCols, "l."+pgdb.QuoteIdent(order[i].Field.Name))
		keyVals = append(keyVals, "CAST("+p.arg(*vals[i])+" AS "+castType(order[i].Type)+")")
	}
	keyCond := "(" + strings.Join(keyCols, ", ") + ") " + op + " (" + strings.Join(keyVals, ", ") + ")"
	if nSort == 0 {
		return keyCond, nil
	}
	s := "l." + pgdb.QuoteIdent(order[0].Field.Name)
	if vals[0] == nil {
		if op == ">" { // ascending: the NULLs come last, after them only NULLs
			return s + " IS NULL AND " + keyCond, nil
		}
		return "(" + s + " IS NULL AND " + keyCond + ") OR " + s + " IS NOT NULL", nil
	}
	v := "CAST(" + p.arg(*vals[0]) + " AS " + castType(order[0].Type) + ")"
	cond := s + " " + op + " " + v + " OR (" + s + " = " + v + " AND " + keyCond + ")"
	if op == ">" {
		cond += " OR " + s + " IS NULL"
	}
	return cond, nil
}

// CountRows counts the rows of c that q's version, filters and text keep.
func (s *Store) CountRows(ctx context.Context, c *Catalog, q RowsQuery) (int64, error) {
	var n int64
	count := func(db pgdb.DBTX, cur int) error {
		p, err := s.plan(ctx, db, c, q, cur)
		if err != nil {
			return err
		}
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+p.from+p.cond(), p.args...).Scan(&n); err != nil {
			return fmt.Errorf("catalog: %s count: %w", c.Clave, err)
		}
		return nil
	}
	if q.Version == 0 {
		return n, count(s.db, c.CurrentVersion)
	}
	return n, s.snapshot(ctx, c, func(tx pgx.Tx, cur int) error { return count(tx, cur) })
}

// export passes fn the query of every row of version n (0: current) of c, by
// key, with the definition's columns; it runs in a snapshot that also gives
// the version's number.
func (s *Store) export(ctx context.Context, c *Catalog, n int, fn func(tx pgx.Tx, sql string, version int) error) error {
	sh, err := shapeOf(c)
	if err != nil {
		return err
	}
	return s.snapshot(ctx, c, func(tx pgx.Tx, cur int) error {
		if n == 0 {
			n = cur
		}
		if cur == 0 && n == 0 {
			return fn(tx, `SELECT `+list("", sh.cols)+` FROM `+sh.live+` WHERE false`, 0)
		}
		if n < 1 || n > cur {
			return versionNotFound(c, n, cur)
		}
		sql := `SELECT ` + list("", sh.cols) + ` FROM ` + sh.live + ` WHERE activo ORDER BY ` + list("", sh.keys)
		if n < cur {
			sql = `SELECT * FROM (` + sh.versionSQL(strconv.Itoa(n), "") + `) v ORDER BY ` + list("v", sh.keys)
		}
		return fn(tx, sql, n)
	})
}

// ExportStart receives the number of the version an export reads before
// anything is written, so that the caller can name the file.
type ExportStart func(version int) error

// CopyCSV writes version n (0: current) of c to w as CSV with a header
// line, straight from PostgreSQL's COPY: memory stays flat whatever the
// size.
func (s *Store) CopyCSV(ctx context.Context, c *Catalog, n int, start ExportStart, w io.Writer) (rows int64, err error) {
	err = s.export(ctx, c, n, func(tx pgx.Tx, sql string, version int) error {
		if err := start(version); err != nil {
			return err
		}
		tag, err := tx.Conn().PgConn().CopyTo(ctx, w, "COPY ("+sql+") TO STDOUT WITH (FORMAT csv, HEADER true)")
		if err != nil {
			return fmt.Errorf("catalog: %s csv: %w", c.Clave, err)
		}
		rows = tag.RowsAffected()
		return nil
	})
	return rows, err
}

// ScanJSON streams version n (0: current) of c as one JSON object per row
// (PostgreSQL's row_to_json: numbers as numbers, dates as ISO 8601).
func (s *Store) ScanJSON(ctx context.Context, c *Catalog, n int, start ExportStart, fn func(obj []byte) error) error {
	return s.export(ctx, c, n, func(tx pgx.Tx, sql string, version int) error {
		if err := start(version); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT row_to_json(r)::text FROM ("+sql+") r")
		if err != nil {
			return fmt.Errorf("catalog: %s json: %w", c.Clave, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := fn(rows.RawValues()[0]); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("catalog: %s json: %w", c.Clave, err)
		}
		return nil
	})
}

// ScanValues streams version n (0: current) of c as Go values per row, in
// the definition's column order (for Arrow and Parquet).
func (s *Store) ScanValues(ctx context.Context, c *Catalog, n int, start ExportStart, fn func(row []any) error) error {
	return s.export(ctx, c, n, func(tx pgx.Tx, sql string, version int) error {
		if err := start(version); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, sql)
		if err != nil {
			return fmt.Errorf("catalog: %s values: %w", c.Clave, err)
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return fmt.Errorf("catalog: %s values: %w", c.Clave, err)
			}
			if err := fn(vals); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("catalog: %s values: %w", c.Clave, err)
		}
		return nil
	})
}

// Columns returns the data columns of c (no control columns) with their
// PostgreSQL types, in order.
func Columns(c *Catalog) ([]tableschema.Field, []tableschema.SQLType, error) {
	cols, err := dataColumns(c.Resource)
	if err != nil {
		return nil, nil, err
	}
	fields := make([]tableschema.Field, len(cols))
	types := make([]tableschema.SQLType, len(cols))
	for i, col := range cols {
		fields[i], types[i] = col.Field, col.Type
	}
	return fields, types, nil
}
