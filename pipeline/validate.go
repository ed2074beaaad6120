package pipeline

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dgtit-gto/gobdatos/catalog"
)

// validator converts and checks the record batches of one load.
type validator struct {
	cols    []*column
	src     []int // per column, its index in the source schema
	missing map[string]bool
	errs    *collector
	// rowBase turns a batch offset into a Frictionless row number: the first
	// data row of a file with a header is row 2.
	rowBase int64
}

// batch holds one record batch converted for COPY: per column, the COPY
// text of every row, and which rows passed every check.
type batch struct {
	n    int
	rows []int64 // the source's row number of each row
	cols []cells
	ok   []bool
}

// bindColumns matches the source's columns to the definition's fields by
// name (ignoring case and surrounding spaces). A field the source lacks and
// a column the definition does not know are both errors: a load whose header
// does not match the definition is not guessed at.
func bindColumns(cols []*column, schema *arrow.Schema) ([]int, []ReportError) {
	byName := map[string]int{}
	for i, f := range schema.Fields() {
		byName[normalizeLabel(f.Name)] = i
	}
	src := make([]int, len(cols))
	used := map[int]bool{}
	var errs []ReportError
	for j, c := range cols {
		i, ok := byName[normalizeLabel(c.name)]
		if !ok {
			errs = append(errs, ReportError{Type: ErrMissingLbl, FieldName: c.name, FieldNumber: c.no,
				Message: fmt.Sprintf("falta la columna «%s» que la definición del catálogo exige (campo %d)", c.name, c.no)})
			continue
		}
		src[j] = i
		used[i] = true
	}
	for i, f := range schema.Fields() {
		switch {
		case used[i]:
		case catalog.IsControlColumn(normalizeLabel(f.Name)):
			errs = append(errs, ReportError{Type: ErrExtraLbl, FieldName: f.Name, FieldNumber: i + 1, Cell: f.Name,
				Message: fmt.Sprintf("la columna «%s» (posición %d) es una columna de control que la plataforma lleva en cada tabla (%s, %s, %s): no se carga desde el origen; quítela del archivo",
					f.Name, i+1, catalog.ColActivo, catalog.ColFechaAlta, catalog.ColFechaModificacion)})
		default:
			errs = append(errs, ReportError{Type: ErrExtraLbl, FieldName: f.Name, FieldNumber: i + 1, Cell: f.Name,
				Message: fmt.Sprintf("la columna «%s» (posición %d) no está en la definición del catálogo", f.Name, i+1)})
		}
	}
	return src, errs
}

func normalizeLabel(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
}

// stringValues is what the text arrays (utf8, large utf8, string view) share.
type stringValues interface {
	arrow.Array
	Value(i int) string
}

// convert fills b from rec, recording every problem in v.errs. It returns
// the number of rows rejected.
func (v *validator) convert(rec arrow.RecordBatch, b *batch) int {
	n := int(rec.NumRows())
	b.n = n
	if cap(b.ok) < n {
		b.ok = make([]bool, n)
	}
	b.ok = b.ok[:n]
	for i := range b.ok {
		b.ok[i] = true
	}
	if len(b.cols) != len(v.cols) {
		b.cols = make([]cells, len(v.cols))
	}
	for j, c := range v.cols {
		out := &b.cols[j]
		out.reset(n)
		v.convertColumn(c, rec.Column(v.src[j]), b.rows, out, b.ok)
	}
	bad := 0
	for _, ok := range b.ok {
		if !ok {
			bad++
		}
	}
	return bad
}

// isMissing says whether s is one of the definition's missing values
// (NULL).
func (v *validator) isMissing(s string) bool {
	if len(v.missing) == 1 {
		_, empty := v.missing[""]
		if empty {
			return s == ""
		}
	}
	return v.missing[s]
}

func (v *validator) convertColumn(c *column, arr arrow.Array, rows []int64, out *cells, ok []bool) {
	fail := func(i int, typ, cell, why string) {
		ok[i] = false
		v.errs.add(cellError(typ, rows[i], c.name, c.no, strings.Clone(cell), why))
	}
	null := func(i int) {
		out.buf = append(out.buf, copyNull...)
		if c.required {
			fail(i, ErrConstraint, "", "el valor es obligatorio y la celda está vacía")
		}
	}
	if sv, isText := arr.(stringValues); isText {
		for i := range out.end {
			if sv.IsNull(i) {
				null(i)
			} else if s := sv.Value(i); v.isMissing(s) {
				null(i)
			} else {
				var typ, why string
				if out.buf, typ, why = c.appendCell(out.buf, s); why != "" {
					fail(i, typ, s, why)
				}
			}
			out.end[i] = len(out.buf)
		}
		return
	}
	// Typed sources: the values that already have the column's type go
	// through as they are; the rest are converted from their text.
	for i := range out.end {
		if arr.IsNull(i) {
			null(i)
		} else {
			var typ, text, why string
			if out.buf, typ, text, why = c.appendTypedCell(out.buf, arr, i); why != "" {
				fail(i, typ, text, why)
			}
		}
		out.end[i] = len(out.buf)
	}
}

// typedValue reads cell i of a typed array for column c.
func typedValue(c *column, arr arrow.Array, i int) (any, string, string) {
	switch a := arr.(type) {
	case *array.Int64:
		if c.kind == kInt {
			n := a.Value(i)
			if n < c.intLo || n > c.intHi {
				return nil, a.ValueStr(i), fmt.Sprintf("el número está fuera del rango del tipo %s", c.sql)
			}
			return n, a.ValueStr(i), ""
		}
	case *array.Int32:
		if c.kind == kInt {
			n := int64(a.Value(i))
			if n < c.intLo || n > c.intHi {
				return nil, a.ValueStr(i), fmt.Sprintf("el número está fuera del rango del tipo %s", c.sql)
			}
			return n, a.ValueStr(i), ""
		}
	case *array.Int16:
		if c.kind == kInt {
			n := int64(a.Value(i))
			if n < c.intLo || n > c.intHi {
				return nil, a.ValueStr(i), fmt.Sprintf("el número está fuera del rango del tipo %s", c.sql)
			}
			return n, a.ValueStr(i), ""
		}
	case *array.Float64:
		if c.kind == kFloat {
			return a.Value(i), a.ValueStr(i), ""
		}
	case *array.Float32:
		if c.kind == kFloat {
			return float64(a.Value(i)), a.ValueStr(i), ""
		}
	case *array.Boolean:
		if c.kind == kBool {
			return a.Value(i), a.ValueStr(i), ""
		}
	case *array.Date32:
		if c.kind == kDate {
			t := a.Value(i).ToTime()
			return t, t.Format("2006-01-02"), ""
		}
	case *array.Timestamp:
		if c.kind == kTimestamp {
			unit := a.DataType().(*arrow.TimestampType).Unit
			t := a.Value(i).ToTime(unit)
			return t, t.Format("2006-01-02T15:04:05.999999Z07:00"), ""
		}
	}
	text := arr.ValueStr(i)
	val, why := c.parse(text)
	return val, text, why
}
