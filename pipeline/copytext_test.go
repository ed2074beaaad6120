package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/benchdata"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

func TestAppendCopyText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"León", "León"},
		{`a\b`, `a\\b`},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{`\N`, `\\N`},
		{`\.`, `\\.`},
		{"fin\\", `fin\\`},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, string(appendCopyText(nil, tt.in)), "%q", tt.in)
	}
}

func TestAppendNumeric(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"12.340", "12.340"}, {"-0.5", "-0.5"}, {"1e3", "1000"}, {"-12e-4", "-0.0012"}, {"1.5E+2", "150"}, {"0", "0"},
	} {
		var n pgtype.Numeric
		require.NoError(t, n.ScanScientific(tt.in))
		require.Equal(t, tt.want, string(appendNumeric(nil, n)), tt.in)
	}
}

// copyDefs are the column definitions the round trip tests load, one of
// each kind the encoder writes.
var copyDefs = []string{
	`{"name":"t","type":"string"}`,
	`{"name":"vc","type":"varchar(5)","constraints":{"pattern":"[0-9A-Za-z]*"}}`,
	`{"name":"i","type":"integer"}`,
	`{"name":"si","type":"smallint","constraints":{"minimum":0}}`,
	`{"name":"bi","type":"bigint"}`,
	`{"name":"f","type":"double precision"}`,
	`{"name":"r","type":"real"}`,
	`{"name":"n","type":"number"}`,
	`{"name":"n2","type":"numeric(6,2)"}`,
	`{"name":"b","type":"boolean"}`,
	`{"name":"d","type":"date","format":"any"}`,
	`{"name":"ts","type":"timestamp"}`,
	`{"name":"tz","type":"datetime"}`,
	`{"name":"h","type":"time"}`,
	`{"name":"j","type":"object"}`,
	`{"name":"iv","type":"interval"}`,
	`{"name":"u","type":"uuid"}`,
}

// newColumns builds one column per field definition (JSON).
func newColumns(t testing.TB, defs []string) []*column {
	t.Helper()
	types := pgtype.NewMap()
	var cols []*column
	for i, d := range defs {
		var f tableschema.Field
		dec := json.NewDecoder(strings.NewReader(d))
		dec.UseNumber()
		require.NoError(t, dec.Decode(&f))
		c, err := newColumn(f, i+1, false, types)
		require.NoError(t, err)
		cols = append(cols, c)
	}
	return cols
}

// roundTrip loads the cells through both encodings PostgreSQL may receive:
// the COPY text this package writes, and the value parse converts sent as a
// bound parameter; for each column it requires that PostgreSQL reads the
// same value (compared as PostgreSQL's own text of it), and that appendCell
// accepts exactly what parse and check accept, with the same reason.
type roundTrip struct {
	pool *pgxpool.Pool
	cols []*column
}

func newRoundTrip(t testing.TB) *roundTrip {
	t.Helper()
	pool := pgtest.New(t)
	cols := newColumns(t, copyDefs)
	var defs []string
	for _, c := range cols {
		defs = append(defs, fmt.Sprintf("%s %s", pgx.Identifier{c.name}.Sanitize(), c.sql))
	}
	_, err := pool.Exec(context.Background(), "CREATE TABLE public.copy_round_trip (id bigint, "+strings.Join(defs, ", ")+")")
	require.NoError(t, err)
	return &roundTrip{pool: pool, cols: cols}
}

