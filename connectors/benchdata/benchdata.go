// Package benchdata generates the benchmark file of the load pipeline: a CSV
// of N rows × 12 columns (1,000,000 rows ≈ 91 MB) with a primary key that
// keeps its leading zeros, text with accents and quoted commas, integers,
// decimals, dates and booleans. The same seed gives the same bytes, so
// figures are comparable between runs and machines.
//
// From a shell: go run ./connectors/benchdata/cmd/benchdata --rows 1000000 > bench.csv
package benchdata

import (
	"bufio"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// DefaultRows is the size of the benchmark file.
const DefaultRows = 1_000_000

// Field is a column of the file with its Frictionless Table Schema type.
type Field struct {
	Name string
	Type string // string, integer, number, date, boolean
}

// Fields are the file's columns, in order; clave is the primary key.
var Fields = []Field{
	{"clave", "string"},
	{"nombre", "string"},
	{"municipio", "string"},
	{"domicilio", "string"},
	{"poblacion", "integer"},
	{"viviendas", "integer"},
	{"superficie", "number"},
	{"tasa", "number"},
	{"alta", "date"},
	{"cve_mun", "string"},
	{"vigente", "boolean"}, // not "activo": that is the control column every catalog table has
	{"cp", "string"},
}

var (
	nombres    = []string{"José", "María", "Ángel", "Sofía", "Raúl", "Inés", "Iñaki", "Begoña", "Jesús", "Mónica", "Óscar", "Lucía"}
	municipios = []string{"Acámbaro", "Pénjamo", "León", "Celaya", "San José Iturbide", "Apaseo el Alto", "Jerécuaro", "Tarimoro",
		"Salvatierra", "Irapuato", "Guanajuato", "Cortazar", "Doctor Mora", "Yuriria"}
	calles = []string{"Juárez", "Hidalgo", "Morelos", "Allende", "Insurgentes", "Constitución", "Reforma", "Madero"}
	epoch  = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Header is the file's first line.
func Header() []byte {
	var b []byte
	for i, f := range Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, f.Name...)
	}
	return append(b, '\n')
}

// AppendRow appends row i (1-based) of the file made with seed to b.
func AppendRow(b []byte, i int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	b = appendPadded(b, i, 7)
	b = append(b, ',')
	b = append(b, nombres[r.IntN(len(nombres))]...)
	b = append(b, ',')
	b = append(b, municipios[r.IntN(len(municipios))]...)
	b = append(b, ',')
	if r.IntN(10) == 0 { // a quoted field with the delimiter inside
		b = append(b, '"')
		b = append(b, calles[r.IntN(len(calles))]...)
		b = append(b, ", Centro\""...)
	} else {
		b = append(b, calles[r.IntN(len(calles))]...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(1+r.IntN(999)), 10)
	}
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.IntN(500_000)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.IntN(100_000)), 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(r.IntN(10_000)), 10)
	b = append(b, '.')
	b = appendPadded(b, r.IntN(100), 2)
	b = append(b, ',')
	if r.IntN(4) == 0 {
		b = append(b, '-')
	}
	b = strconv.AppendInt(b, int64(r.IntN(10)), 10)
	b = append(b, '.')
	b = appendPadded(b, r.IntN(100), 2)
	b = append(b, ',')
	b = epoch.AddDate(0, 0, r.IntN(9000)).AppendFormat(b, time.DateOnly)
	b = append(b, ',')
	b = appendPadded(b, 1+r.IntN(46), 3)
	b = append(b, ',')
	if r.IntN(10) == 0 {
		b = append(b, "false"...)
	} else {
		b = append(b, "true"...)
	}
	b = append(b, ',')
	b = appendPadded(b, 1000+r.IntN(99_000), 5)
	return append(b, '\n')
}

func appendPadded(b []byte, n, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// Write writes the file of rows rows made with seed to w.
func Write(w io.Writer, rows int, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.Write(Header()); err != nil {
		return err
	}
	var line []byte
	for i := 1; i <= rows; i++ {
		line = AppendRow(line[:0], i, seed)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// Reader streams the file of rows rows made with seed, generating it as it
// is read: a benchmark can serve or decode it without a file on disk.
func Reader(rows int, seed uint64) io.Reader {
	return &reader{rows: rows, seed: seed, buf: Header()}
}

type reader struct {
	rows, next int
	seed       uint64
	buf, line  []byte
}

func (r *reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.buf) == 0 {
			if r.next >= r.rows {
				break
			}
			r.next++
			r.line = AppendRow(r.line[:0], r.next, r.seed)
			r.buf = r.line
		}
		c := copy(p[n:], r.buf)
		n += c
		r.buf = r.buf[c:]
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}
