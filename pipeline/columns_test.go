package pipeline

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

func field(t *testing.T, js string) *column {
	t.Helper()
	var f tableschema.Field
	dec := json.NewDecoder(strings.NewReader(js))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&f))
	c, err := newColumn(f, 1, false, pgtype.NewMap())
	require.NoError(t, err)
	return c
}

func TestColumnParseAndCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, field, cell string
		want              any    // converted value when valid
		why               string // substring of the Spanish reason, "" when valid
	}{
		{"text keeps leading zeros", `{"name":"k","type":"string"}`, "007", "007", ""},
		{"varchar length", `{"name":"k","type":"varchar(3)"}`, "1234", nil, "máximo es 3"},
		{"maxLength counts characters not bytes", `{"name":"k","constraints":{"maxLength":4}}`, "León", "León", ""},
		{"minLength", `{"name":"k","constraints":{"minLength":2}}`, "a", nil, "mínimo es 2"},
		{"pattern is anchored", `{"name":"k","constraints":{"pattern":"[0-9]{2}"}}`, "123", nil, "patrón"},
		{"pattern ok", `{"name":"k","constraints":{"pattern":"[0-9]{2}"}}`, "12", "12", ""},
		{"integer", `{"name":"n","type":"integer"}`, " 42 ", int64(42), ""},
		{"integer not a number", `{"name":"n","type":"integer"}`, "4x", nil, "número entero"},
		{"integer out of int4", `{"name":"n","type":"integer"}`, "3000000000", nil, "fuera del rango"},
		{"bigint from bounds", `{"name":"n","type":"integer","constraints":{"maximum":10000000000}}`, "3000000000", int64(3000000000), ""},
		{"smallint range", `{"name":"n","type":"smallint"}`, "40000", nil, "fuera del rango"},
		{"minimum", `{"name":"n","type":"integer","constraints":{"minimum":0}}`, "-1", nil, "menor que el mínimo 0"},
		{"maximum", `{"name":"n","type":"number","constraints":{"maximum":9.5}}`, "9.6", nil, "mayor que el máximo 9.5"},
		{"numeric precision", `{"name":"n","type":"numeric(4,2)"}`, "123.4", nil, "precisión"},
		{"numeric ok", `{"name":"n","type":"numeric(4,2)"}`, "12.34", nil, ""},
		{"float", `{"name":"n","type":"double precision"}`, "1e3", 1000.0, ""},
		{"boolean spanish", `{"name":"b","type":"boolean"}`, "Sí", true, ""},
		{"boolean wrong", `{"name":"b","type":"boolean"}`, "quizá", nil, "valor lógico"},
		{"date iso", `{"name":"d","type":"date"}`, "2024-02-29", nil, ""},
		{"date wrong", `{"name":"d","type":"date"}`, "29/02/2024", nil, "AAAA-MM-DD"},
		{"date strftime", `{"name":"d","type":"date","format":"%d/%m/%Y"}`, "29/02/2024", nil, ""},
		{"date minimum", `{"name":"d","type":"date","constraints":{"minimum":"2020-01-01"}}`, "2019-12-31", nil, "anterior al mínimo 2020-01-01"},
		{"enum text", `{"name":"e","constraints":{"enum":["A","B"]}}`, "C", nil, "valores permitidos"},
		{"enum integer canonical", `{"name":"e","type":"integer","constraints":{"enum":[7,8]}}`, "007", int64(7), ""},
		{"json", `{"name":"j","type":"object"}`, `{"a":1}`, `{"a":1}`, ""},
		{"json wrong", `{"name":"j","type":"object"}`, `{a:1}`, nil, "JSON"},
		{"time", `{"name":"t","type":"time"}`, "13:45", pgtype.Time{Microseconds: (13*3600 + 45*60) * 1e6, Valid: true}, ""},
		{"interval through pgx", `{"name":"i","type":"interval"}`, "1 day", nil, ""},
		{"interval wrong", `{"name":"i","type":"interval"}`, "un día", nil, "interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := field(t, tt.field)
			v, why := c.parse(tt.cell)
			if why == "" {
				why = c.check(v, tt.cell)
			}
			if tt.why == "" {
				require.Empty(t, why)
				if tt.want != nil {
					require.Equal(t, tt.want, v)
				}
				return
			}
			require.Contains(t, why, tt.why)
		})
	}
}

func TestColumnDefinitionErrors(t *testing.T) {
	t.Parallel()
	for _, js := range []string{
		`{"name":"k","constraints":{"pattern":"[0-9"}}`,
		`{"name":"n","type":"integer","constraints":{"minimum":"cero"}}`,
		`{"name":"n","type":"integer","constraints":{"enum":["uno"]}}`,
		`{"name":"x","type":"tipo_inventado"}`,
	} {
		var f tableschema.Field
		require.NoError(t, json.Unmarshal([]byte(js), &f))
		_, err := newColumn(f, 1, false, pgtype.NewMap())
		require.Error(t, err, js)
	}
}

// FuzzColumnParse: any cell either converts, and then its canonical form
// converts to the same canonical form, or gets a Spanish reason; never a
// panic.
func FuzzColumnParse(f *testing.F) {
	for _, s := range []string{"", "0", "-12", "3000000000", "1e3", "12.345", "2024-02-29", "29/02/2024", "sí", "13:45", `{"a":1}`, "1 day", "Ñandú"} {
		f.Add(s)
	}
	defs := []string{
		`{"name":"t","type":"varchar(5)","constraints":{"pattern":"[0-9]+"}}`,
		`{"name":"i","type":"integer","constraints":{"minimum":0,"maximum":100}}`,
		`{"name":"n","type":"numeric(6,2)"}`,
		`{"name":"f","type":"number"}`,
		`{"name":"b","type":"boolean"}`,
		`{"name":"d","type":"date","format":"any"}`,
		`{"name":"ts","type":"datetime"}`,
		`{"name":"h","type":"time"}`,
		`{"name":"j","type":"object"}`,
		`{"name":"iv","type":"interval"}`,
	}
	cols := newColumns(f, defs)
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range cols {
			v, why := c.parse(s)
			if why != "" {
				if v != nil {
					t.Fatalf("%s: %q: a value and a reason", c.name, s)
				}
				continue
			}
			_ = c.check(v, s)
			if c.kind == kOther || c.kind == kTime {
				continue
			}
			canon := c.canonical(v)
			v2, why := c.parse(canon)
			if why == "" && c.canonical(v2) != canon && c.kind != kNumeric && c.kind != kFloat {
				t.Fatalf("%s: %q → %q → %q", c.name, s, canon, c.canonical(v2))
			}
		}
	})
}
