package decode_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/decode"
)

// result is a whole stream read into memory, for assertions.
type result struct {
	names  []string
	rows   [][]string // null cells are "<nil>"
	issues []connectors.RowIssue
	prog   connectors.Progress
	err    error
}

// decodeAll opens src per opt and reads it to the end with a checked
// allocator that proves every batch was released.
func decodeAll(t *testing.T, src []byte, name string, opt connectors.Options) (result, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opt.Allocator = mem
	st, err := decode.Open(context.Background(), decode.Input{R: bytes.NewReader(src), Name: name, Size: int64(len(src))}, opt)
	if err != nil {
		return result{}, err
	}
	defer st.Close()
	res := result{names: connectors.Names(st.Schema())}
	for st.Next() {
		rec := st.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				if col.IsNull(i) {
					row[j] = "<nil>"
				} else {
					row[j] = col.ValueStr(i)
				}
			}
			res.rows = append(res.rows, row)
		}
	}
	res.err = st.Err()
	res.issues = st.Issues()
	res.prog = st.Progress()
	return res, nil
}

func TestCSVVariants(t *testing.T) {
	t.Parallel()
	want := [][]string{{"01", "Cosío", "17000"}, {"002", "San José, Iturbide", "3"}}
	latin1 := []byte("clave,nombre,total\n01,Cos\xedo,17000\n002,\"San Jos\xe9, Iturbide\",3\n")
	yes, no := true, false
	tests := []struct {
		name string
		src  string
		opt  connectors.Options
		want [][]string
	}{
		{"utf-8", "clave,nombre,total\n01,Cosío,17000\n002,\"San José, Iturbide\",3\n", connectors.Options{}, want},
		{"utf-8 with BOM", "\xef\xbb\xbfclave,nombre,total\n01,Cosío,17000\n002,\"San José, Iturbide\",3\n", connectors.Options{}, want},
		{"iso-8859-1 detected", string(latin1), connectors.Options{}, want},
		{"iso-8859-1 declared", string(latin1), connectors.Options{Encoding: "latin1"}, want},
		{"windows-1252 detected", "clave,nombre,total\n01,\x93Cos\xedo\x94,17000\n", connectors.Options{},
			[][]string{{"01", "“Cosío”", "17000"}}},
		{"semicolon", "clave;nombre;total\r\n01;Cosío;17000\r\n002;San José, Iturbide;3\r\n", connectors.Options{}, want},
		{"tab", "clave\tnombre\ttotal\n01\tCosío\t17000\n002\tSan José, Iturbide\t3", connectors.Options{}, want},
		{"pipe", "clave|nombre|total\n01|Cosío|17000\n002|San José, Iturbide|3\n", connectors.Options{}, want},
		{"declared delimiter", "clave;nombre;total\n01;Cosío;17000\n002;San José, Iturbide;3\n", connectors.Options{Delimiter: ';'}, want},
		{"CRLF without final newline", "clave,nombre,total\r\n01,Cosío,17000\r\n002,\"San José, Iturbide\",3", connectors.Options{}, want},
		{"quoted newline and quotes", "clave,nombre,total\n01,\"Cosío\nnorte \"\"A\"\"\",17000\n", connectors.Options{},
			[][]string{{"01", "Cosío\nnorte \"A\"", "17000"}}},
		{"declared columns, no header", "01,Cosío,17000\n002,\"San José, Iturbide\",3\n",
			connectors.Options{Columns: []string{"clave", "nombre", "total"}}, want},
		{"declared columns, header detected", "CLAVE,Nombre,total\n01,Cosío,17000\n002,\"San José, Iturbide\",3\n",
			connectors.Options{Columns: []string{"clave", "nombre", "total"}}, want},
		{"declared columns replace header", "a,b,c\n01,Cosío,17000\n002,\"San José, Iturbide\",3\n",
			connectors.Options{Columns: []string{"clave", "nombre", "total"}, Header: &yes}, want},
		{"empty cells are null", "clave,nombre,total\n01,,17000\n", connectors.Options{}, [][]string{{"01", "<nil>", "17000"}}},
		{"small batches", "clave,nombre,total\n01,Cosío,17000\n002,\"San José, Iturbide\",3\n", connectors.Options{BatchSize: 1}, want},
		{"no header", "01,Cosío,17000\n", connectors.Options{Header: &no}, [][]string{{"01", "Cosío", "17000"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := decodeAll(t, []byte(tc.src), "x.csv", tc.opt)
			require.NoError(t, err)
			require.NoError(t, res.err)
			assert.Empty(t, res.issues)
			if tc.opt.Header != nil && !*tc.opt.Header && tc.opt.Columns == nil {
				assert.Equal(t, []string{"columna_1", "columna_2", "columna_3"}, res.names)
			} else {
				assert.Equal(t, []string{"clave", "nombre", "total"}, res.names)
			}
			assert.Equal(t, tc.want, res.rows)
			assert.Equal(t, int64(len(tc.want)), res.prog.Rows)
			assert.Equal(t, int64(len(tc.src)), res.prog.Bytes)
		})
	}
}

func TestCSVErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		opt     connectors.Options
		wantErr []string // fragments of the Spanish message
	}{
		{"empty file", "", connectors.Options{}, []string{"vacío"}},
		{"declared utf-8 but latin1", "clave,nombre\n01,Cosío\n02,Cos\xedo\n", connectors.Options{Encoding: "utf-8"},
			[]string{"fila 3", "columna «nombre»", "Cos\uFFFDo", "UTF-8"}},
		{"unknown encoding", "a\n1\n", connectors.Options{Encoding: "ebcdic"}, []string{"codificación «ebcdic» no soportada"}},
		{"duplicated column", "a,b,A\n1,2,3\n", connectors.Options{}, []string{"fila 1", "repite"}},
		{"bad quotes", "a,b\n1,\"abc\n", connectors.Options{}, []string{"fila 2", "comillas"}},
		{"bare quote", "a,b\n1,ab\"c\n", connectors.Options{}, []string{"fila 2", "comillas"}},
		{"too many rows", "a\n1\n2\n3\n4\n", connectors.Options{MaxRows: 3}, []string{"límite de 3"}},
		{"too many bytes", "a\n" + strings.Repeat("1\n", 100), connectors.Options{MaxBytes: 50}, []string{"límite de 50 bytes"}},
		{"unknown format", "a\n1\n", connectors.Options{Format: "xlsx"}, []string{"formato «xlsx»"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := decodeAll(t, []byte(tc.src), "x.csv", tc.opt)
			if err == nil {
				err = res.err
			}
			require.Error(t, err)
			for _, frag := range tc.wantErr {
				assert.Contains(t, err.Error(), frag)
			}
			var re *connectors.RowError
			assert.True(t, errors.As(err, &re), "a RowError says where")
		})
	}
}