func (rt *roundTrip) check(t testing.TB, id int64, cell string) {
	t.Helper()
	ctx := context.Background()
	for _, c := range rt.cols {
		v, why := c.parse(cell)
		typ := ErrType
		if why == "" {
			if why = c.check(v, cell); why != "" {
				typ = ErrConstraint
			}
		}
		out, gotTyp, gotWhy := c.appendCell(nil, cell)
		require.Equal(t, why, gotWhy, "%s: %q", c.name, cell)
		if why != "" {
			require.Equal(t, typ, gotTyp, "%s: %q", c.name, cell)
			continue
		}
		require.NotContains(t, string(out), "\n", "%s: %q", c.name, cell)
		line := fmt.Appendf(nil, "%d\t%s\n", id, out)
		col := pgx.Identifier{c.name}.Sanitize()
		_, copyErr := copyText(ctx, rt.pool, pgx.Identifier{"public", "copy_round_trip"}, []string{"id", c.name}, bytes.NewReader(line))
		var viaCopy, viaParam string
		paramErr := rt.pool.QueryRow(ctx, fmt.Sprintf("SELECT ($1::%s)::text", c.sql), v).Scan(&viaParam)
		// What PostgreSQL refuses (a JSON number beyond numeric's range),
		// it refuses both ways.
		require.Equal(t, paramErr != nil, copyErr != nil, "%s: %q: %q: copy %v, parameter %v", c.name, cell, line, copyErr, paramErr)
		if copyErr != nil {
			continue
		}
		require.NoError(t, rt.pool.QueryRow(ctx, "SELECT "+col+"::text FROM public.copy_round_trip WHERE id = $1 AND "+col+" IS NOT NULL", id).Scan(&viaCopy))
		require.Equal(t, viaParam, viaCopy, "%s: %q", c.name, cell)
	}
}

func TestCopyTextRoundTrip(t *testing.T) {
	t.Parallel()
	rt := newRoundTrip(t)
	for i, cell := range copySeeds {
		rt.check(t, int64(i), cell)
	}
}

var copySeeds = []string{
	"", "0", "007", " 42 ", "-12", "3000000000", "-9223372036854775808", "1e3", "1.5E-3", "-0.000", "12.345", "+.5", "5.",
	"NaN", "Inf", "-Infinity", "3.4e39", "1e-400", "0x1p3", "sí", "F", "verdadero",
	"2024-02-29", "29/02/2024", "0000-01-01", "9999-12-31", "2024-02-29T10:11:12.9999999-06:00", "2024-02-29 10:11",
	"13:45", "23:59:59.999999", `{"a":"b\\c"}`, "[1, 2]", "1 day", "un día",
	"León\tGto.", "línea\r\nnueva", `C:\ruta\N`, `\.`, "a\\", "Ñandú", "123e4567-e89b-12d3-a456-426614174000",
}

// FuzzCopyText: whatever a cell holds, the COPY text of every column that
// accepts it parses back in PostgreSQL to the value the binary encoding of
// its parsed value gives, and acceptance and reasons are those of parse
// and check.
func FuzzCopyText(f *testing.F) {
	for _, s := range copySeeds {
		f.Add(s)
	}
	rt := newRoundTrip(f)
	var id int64
	f.Fuzz(func(t *testing.T, cell string) {
		if !utf8.ValidString(cell) || strings.ContainsRune(cell, 0) {
			t.Skip("PostgreSQL text holds valid UTF-8 without NUL; the CSV reader guards it")
		}
		id++
		rt.check(t, id, cell)
	})
}

// TestTypedCells: typed Arrow values (a database source) are written as
// PostgreSQL reads them, and out-of-range ones are refused with parse's
// reason.
func TestTypedCells(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	col := func(js string) *column { return field(t, js) }
	i64 := array.NewInt64Builder(mem)
	defer i64.Release()
	i64.AppendValues([]int64{7, 40000}, nil)
	ints := i64.NewArray()
	defer ints.Release()
	d32 := array.NewDate32Builder(mem)
	defer d32.Release()
	d32.Append(arrow.Date32FromTime(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)))
	dates := d32.NewArray()
	defer dates.Release()
	f64 := array.NewFloat64Builder(mem)
	defer f64.Release()
	f64.Append(0.1)
	floats := f64.NewArray()
	defer floats.Release()

	tests := []struct {
		name, def string
		arr       arrow.Array
		i         int
		want, why string
	}{
		{"integer", `{"name":"n","type":"smallint"}`, ints, 0, "7", ""},
		{"integer out of range", `{"name":"n","type":"smallint"}`, ints, 1, "", "fuera del rango"},
		{"integer with a minimum", `{"name":"n","type":"integer","constraints":{"minimum":10}}`, ints, 0, "", "menor que el mínimo"},
		{"date", `{"name":"d","type":"date"}`, dates, 0, "2024-02-29", ""},
		{"double", `{"name":"f","type":"number","constraints":{"maximum":1}}`, floats, 0, "0.1", ""},
		{"double into real", `{"name":"f","type":"real"}`, floats, 0, "0.1", ""},
		{"integer into text", `{"name":"t","type":"string"}`, ints, 1, "40000", ""},
	}
	for _, tt := range tests {
		out, _, _, why := col(tt.def).appendTypedCell(nil, tt.arr, tt.i)
		if tt.why != "" {
			require.Contains(t, why, tt.why, tt.name)
			continue
		}
		require.Empty(t, why, tt.name)
		require.Equal(t, tt.want, string(out), tt.name)
	}
}

