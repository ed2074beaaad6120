package pipeline

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// kind is how the pipeline converts a cell for its PostgreSQL column.
type kind int

const (
	kText kind = iota
	kInt
	kFloat
	kNumeric
	kBool
	kDate
	kTimestamp
	kTime
	kJSON
	kOther // parsed by pgx's own text codec for the type
)

// column is one field of the catalog, ready to convert and check cells.
type column struct {
	name     string
	no       int // 1-based position in the definition
	sql      tableschema.SQLType
	kind     kind
	required bool
	unique   bool

	minLen, maxLen int // -1 when absent; maxLen includes varchar(n)
	intLo, intHi   int64
	intDigits      int // numeric(p,s): at most p-s digits before the point; 0 = any
	min, max       *float64
	minT, maxT     *time.Time
	pattern        *regexp.Regexp
	enum           map[string]bool
	dateLayouts    []string
	oid            uint32 // kOther
	types          *pgtype.Map
	hasChecks      bool // see constrained
}

// columnsOf builds the columns of a definition. Errors are Spanish: a
// definition the pipeline cannot load is the steward's to fix.
func columnsOf(res *tableschema.Resource, types *pgtype.Map) ([]*column, error) {
	if res == nil || len(res.Schema.Fields) == 0 {
		return nil, fmt.Errorf("el catálogo no tiene campos definidos")
	}
	pk := map[string]bool{}
	for _, k := range res.Schema.PrimaryKey {
		pk[k] = true
	}
	cols := make([]*column, 0, len(res.Schema.Fields))
	for i, f := range res.Schema.Fields {
		if catalog.IsControlColumn(f.Name) {
			// A definition may list the control columns (NOM-C07); they
			// are the platform's, as in the table's DDL, never the source's.
			continue
		}
		c, err := newColumn(f, i+1, pk[f.Name], types)
		if err != nil {
			return nil, fmt.Errorf("campo «%s»: %w", f.Name, err)
		}
		cols = append(cols, c)
	}
	return cols, nil
}

func newColumn(f tableschema.Field, no int, inKey bool, types *pgtype.Map) (*column, error) {
	st, err := f.SQLType()
	if err != nil {
		return nil, err
	}
	c := &column{name: f.Name, no: no, sql: st, required: f.Constraints.Required || inKey,
		unique: f.Constraints.Unique, minLen: -1, maxLen: -1, types: types}
	switch {
	case st.IsText():
		c.kind = kText
		if st.Length > 0 {
			c.maxLen = st.Length
		}
	case st.Base == "smallint":
		c.kind, c.intLo, c.intHi = kInt, math.MinInt16, math.MaxInt16
	case st.Base == "integer":
		c.kind, c.intLo, c.intHi = kInt, math.MinInt32, math.MaxInt32
	case st.Base == "bigint":
		c.kind, c.intLo, c.intHi = kInt, math.MinInt64, math.MaxInt64
	case st.Base == "real" || st.Base == "double precision":
		c.kind = kFloat
	case st.Base == "numeric":
		c.kind = kNumeric
		if st.Precision > 0 {
			c.intDigits = st.Precision - st.Scale
		}
	case st.IsBoolean():
		c.kind = kBool
	case st.IsDate():
		c.kind = kDate
	case st.IsTimestamp():
		c.kind = kTimestamp
	case st.Base == "time":
		c.kind = kTime
	case st.Base == "json" || st.Base == "jsonb":
		c.kind = kJSON
	default:
		c.kind = kOther
		name := st.Base
		if strings.HasSuffix(name, "[]") {
			name = "_" + strings.TrimSuffix(name, "[]")
		}
		t, ok := types.TypeForName(name)
		if !ok {
			return nil, fmt.Errorf("el tipo «%s» no se puede cargar", st)
		}
		c.oid = t.OID
	}
	c.dateLayouts = dateLayouts(f.Format, c.kind)

	k := f.Constraints
	if k.MinLength != nil {
		c.minLen = *k.MinLength
	}
	if k.MaxLength != nil && (c.maxLen < 0 || *k.MaxLength < c.maxLen) {
		c.maxLen = *k.MaxLength
	}
	if k.Pattern != "" {
		re, err := regexp.Compile(`^(?:` + k.Pattern + `)$`)
		if err != nil {
			return nil, fmt.Errorf("el patrón «%s» no es una expresión regular válida: %v", k.Pattern, err)
		}
		c.pattern = re
	}
	for _, b := range []struct {
		v   any
		num **float64
		t   **time.Time
		lbl string
	}{{k.Minimum, &c.min, &c.minT, "minimum"}, {k.Maximum, &c.max, &c.maxT, "maximum"}} {
		if b.v == nil {
			continue
		}
		v, why := c.parse(fmt.Sprint(b.v))
		if why != "" {
			return nil, fmt.Errorf("la restricción %s «%v» no es válida: %s", b.lbl, b.v, why)
		}
		switch x := v.(type) {
		case time.Time:
			*b.t = &x
		default:
			f, ok := toFloat(v)
			if !ok {
				return nil, fmt.Errorf("la restricción %s no aplica al tipo %s", b.lbl, st)
			}
			*b.num = &f
		}
	}
	if len(k.Enum) > 0 {
		c.enum = make(map[string]bool, len(k.Enum))
		for _, e := range k.Enum {
			v, why := c.parse(fmt.Sprint(e))
			if why != "" {
				return nil, fmt.Errorf("el valor «%v» de la lista de valores permitidos no es válido: %s", e, why)
			}
			c.enum[c.canonical(v)] = true
		}
	}
	c.hasChecks = c.constrained()
	return c, nil
}