// Invalid UTF-8 far past the sample the encoding is detected from is still
// caught, with its row.
func TestCSVLateInvalidUTF8(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	b.WriteString("clave,nombre\n")
	for b.Len() < 200<<10 {
		b.WriteString("01,Cosío\n")
	}
	rows := strings.Count(b.String(), "\n")
	b.WriteString("02,Cos\xedo\n")
	res, err := decodeAll(t, b.Bytes(), "x.csv", connectors.Options{})
	require.NoError(t, err)
	require.Error(t, res.err)
	assert.Contains(t, res.err.Error(), "fila "+itoa(rows+1))
	assert.Less(t, len(res.rows), rows-1, "the batch with the bad row is not delivered")
	assert.Equal(t, int64(len(res.rows)), res.prog.Rows)
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCSVRaggedRows(t *testing.T) {
	t.Parallel()
	src := "clave,nombre,total\n01,Cosío,17000\n02,Asientos\n03,Calvillo,58250,extra\n04,Jesús María,1\n"
	res, err := decodeAll(t, []byte(src), "x.csv", connectors.Options{BatchSize: 2})
	require.NoError(t, err)
	require.NoError(t, res.err, "a ragged row does not end the stream")
	assert.Equal(t, [][]string{{"01", "Cosío", "17000"}, {"04", "Jesús María", "1"}}, res.rows)
	require.Len(t, res.issues, 2)
	assert.Equal(t, connectors.RowIssue{Row: 3, Column: "total", Code: connectors.IssueMissingCell,
		Message: "la fila tiene 2 valores y el encabezado 3 columnas; falta «total»; se omitió la fila"}, res.issues[0])
	assert.Equal(t, int64(4), res.issues[1].Row)
	assert.Equal(t, connectors.IssueExtraCell, res.issues[1].Code)
	assert.Equal(t, "extra", res.issues[1].Value)
	assert.Equal(t, int64(2), res.prog.Issues)
}

func TestIssuesCappedCountExact(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("a,b\n")
	for range connectors.MaxIssues + 50 {
		b.WriteString("1\n")
	}
	res, err := decodeAll(t, []byte(b.String()), "x.csv", connectors.Options{})
	require.NoError(t, err)
	require.NoError(t, res.err)
	assert.Equal(t, connectors.MaxIssues, len(res.issues))
	assert.Equal(t, int64(connectors.MaxIssues+50), res.prog.Issues)
}

func TestCSVHeaderOnly(t *testing.T) {
	t.Parallel()
	res, err := decodeAll(t, []byte("clave,nombre\n"), "x.csv", connectors.Options{})
	require.NoError(t, err)
	require.NoError(t, res.err)
	assert.Equal(t, []string{"clave", "nombre"}, res.names)
	assert.Empty(t, res.rows)
}

// The INEGI files: the UTF-8 and the ISO-8859-1 export decode to the same
// rows, keys keep their leading zeros.
func TestINEGI(t *testing.T) {
	t.Parallel()
	read := func(name string) result {
		src, err := os.ReadFile("../../testdata/inegi/" + name)
		require.NoError(t, err)
		res, err := decodeAll(t, src, name, connectors.Options{})
		require.NoError(t, err)
		require.NoError(t, res.err)
		require.Empty(t, res.issues)
		return res
	}
	utf8 := read("municipios_utf8.csv")
	latin1 := read("municipios_latin1.csv")
	assert.Equal(t, 2478, len(utf8.rows))
	assert.Equal(t, utf8, result{names: latin1.names, rows: latin1.rows, prog: connectors.Progress{
		Rows: latin1.prog.Rows, Bytes: utf8.prog.Bytes, TotalBytes: utf8.prog.TotalBytes}})
	assert.Equal(t, []string{"01", "Aguascalientes", "004", "Cosío", "01004", "0001", "Cosío", "17000", "3938"}, utf8.rows[3])
	gto := read("municipios_guanajuato_utf8.csv")
	assert.Len(t, gto.rows, 46)
	assert.Equal(t, "Acámbaro", gto.rows[1][3])

	js := read("municipios_completo.json")
	assert.Equal(t, 2478, len(js.rows))
	assert.Equal(t, []string{"cve_entidad", "nom_entidad", "nom_abr_entidad", "cve_municipio", "nom_municipio", "cve_completa",
		"cve_cabecera", "nom_cabecera", "poblacion_total", "poblacion_masculina", "poblacion_femenina", "viviendas_habitadas"}, js.names)
	assert.Equal(t, []string{"01", "Aguascalientes", "Ags.", "001", "Aguascalientes", "01001", "0001", "Aguascalientes",
		"948990", "462073", "486917", "266942"}, js.rows[0])
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, ct, head, want string }{
		{"a.csv", "", "x", "csv"},
		{"a.bin", "text/csv; charset=utf-8", "x", "csv"},
		{"a.json", "", "[{}]", "json"},
		{"a.json", "", "{}\n{}", "ndjson"},
		{"", "application/json", "  {\"a\":1}\n", "ndjson"},
		{"", "application/x-ndjson", "{}", "ndjson"},
		{"a.parquet", "", "", "parquet"},
		{"", "", "PAR1....", "parquet"},
		{"", "", "ARROW1\x00\x00", "arrow"},
		{"", "", "\xff\xff\xff\xff", "arrow"},
		{"", "", "[1]", "json"},
		{"", "application/octet-stream", "a,b\n", "csv"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, decode.Detect(tc.name, tc.ct, []byte(tc.head)), "%+v", tc)
	}
}