// BenchmarkRowSource is the Go half of a load: the benchmark file's rows
// decoded, converted, checked and written as COPY text (the rows per
// second and allocations per row of the ingest process's own work).
func BenchmarkRowSource(b *testing.B) {
	const rows = 100_000
	var text []byte
	text = append(text, benchdata.Header()...)
	for i := 1; i <= rows; i++ {
		text = benchdata.AppendRow(text, i, 1)
	}
	res := benchResource("cat_bench")
	cols, err := columnsOf(&res, pgtype.NewMap())
	require.NoError(b, err)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		stream := newCSVStream(b, memory.DefaultAllocator, string(text), connectors.DefaultBatchSize)
		src, labels := bindColumns(cols, stream.Schema())
		require.Empty(b, labels)
		v := &validator{cols: cols, src: src, missing: map[string]bool{"": true}, errs: newCollector(10), rowBase: 2}
		rs := newRowSource(context.Background(), stream, v, 0)
		rs.noRowNumber = true
		_, err := io.Copy(io.Discard, rs)
		require.NoError(b, err)
		require.Equal(b, int64(rows), rs.valid.Load())
		stream.Close()
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestLoadEscapedCells: cells that COPY text must escape (tab, newline,
// carriage return, backslash, a literal \N) reach the live table exactly,
// on a first load (straight into the live table) and on a re-load through
// staging; an empty cell is NULL.
func TestLoadEscapedCells(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, `{"name": "cat_nota", "title": "Notas", "description": "Notas de prueba.",
 "schema": {"fields": [
   {"name": "id_nota", "type": "string", "description": "Clave.", "constraints": {"required": true}},
   {"name": "texto", "type": "string", "description": "Texto."},
   {"name": "monto", "type": "numeric(8,2)", "description": "Monto."}
 ], "primaryKey": "id_nota"}}`, false)
	want := map[string]*string{}
	text := "id_nota,texto,monto\n"
	for i, cell := range []string{"a\tb", "línea\nnueva", "c\r\nd", `C:\ruta\N`, `\N`, `\.`, "fin\\", "", `"comillas"`} {
		key := fmt.Sprintf("%03d", i)
		quoted := `"` + strings.ReplaceAll(cell, `"`, `""`) + `"`
		if cell == "" {
			quoted, want[key] = "", nil
		} else {
			c := strings.ReplaceAll(cell, "\r\n", "\n") // encoding/csv folds CRLF inside quotes
			want[key] = &c
		}
		text += fmt.Sprintf("%s,%s,%d.5\n", key, quoted, i)
	}
	check := func(version int) {
		t.Helper()
		rows, err := b.pool.Query(b.ctx, `SELECT id_nota, texto FROM cat.cat_nota WHERE activo`)
		require.NoError(t, err)
		got := map[string]*string{}
		for rows.Next() {
			var k string
			var v *string
			require.NoError(t, rows.Scan(&k, &v))
			got[k] = v
		}
		require.NoError(t, rows.Err())
		require.Equal(t, want, got, "version %d", version)
	}
	run := b.load(t, "nota", text, 4)
	require.Equal(t, Succeeded, run.State, run.Error)
	check(1)
	// A re-load with one more row goes through staging.
	want["999"] = ptr("otra\tmás")
	run = b.load(t, "nota", text+"999,\"otra\tmás\",1\n", 4)
	require.Equal(t, Succeeded, run.State, run.Error)
	require.EqualValues(t, 1, run.RowsAdded)
	check(2)
}

func ptr(s string) *string { return &s }
