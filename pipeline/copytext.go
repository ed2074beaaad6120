package pipeline

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// The pipeline writes the rows it has validated to PostgreSQL in COPY's text
// format. For most types the cell as read, once an allocation-free parse has
// accepted it, is already what PostgreSQL reads back (integers re-written in
// their canonical form, decimals as they came): no value is boxed and no
// binary encoding is built per cell, which is most of a load's CPU.

// cells is one column of a batch in COPY text: cell i is
// buf[end[i-1]:end[i]], `\N` for NULL.
type cells struct {
	buf []byte
	end []int
}

func (c *cells) reset(n int) {
	c.buf = c.buf[:0]
	if cap(c.end) < n {
		c.end = make([]int, n)
	}
	c.end = c.end[:n]
}

func (c *cells) cell(i int) []byte {
	start := 0
	if i > 0 {
		start = c.end[i-1]
	}
	return c.buf[start:c.end[i]]
}

// copyNull is NULL in COPY text.
const copyNull = `\N`

// copyEscape says which bytes COPY text escapes: those that would end the
// value, and the other control characters COPY TO writes escaped, so that
// a value appended here is byte for byte what PostgreSQL writes (a re-load
// compares the two).
var copyEscape = [256]bool{'\\': true, '\n': true, '\r': true, '\t': true, '\b': true, '\f': true, '\v': true}

