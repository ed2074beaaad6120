package tableschema

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
)

// The Frictionless field types.
const (
	TypeString    = "string"
	TypeInteger   = "integer"
	TypeNumber    = "number"
	TypeBoolean   = "boolean"
	TypeDate      = "date"
	TypeDatetime  = "datetime"
	TypeTime      = "time"
	TypeYear      = "year"
	TypeYearMonth = "yearmonth"
	TypeDuration  = "duration"
	TypeObject    = "object"
	TypeArray     = "array"
	TypeGeopoint  = "geopoint"
	TypeGeoJSON   = "geojson"
	TypeAny       = "any"
)

// IsFrictionlessType reports whether t is one of the Table Schema types.
func IsFrictionlessType(t string) bool {
	switch strings.ToLower(strings.TrimSpace(t)) {
	case TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeDate, TypeDatetime, TypeTime, TypeYear,
		TypeYearMonth, TypeDuration, TypeObject, TypeArray, TypeGeopoint, TypeGeoJSON, TypeAny:
		return true
	}
	return false
}

// SQLType is a PostgreSQL column type in canonical spelling: the base name
// ("varchar", "numeric", "timestamptz", "timestamp", "char", "double
// precision", …) and its modifiers.
type SQLType struct {
	Base string
	// Length is n of varchar(n) / char(n); 0 when absent.
	Length int
	// Precision and Scale are p and s of numeric(p,s); Precision 0 when absent.
	Precision, Scale int
}

// String writes the type as PostgreSQL does: varchar(5), numeric(12,2).
func (t SQLType) String() string {
	switch {
	case t.Length > 0:
		return fmt.Sprintf("%s(%d)", t.Base, t.Length)
	case t.Precision > 0:
		return fmt.Sprintf("%s(%d,%d)", t.Base, t.Precision, t.Scale)
	}
	return t.Base
}

// IsText, IsInteger, … classify the type for rules that care about kinds.
func (t SQLType) IsText() bool { return t.Base == "text" || t.Base == "varchar" || t.Base == "char" }
func (t SQLType) IsInteger() bool {
	return t.Base == "smallint" || t.Base == "integer" || t.Base == "bigint"
}
func (t SQLType) IsNumeric() bool {
	return t.IsInteger() || t.Base == "numeric" || t.Base == "real" || t.Base == "double precision" || t.Base == "money"
}
func (t SQLType) IsBoolean() bool { return t.Base == "boolean" }
func (t SQLType) IsDate() bool    { return t.Base == "date" }
func (t SQLType) IsTimestamp() bool {
	return t.Base == "timestamptz" || t.Base == "timestamp"
}

// FrictionlessType is the Table Schema type that carries values of t.
func (t SQLType) FrictionlessType() string {
	switch {
	case t.IsText():
		return TypeString
	case t.IsInteger():
		return TypeInteger
	case t.IsNumeric():
		return TypeNumber
	case t.IsBoolean():
		return TypeBoolean
	case t.IsDate():
		return TypeDate
	case t.IsTimestamp():
		return TypeDatetime
	case t.Base == "time" || t.Base == "timetz":
		return TypeTime
	case t.Base == "interval":
		return TypeDuration
	case t.Base == "json" || t.Base == "jsonb":
		return TypeObject
	case t.Base == "point":
		return TypeGeopoint
	}
	return TypeAny
}

var sqlTypeRe = regexp.MustCompile(`^([a-z][a-z0-9 ]*?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?(\s+with(?:out)? time zone)?(\[\])?$`)

// sqlSynonyms maps PostgreSQL's aliases to one spelling.
var sqlSynonyms = map[string]string{
	"int": "integer", "int4": "integer", "serial": "integer", "serial4": "integer",
	"int8": "bigint", "bigserial": "bigint", "serial8": "bigint",
	"int2": "smallint", "smallserial": "smallint", "serial2": "smallint",
	"bool": "boolean", "character varying": "varchar", "decimal": "numeric",
	"character": "char", "bpchar": "char", "float8": "double precision", "float": "double precision",
	"float4": "real", "timestamp with time zone": "timestamptz", "timestamp without time zone": "timestamp",
	"time with time zone": "timetz", "time without time zone": "time",
}

// ParseSQLType reads a PostgreSQL type name in any usual spelling.
func ParseSQLType(s string) (SQLType, error) {
	in := strings.ToLower(strings.Join(strings.Fields(s), " "))
	m := sqlTypeRe.FindStringSubmatch(in)
	if m == nil {
		return SQLType{}, fmt.Errorf("«%s» no es un tipo de PostgreSQL reconocible", s)
	}
	base := strings.TrimSpace(m[1])
	if m[4] != "" {
		base += " " + strings.TrimSpace(m[4])
	}
	if syn, ok := sqlSynonyms[base]; ok {
		base = syn
	}
	if m[5] != "" {
		base += "[]"
	}
	t := SQLType{Base: base}
	if m[2] != "" {
		n, _ := strconv.Atoi(m[2])
		switch base {
		case "varchar", "char", "bit", "varbit":
			t.Length = n
		case "numeric":
			t.Precision = n
			if m[3] != "" {
				t.Scale, _ = strconv.Atoi(m[3])
			}
		case "timestamptz", "timestamp", "time", "timetz", "interval":
			// fractional-second precision: irrelevant to the rules
		default:
			return SQLType{}, fmt.Errorf("el tipo «%s» no admite modificadores", s)
		}
	} else if base == "char" {
		t.Length = 1 // PostgreSQL's char is char(1)
	}
	return t, nil
}

// SQLType returns the PostgreSQL type that stores the field: the type
// itself when the definition names one, otherwise the type that fits the
// Frictionless type and its constraints.
func (f Field) SQLType() (SQLType, error) {
	ft := strings.ToLower(strings.TrimSpace(f.Type))
	if ft == "" {
		ft = TypeString // the Table Schema default
	}
	if !IsFrictionlessType(ft) {
		return ParseSQLType(f.Type)
	}
	switch ft {
	case TypeString:
		if n := f.Constraints.MaxLength; n != nil && *n > 0 {
			return SQLType{Base: "varchar", Length: *n}, nil
		}
		return SQLType{Base: "text"}, nil
	case TypeInteger:
		lo, loOK := number(f.Constraints.Minimum)
		hi, hiOK := number(f.Constraints.Maximum)
		if (loOK && lo < math.MinInt32) || (hiOK && hi > math.MaxInt32) {
			return SQLType{Base: "bigint"}, nil
		}
		return SQLType{Base: "integer"}, nil
	case TypeNumber:
		return SQLType{Base: "numeric"}, nil
	case TypeBoolean:
		return SQLType{Base: "boolean"}, nil
	case TypeDate:
		return SQLType{Base: "date"}, nil
	case TypeDatetime:
		return SQLType{Base: "timestamptz"}, nil
	case TypeTime:
		return SQLType{Base: "time"}, nil
	case TypeYear:
		return SQLType{Base: "smallint"}, nil
	case TypeYearMonth:
		return SQLType{Base: "date"}, nil
	case TypeDuration:
		return SQLType{Base: "interval"}, nil
	case TypeObject, TypeArray, TypeGeoJSON:
		return SQLType{Base: "jsonb"}, nil
	case TypeGeopoint:
		return SQLType{Base: "point"}, nil
	}
	return SQLType{Base: "text"}, nil // any
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}