func TestDetectDelimiterRagged(t *testing.T) {
	t.Parallel()
	sample := "a;b;c\n1;2;3\n1;2\n1;2;3\n1;2;3\n1;2;3\n"
	assert.Equal(t, ';', decode.DetectDelimiter([]byte(sample), true))
	assert.Equal(t, ',', decode.DetectDelimiter([]byte("solo\nuna\ncolumna\n"), true))
}

func TestJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		opt       connectors.Options
		names     []string
		rows      [][]string
		issues    int
		err       string
	}{
		{name: "array", src: `[{"clave":"01","n":1.50,"ok":true,"x":null,"o":{"a":[1]}},{"clave":"02","n":2}]`,
			names: []string{"clave", "n", "ok", "x", "o"},
			rows:  [][]string{{"01", "1.50", "true", "<nil>", `{"a":[1]}`}, {"02", "2", "<nil>", "<nil>", "<nil>"}}},
		{name: "ndjson", src: "{\"clave\":\"01\",\"nombre\":\"Cosío\"}\n{\"nombre\":\"Asientos\",\"clave\":\"002\"}\n",
			names: []string{"clave", "nombre"}, rows: [][]string{{"01", "Cosío"}, {"002", "Asientos"}}},
		{name: "extra key is an issue", src: "{\"a\":\"1\"}\n{\"a\":\"2\",\"b\":\"3\"}\n{\"a\":\"4\"}",
			names: []string{"a"}, rows: [][]string{{"1"}, {"4"}}, issues: 1},
		{name: "declared columns", src: `[{"b":"1","a":"2"}]`, opt: connectors.Options{Columns: []string{"a", "b"}},
			names: []string{"a", "b"}, rows: [][]string{{"2", "1"}}},
		{name: "empty array", src: `[]`, err: "no tiene objetos"},
		{name: "latin1 in JSON", src: "[{\"a\":\"ok\"},{\"a\":\"Cos\xedo\"}]", names: []string{"a"}, err: "fila 2, columna «a», valor «\"Cos\uFFFDo\"»: el texto no es UTF-8 válido"},
		{name: "not objects", src: `[{"a":1}, 2]`, names: []string{"a"}, err: "fila 2"},
		{name: "truncated", src: `[{"a":1}, {"a":`, names: []string{"a"}, err: "fila 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := decodeAll(t, []byte(tc.src), "", tc.opt)
			if err == nil {
				err = res.err
			}
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.names, res.names)
			assert.Equal(t, tc.rows, res.rows)
			assert.Len(t, res.issues, tc.issues)
		})
	}
}