// appendCopyText appends s escaped for COPY text (see copyEscape).
func appendCopyText(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !copyEscape[b] {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch b {
		case '\\':
			dst = append(dst, `\\`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		case '\v':
			dst = append(dst, `\v`...)
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// constrained says whether c has constraints beyond its type; such columns
// go through parse and check, which need the converted value.
func (c *column) constrained() bool {
	return c.minLen >= 0 || c.maxLen >= 0 || c.pattern != nil || c.min != nil || c.max != nil ||
		c.minT != nil || c.maxT != nil || c.enum != nil
}

// appendCell validates the text s of a cell of c and appends its COPY text
// to dst. On a problem it returns the error type and the Spanish reason,
// exactly those of parse and check; what it appended then is garbage.
func (c *column) appendCell(dst []byte, s string) (out []byte, typ, why string) {
	if !c.hasChecks {
		if out, ok := c.appendPlain(dst, s); ok {
			return out, "", ""
		}
	}
	v, why := c.parse(s)
	if why != "" {
		return dst, ErrType, why
	}
	if why := c.check(v, s); why != "" {
		return dst, ErrConstraint, why
	}
	return c.appendValue(dst, v, s), "", ""
}

// appendPlain is appendCell's allocation-free path for a column without
// constraints; ok is false when it cannot decide (parse then says why, or
// converts what this path does not know).
func (c *column) appendPlain(dst []byte, s string) ([]byte, bool) {
	switch c.kind {
	case kText:
		return appendCopyText(dst, s), true
	case kInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil || n < c.intLo || n > c.intHi {
			return dst, false
		}
		return strconv.AppendInt(dst, n, 10), true
	case kFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return dst, false
		}
		return c.appendFloat(dst, f), true
	case kNumeric:
		t := strings.TrimSpace(s)
		if !plainDecimal(t) {
			return dst, false
		}
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(f, 0) || (c.intDigits > 0 && math.Abs(f) >= math.Pow10(c.intDigits)) {
			return dst, false
		}
		return append(dst, t...), true
	case kBool:
		t, ok := boolText(s)
		return append(dst, t...), ok
	case kDate, kTimestamp:
		t := strings.TrimSpace(s)
		for _, l := range c.dateLayouts {
			if v, err := time.Parse(l, t); err == nil {
				return c.appendTime(dst, v), true
			}
		}
	}
	return dst, false
}

// plainDecimal says whether s is [+-]digits[.digits] with at least one
// digit: a decimal that parse accepts and PostgreSQL reads as it is.
func plainDecimal(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b >= '0' && b <= '9':
			digits++
		case b == '.' && !point:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// appendTypedCell is appendCell for cell i of a typed (non-text) array.
func (c *column) appendTypedCell(dst []byte, arr arrow.Array, i int) (out []byte, typ, text, why string) {
	if !c.hasChecks {
		if out, ok := c.appendPlainTyped(dst, arr, i); ok {
			return out, "", "", ""
		}
	}
	v, text, why := typedValue(c, arr, i)
	if why != "" {
		return dst, ErrType, text, why
	}
	if why := c.check(v, text); why != "" {
		return dst, ErrConstraint, text, why
	}
	return c.appendValue(dst, v, text), "", "", ""
}

func (c *column) appendPlainTyped(dst []byte, arr arrow.Array, i int) ([]byte, bool) {
	inRange := func(n int64) bool { return n >= c.intLo && n <= c.intHi }
	switch a := arr.(type) {
	case *array.Int64:
		if c.kind == kInt && inRange(a.Value(i)) {
			return strconv.AppendInt(dst, a.Value(i), 10), true
		}
	case *array.Int32:
		if c.kind == kInt && inRange(int64(a.Value(i))) {
			return strconv.AppendInt(dst, int64(a.Value(i)), 10), true
		}
	case *array.Int16:
		if c.kind == kInt && inRange(int64(a.Value(i))) {
			return strconv.AppendInt(dst, int64(a.Value(i)), 10), true
		}
	case *array.Float64:
		if c.kind == kFloat {
			return c.appendFloat(dst, a.Value(i)), true
		}
	case *array.Float32:
		if c.kind == kFloat {
			return c.appendFloat(dst, float64(a.Value(i))), true
		}
	case *array.Boolean:
		if c.kind == kBool {
			return appendBool(dst, a.Value(i)), true
		}
	case *array.Date32:
		if c.kind == kDate {
			return c.appendTime(dst, a.Value(i).ToTime()), true
		}
	case *array.Timestamp:
		if c.kind == kTimestamp {
			return c.appendTime(dst, a.Value(i).ToTime(a.DataType().(*arrow.TimestampType).Unit)), true
		}
	}
	return dst, false
}

// appendValue appends the COPY text of v, a value parse or typedValue
// converted for c; text is the cell as read.
func (c *column) appendValue(dst []byte, v any, text string) []byte {
	switch x := v.(type) {
	case string:
		return appendCopyText(dst, x)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case float64:
		return c.appendFloat(dst, x)
	case bool:
		return appendBool(dst, x)
	case time.Time:
		return c.appendTime(dst, x)
	case pgtype.Numeric:
		return appendNumeric(dst, x)
	case pgtype.Time:
		us := x.Microseconds
		dst = appendPadded(dst, us/3600e6, 2)
		dst = append(dst, ':')
		dst = appendPadded(dst, us/60e6%60, 2)
		dst = append(dst, ':')
		dst = appendPadded(dst, us/1e6%60, 2)
		dst = append(dst, '.')
		return appendPadded(dst, us%1e6, 6)
	}
	// Other PostgreSQL types: pgx's own text form of what it parsed.
	buf, err := c.types.Encode(c.oid, pgtype.TextFormatCode, v, nil)
	if err != nil || buf == nil {
		return appendCopyText(dst, text)
	}
	return appendCopyText(dst, string(buf))
}

func appendBool(dst []byte, b bool) []byte {
	if b {
		return append(dst, 't')
	}
	return append(dst, 'f')
}

// appendFloat writes f as PostgreSQL reads it back exactly: the shortest
// text that round-trips, in the precision of the column's type.
func (c *column) appendFloat(dst []byte, f float64) []byte {
	bits := 64
	if c.sql.Base == "real" {
		f, bits = float64(float32(f)), 32
	}
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, bits)
}

// appendTime writes a date, or a timestamp to the microsecond (truncated,
// as the binary encoding did): timestamptz in UTC, timestamp as its wall
// clock. Years before 1 are written as PostgreSQL's BC years.
func (c *column) appendTime(dst []byte, t time.Time) []byte {
	if c.kind == kTimestamp && c.sql.Base == "timestamptz" {
		t = t.UTC()
	}
	y, m, d := t.Date()
	bc := y <= 0
	if bc {
		y = 1 - y
	}
	dst = appendPadded(dst, int64(y), 4)
	dst = append(dst, '-')
	dst = appendPadded(dst, int64(m), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, int64(d), 2)
	if c.kind == kTimestamp {
		dst = append(dst, ' ')
		dst = appendPadded(dst, int64(t.Hour()), 2)
		dst = append(dst, ':')
		dst = appendPadded(dst, int64(t.Minute()), 2)
		dst = append(dst, ':')
		dst = appendPadded(dst, int64(t.Second()), 2)
		dst = append(dst, '.')
		dst = appendPadded(dst, int64(t.Nanosecond()/1000), 6)
		if c.sql.Base == "timestamptz" {
			dst = append(dst, "+00"...)
		}
	}
	if bc {
		dst = append(dst, " BC"...)
	}
	return dst
}

// appendPadded writes n (≥ 0) with at least width digits.
func appendPadded(dst []byte, n int64, width int) []byte {
	var buf [20]byte
	s := strconv.AppendInt(buf[:0], n, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendNumeric writes n as a plain decimal (no exponent, which PostgreSQL
// limits), so that every value parse accepts is read back exactly.
func appendNumeric(dst []byte, n pgtype.Numeric) []byte {
	digits := n.Int.String()
	if strings.HasPrefix(digits, "-") {
		dst = append(dst, '-')
		digits = digits[1:]
	}
	switch {
	case n.Exp >= 0:
		dst = append(dst, digits...)
		for range n.Exp {
			dst = append(dst, '0')
		}
	case int(-n.Exp) >= len(digits):
		dst = append(dst, "0."...)
		for range int(-n.Exp) - len(digits) {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	default:
		point := len(digits) + int(n.Exp)
		dst = append(dst, digits[:point]...)
		dst = append(dst, '.')
		dst = append(dst, digits[point:]...)
	}
	return dst
}

// copyText copies what r reads, rows in COPY text format, into the columns
// of table, on a connection of db (a pool or a transaction).
func copyText(ctx context.Context, db pgdb.DBTX, table pgx.Identifier, columns []string, r io.Reader) (int64, error) {
	quoted := make([]string, len(columns))
	for i, c := range columns {
		quoted[i] = pgdb.QuoteIdent(c)
	}
	sql := "COPY " + table.Sanitize() + " (" + strings.Join(quoted, ", ") + ") FROM STDIN"
	var conn *pgconn.PgConn
	switch d := db.(type) {
	case pgx.Tx:
		conn = d.Conn().PgConn()
	case *pgx.Conn:
		conn = d.PgConn()
	case *pgxpool.Pool:
		pc, err := d.Acquire(ctx)
		if err != nil {
			return 0, err
		}
		defer pc.Release()
		conn = pc.Conn().PgConn()
	default:
		return 0, fmt.Errorf("copy into %s: no connection in %T", table.Sanitize(), db)
	}
	tag, err := conn.CopyFrom(ctx, r, sql)
	return tag.RowsAffected(), err
}