// dateLayouts turns a Table Schema date format into Go layouts: "default"
// is ISO 8601, "any" accepts the usual Mexican spellings too, and a
// strftime pattern ("%d/%m/%Y") is translated.
func dateLayouts(format string, k kind) []string {
	switch k {
	case kDate:
		switch format {
		case "", "default":
			return []string{"2006-01-02"}
		case "any":
			return []string{"2006-01-02", "02/01/2006", "2/1/2006", "2006/01/02", "02-01-2006", "20060102"}
		}
	case kTimestamp:
		switch format {
		case "", "default", "any":
			return []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}
		}
	case kTime:
		switch format {
		case "", "default", "any":
			return []string{"15:04:05.999999", "15:04:05", "15:04"}
		}
	default:
		return nil
	}
	return []string{strftime(format)}
}

func strftime(f string) string {
	r := strings.NewReplacer("%Y", "2006", "%m", "01", "%d", "02", "%H", "15", "%M", "04", "%S", "05",
		"%y", "06", "%b", "Jan", "%B", "January", "%z", "-0700", "%Z", "MST", "%f", "000000", "%p", "PM", "%I", "03")
	return r.Replace(f)
}

// parse converts one cell's text into the Go value COPY sends for the
// column; why is the Spanish reason when it cannot.
func (c *column) parse(s string) (any, string) {
	switch c.kind {
	case kText:
		return s, ""
	case kInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, fmt.Sprintf("el número está fuera del rango del tipo %s", c.sql)
			}
			return nil, "se esperaba un número entero"
		}
		if n < c.intLo || n > c.intHi {
			return nil, fmt.Sprintf("el número está fuera del rango del tipo %s", c.sql)
		}
		return n, ""
	case kFloat:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, "se esperaba un número"
		}
		return f, ""
	case kNumeric:
		t := strings.TrimSpace(s)
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, "se esperaba un número decimal"
		}
		if c.intDigits > 0 && math.Abs(f) >= math.Pow10(c.intDigits) {
			return nil, fmt.Sprintf("el número excede la precisión del tipo %s", c.sql)
		}
		var n pgtype.Numeric
		if err := n.ScanScientific(t); err != nil {
			return nil, "se esperaba un número decimal"
		}
		return n, ""
	case kBool:
		if t, ok := boolText(s); ok {
			return t == "t", ""
		}
		return nil, "se esperaba un valor lógico (true/false, 1/0, sí/no)"
	case kDate, kTimestamp:
		t := strings.TrimSpace(s)
		for _, l := range c.dateLayouts {
			if v, err := time.Parse(l, t); err == nil {
				return v, ""
			}
		}
		if c.kind == kDate {
			return nil, "se esperaba una fecha " + layoutHint(c.dateLayouts[0])
		}
		return nil, "se esperaba una fecha y hora " + layoutHint(c.dateLayouts[0])
	case kTime:
		t := strings.TrimSpace(s)
		for _, l := range c.dateLayouts {
			if v, err := time.Parse(l, t); err == nil {
				us := int64(v.Hour())*3600e6 + int64(v.Minute())*60e6 + int64(v.Second())*1e6 + int64(v.Nanosecond())/1e3
				return pgtype.Time{Microseconds: us, Valid: true}, ""
			}
		}
		return nil, "se esperaba una hora (HH:MM:SS)"
	case kJSON:
		if !json.Valid([]byte(s)) {
			return nil, "se esperaba un documento JSON válido"
		}
		return s, ""
	}
	var v any
	if err := c.types.Scan(c.oid, pgtype.TextFormatCode, []byte(s), &v); err != nil {
		return nil, fmt.Sprintf("no es un valor válido del tipo %s", c.sql)
	}
	return v, ""
}