// FuzzCSV feeds arbitrary bytes to the CSV decoder: it must never panic,
// never leak a batch, and every batch it yields has the schema's width.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a;b\r\n\"x;\"\"y\";2", "\xef\xbb\xbfa\tb\n1\t2\n3", "a|b\n1|\n\xed,\"\n", "", "\"", "a\n\"\n\"\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		st, err := decode.Open(context.Background(), decode.Input{R: bytes.NewReader(src)},
			connectors.Options{Format: "csv", BatchSize: 3, Allocator: mem})
		if err != nil {
			return
		}
		defer st.Close()
		width := st.Schema().NumFields()
		var rows int64
		for st.Next() {
			rec := st.RecordBatch()
			require.Equal(t, int64(width), rec.NumCols())
			for _, col := range rec.Columns() {
				require.Equal(t, rec.NumRows(), int64(col.Len()))
				require.Equal(t, arrow.STRING, col.DataType().ID())
				_ = col.(*array.String)
			}
			rows += rec.NumRows()
		}
		require.Equal(t, rows, st.Progress().Rows)
	})
}

// FuzzUTF8Guard: a source declared UTF-8 ends in an error exactly when it
// is not valid UTF-8, however its bytes arrive (tiny reads cut runes).
func FuzzUTF8Guard(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n", "a\nCos\xc3\xado\n", "a\nCos\xedo\n", "a\n\xe2\x82", "a\n\"\xf0\x9f\x98\x80\"\n"} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, src []byte, step uint8) {
		st, err := decode.Open(context.Background(), decode.Input{R: &trickle{b: src, step: int(step%7) + 1}},
			connectors.Options{Format: "csv", Encoding: "utf-8", Delimiter: ',', BatchSize: 2})
		if err == nil {
			for st.Next() {
			}
			err = st.Err()
			_ = st.Close()
		}
		valid := utf8.Valid(bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")))
		if !valid {
			require.Error(t, err, "invalid UTF-8 must be reported")
		}
		if valid && err != nil {
			require.NotContains(t, err.Error(), "UTF-8 válido")
		}
	})
}

// trickle returns its bytes a few at a time.
type trickle struct {
	b    []byte
	step int
}

func (r *trickle) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.step)], r.b)
	r.b = r.b[n:]
	return n, nil
}