func layoutHint(l string) string {
	r := strings.NewReplacer("2006", "AAAA", "01", "MM", "02", "DD", "15", "HH", "04", "mm", "05", "ss", "Z07:00", "", ".999999999", "")
	return "(" + r.Replace(l) + ")"
}

// check applies the constraints to a converted value; text is the cell as
// read. It returns the Spanish reason of the first constraint broken.
func (c *column) check(v any, text string) string {
	if c.minLen >= 0 || c.maxLen >= 0 {
		if s, ok := v.(string); ok {
			n := 0
			for range s {
				n++
			}
			if c.maxLen >= 0 && n > c.maxLen {
				return fmt.Sprintf("el texto tiene %d caracteres y el máximo es %d", n, c.maxLen)
			}
			if c.minLen >= 0 && n < c.minLen {
				return fmt.Sprintf("el texto tiene %d caracteres y el mínimo es %d", n, c.minLen)
			}
		}
	}
	if c.pattern != nil && !c.pattern.MatchString(text) {
		return fmt.Sprintf("no cumple el patrón «%s»", strings.TrimSuffix(strings.TrimPrefix(c.pattern.String(), "^(?:"), ")$"))
	}
	if c.min != nil || c.max != nil {
		if f, ok := toFloat(v); ok {
			if c.min != nil && f < *c.min {
				return fmt.Sprintf("el valor es menor que el mínimo %s", strconv.FormatFloat(*c.min, 'f', -1, 64))
			}
			if c.max != nil && f > *c.max {
				return fmt.Sprintf("el valor es mayor que el máximo %s", strconv.FormatFloat(*c.max, 'f', -1, 64))
			}
		}
	}
	if c.minT != nil || c.maxT != nil {
		if t, ok := v.(time.Time); ok {
			if c.minT != nil && t.Before(*c.minT) {
				return "la fecha es anterior al mínimo " + c.canonical(*c.minT)
			}
			if c.maxT != nil && t.After(*c.maxT) {
				return "la fecha es posterior al máximo " + c.canonical(*c.maxT)
			}
		}
	}
	if c.enum != nil && !c.enum[c.canonical(v)] {
		return "no está entre los valores permitidos"
	}
	return ""
}

// canonical is the text by which enum values are compared, so that «007»
// and 7 match in an integer column.
func (c *column) canonical(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		if c.kind == kDate {
			return x.Format("2006-01-02")
		}
		return x.UTC().Format(time.RFC3339Nano)
	case pgtype.Numeric:
		if f, err := x.Float64Value(); err == nil {
			return strconv.FormatFloat(f.Float64, 'g', -1, 64)
		}
	}
	return fmt.Sprint(v)
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case pgtype.Numeric:
		f, err := x.Float64Value()
		return f.Float64, err == nil
	}
	return 0, false
}
