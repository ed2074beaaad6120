package decode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// delimiters are the ones detected, in order of preference on a tie.
var delimiters = []rune{',', ';', '\t', '|'}

func openCSV(ctx context.Context, br *bufio.Reader, opt connectors.Options, counter *connectors.Counter, closeFn func() error) (connectors.Stream, error) {
	text, enc, err := textReader(br, opt.Encoding)
	if err != nil {
		return nil, err
	}
	var guard *utf8Guard
	if enc == connectors.EncodingUTF8 {
		guard = &utf8Guard{r: text}
		text = guard
	}
	tr := bufio.NewReaderSize(text, sniffSize+4096)
	delim := opt.Delimiter
	if delim == 0 {
		head, err := tr.Peek(sniffSize)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
			return nil, readError(err)
		}
		delim = DetectDelimiter(head, errors.Is(err, io.EOF))
	}
	if delim == '"' || delim == '\r' || delim == '\n' || !utf8.ValidRune(delim) || delim == utf8.RuneError {
		return nil, &connectors.RowError{Message: fmt.Sprintf("separador %q no válido", delim)}
	}
	ln := &lines{br: tr}
	r := csv.NewReader(ln)
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	d := &csvDecoder{r: r, lines: ln, guard: guard, delim: delim, plain: delim < utf8.RuneSelf}

	first, err := d.read()
	if errors.Is(err, io.EOF) {
		return nil, &connectors.RowError{Message: "el origen no tiene filas ni encabezado"}
	}
	if err != nil {
		return nil, err
	}
	names, dataFirst, err := columns(first, opt)
	if err != nil {
		return nil, err
	}
	if dataFirst {
		d.pending = append([]string(nil), first...)
	}
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	d.names = names
	schema := arrow.NewSchema(fields, nil)
	return connectors.NewStream(ctx, schema, opt, counter, d.fill, closeFn), nil
}

// columns decides the column names and whether the first record is data.
func columns(first []string, opt connectors.Options) (names []string, dataFirst bool, err error) {
	if len(opt.Columns) > 0 {
		header := opt.Header != nil && *opt.Header
		if opt.Header == nil {
			header = sameNames(first, opt.Columns)
		}
		return opt.Columns, !header, nil
	}
	if opt.Header != nil && !*opt.Header {
		names = make([]string, len(first))
		for i := range first {
			names[i] = fmt.Sprintf("columna_%d", i+1)
		}
		return names, true, nil
	}
	names = make([]string, len(first))
	seen := make(map[string]int, len(first))
	for i, h := range first {
		h = strings.TrimSpace(h)
		if h == "" {
			h = fmt.Sprintf("columna_%d", i+1)
		}
		if j, ok := seen[strings.ToLower(h)]; ok {
			return nil, false, &connectors.RowError{Row: 1, Column: h, Message: fmt.Sprintf(
				"el encabezado repite la columna (posiciones %d y %d)", j+1, i+1)}
		}
		seen[strings.ToLower(h)] = i
		names[i] = h
	}
	return names, false, nil
}

func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !strings.EqualFold(strings.TrimSpace(a[i]), strings.TrimSpace(b[i])) {
			return false
		}
	}
	return true
}

type csvDecoder struct {
	r *csv.Reader
	// lines feeds r; a line without quotes is split by the decoder itself
	// (plain, when the delimiter is one byte), which is most of a CSV's
	// lines and several times cheaper than encoding/csv.
	lines   *lines
	plain   bool
	fields  [][]byte
	names   []string
	pending []string
	row     int64      // records read so far, the header included
	guard   *utf8Guard // nil when the text is decoded from a single-byte encoding
	delim   rune
	dataLen []int // bytes per column in the last batch
}

// read returns the next record, its fields checked for UTF-8.
func (d *csvDecoder) read() ([]string, error) {
	rec, err := d.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, d.parseError(err)
	}
	d.row++
	if err := checkUTF8(d, rec); err != nil {
		return nil, err
	}
	return rec, nil
}

// checkUTF8 checks the fields of record d.row for UTF-8 once the guard
// has seen an invalid sequence, and says which one is not.
func checkUTF8[F string | []byte](d *csvDecoder, fields []F) error {
	if d.guard == nil || !d.guard.bad {
		return nil
	}
	for i, f := range fields {
		if s := string(f); !utf8.ValidString(s) {
			col := fmt.Sprintf("%d", i+1)
			if i < len(d.names) {
				col = d.names[i]
			}
			return &connectors.RowError{Row: d.row, Column: col, Value: strings.ToValidUTF8(s, "\uFFFD"),
				Message: "el texto no es UTF-8 válido; declare la codificación del archivo (iso-8859-1 o windows-1252)"}
		}
	}
	return nil
}

func (d *csvDecoder) parseError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		what := "el CSV está mal formado"
		switch {
		case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
			what = "comillas mal formadas: un campo entre comillas debe cerrarlas y duplicar las comillas internas (\"\")"
		}
		// encoding/csv numbers only the lines it read.
		return &connectors.RowError{Row: d.row + 1, Message: fmt.Sprintf("%s (línea %d, carácter %d)", what, pe.Line+d.lines.fast, pe.Column)}
	}
	var re *connectors.RowError
	if errors.As(err, &re) {
		return err
	}
	return &connectors.RowError{Row: d.row + 1, Message: "no se pudo leer el origen", Err: err}
}

func (d *csvDecoder) fill(b *array.RecordBuilder, max int, report func(connectors.RowIssue)) (int, error) {
	n := 0
	builders := make([]*array.StringBuilder, len(d.names))
	if d.dataLen == nil {
		d.dataLen = make([]int, len(d.names))
	}
	for i := range builders {
		builders[i] = b.Field(i).(*array.StringBuilder)
		// Sized like the last batch and an eighth more, the buffers do
		// not regrow and copy (a batch a little longer than the last one
		// would double its data buffer).
		builders[i].Reserve(max)
		builders[i].ReserveData(d.dataLen[i] + d.dataLen[i]/8)
	}
	defer func() {
		for i, sb := range builders {
			d.dataLen[i] = sb.DataLen()
		}
	}()
	for n < max {
		var rec []string
		if d.pending != nil {
			rec, d.pending = d.pending, nil
		} else {
			if d.plain {
				kind, err := d.plainLine(builders, report)
				if err != nil {
					return n, err
				}
				switch kind {
				case lineRow:
					n++
					continue
				case lineSkipped:
					continue
				}
			}
			var err error
			if rec, err = d.read(); err != nil {
				return n, err
			}
		}
		if len(rec) != len(d.names) {
			report(d.ragged(rec))
			continue
		}
		for i, f := range rec {
			if f == "" {
				builders[i].AppendNull()
			} else {
				builders[i].Append(f)
			}
		}
		n++
	}
	return n, nil
}

// lineKind is what plainLine did with a line.
type lineKind int

const (
	lineRow     lineKind = iota // appended as a row
	lineSkipped                 // consumed: empty, or ragged (reported)
	lineQuoted                  // left for encoding/csv: it has quotes
)

// plainLine takes the next line when it has no quotes: a row appended to
// builders, or a line skipped as encoding/csv would skip it.
func (d *csvDecoder) plainLine(builders []*array.StringBuilder, report func(connectors.RowIssue)) (lineKind, error) {
	line, err := d.lines.peek()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, io.EOF
		}
		return 0, d.parseError(err)
	}
	if bytes.IndexByte(line, '"') >= 0 {
		return lineQuoted, nil
	}
	d.fields = plainRecord(line, byte(d.delim), d.fields)
	d.lines.consume()
	fields := d.fields
	if fields == nil {
		return lineSkipped, nil
	}
	d.row++
	if err := checkUTF8(d, fields); err != nil {
		return 0, err
	}
	if len(fields) != len(d.names) {
		rec := make([]string, len(fields))
		for i, f := range fields {
			rec[i] = string(f)
		}
		report(d.ragged(rec))
		return lineSkipped, nil
	}
	for i, f := range fields {
		if len(f) == 0 {
			builders[i].AppendNull()
		} else {
			builders[i].BinaryBuilder.Append(f)
		}
	}
	return lineRow, nil
}

func (d *csvDecoder) ragged(rec []string) connectors.RowIssue {
	if len(rec) > len(d.names) {
		return connectors.RowIssue{Row: d.row, Column: fmt.Sprintf("%d", len(d.names)+1), Value: rec[len(d.names)],
			Code: connectors.IssueExtraCell, Message: fmt.Sprintf(
				"la fila tiene %d valores y el encabezado %d columnas; se omitió la fila", len(rec), len(d.names))}
	}
	return connectors.RowIssue{Row: d.row, Column: d.names[len(rec)], Code: connectors.IssueMissingCell,
		Message: fmt.Sprintf("la fila tiene %d valores y el encabezado %d columnas; falta «%s»; se omitió la fila",
			len(rec), len(d.names), d.names[len(rec)])}
}

// utf8Guard validates UTF-8 in bulk as bytes pass on their way to the
// CSV parser, which is much cheaper than checking every field. Once it sees
// an invalid sequence, the decoder checks each field of the records parsed
// from then on — the bad one among them — to say its row and column.
type utf8Guard struct {
	r     io.Reader
	carry []byte // the start of a rune cut at the end of the last read
	bad   bool
}

func (g *utf8Guard) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if g.bad {
		return n, err
	}
	if n == 0 {
		if errors.Is(err, io.EOF) && len(g.carry) > 0 {
			g.bad = true // the text ends inside a rune
		}
		return n, err
	}
	chunk := p[:n]
	if len(g.carry) > 0 {
		// Complete the rune cut at the end of the last read.
		cut := len(g.carry)
		joined := append(g.carry, chunk[:min(utf8.UTFMax-cut, len(chunk))]...)
		if !utf8.FullRune(joined) { // a very short read: still cut
			g.carry = joined
			if errors.Is(err, io.EOF) {
				g.bad = true
			}
			return n, err
		}
		r, size := utf8.DecodeRune(joined)
		if r == utf8.RuneError && size <= 1 {
			g.bad = true
			return n, err
		}
		chunk = chunk[size-cut:]
		g.carry = g.carry[:0]
	}
	// A rune may be cut at the end of the chunk: keep its start for later.
	tail := 0
	for i := len(chunk) - 1; i >= 0 && i >= len(chunk)-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(chunk[i]) {
			if !utf8.FullRune(chunk[i:]) {
				tail = len(chunk) - i
			}
			break
		}
	}
	if !utf8.Valid(chunk[:len(chunk)-tail]) {
		g.bad = true
		return n, err
	}
	g.carry = append(g.carry[:0], chunk[len(chunk)-tail:]...)
	if errors.Is(err, io.EOF) && len(g.carry) > 0 {
		g.bad = true // the text ends inside a rune
	}
	return n, err
}

// textReader returns r decoded to UTF-8 and the encoding it was read as,
// detecting it when declared is "".
func textReader(br *bufio.Reader, declared string) (io.Reader, string, error) {
	enc, err := NormalizeEncoding(declared)
	if err != nil {
		return nil, "", err
	}
	head, _ := br.Peek(sniffSize)
	if bytes.HasPrefix(head, bom) {
		if enc != "" && enc != connectors.EncodingUTF8 {
			return nil, "", &connectors.RowError{Message: fmt.Sprintf(
				"el archivo empieza con la marca de UTF-8 (BOM) pero se declaró %s", enc)}
		}
		_, _ = br.Discard(len(bom))
		return br, connectors.EncodingUTF8, nil
	}
	if bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}) {
		return nil, "", &connectors.RowError{Message: "el archivo está en UTF-16; guárdelo como UTF-8 o ISO-8859-1"}
	}
	if enc == "" {
		enc = DetectEncoding(head, len(head) < sniffSize)
	}
	switch enc {
	case connectors.EncodingISO88591:
		return transform.NewReader(br, charmap.ISO8859_1.NewDecoder()), enc, nil
	case connectors.EncodingWindows1252:
		return transform.NewReader(br, charmap.Windows1252.NewDecoder()), enc, nil
	}
	return br, connectors.EncodingUTF8, nil
}

// NormalizeEncoding maps the usual spellings of the supported encodings to
// their canonical names; "" stays "" (detect).
func NormalizeEncoding(name string) (string, error) {
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(name)), "_", "-") {
	case "":
		return "", nil
	case "utf-8", "utf8", "utf-8-sig":
		return connectors.EncodingUTF8, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return connectors.EncodingISO88591, nil
	case "windows-1252", "cp1252", "win1252":
		return connectors.EncodingWindows1252, nil
	}
	return "", &connectors.RowError{Message: fmt.Sprintf(
		"codificación «%s» no soportada; use utf-8, iso-8859-1 o windows-1252", name)}
}

// DetectEncoding guesses the encoding of a sample: UTF-8 when it is valid
// UTF-8, else Windows-1252 when it uses that code page's printable 0x80–0x9F
// range, else ISO-8859-1. complete says the sample is the whole source (a
// rune cut at its end is then invalid, not truncated).
func DetectEncoding(sample []byte, complete bool) string {
	if !complete {
		// A multi-byte rune may be cut at the end of the sample.
		for i := len(sample) - 1; i >= 0 && i >= len(sample)-utf8.UTFMax; i-- {
			if utf8.RuneStart(sample[i]) {
				if !utf8.FullRune(sample[i:]) {
					sample = sample[:i]
				}
				break
			}
		}
	}
	if utf8.Valid(sample) {
		return connectors.EncodingUTF8
	}
	for _, c := range sample {
		if c >= 0x80 && c <= 0x9f {
			return connectors.EncodingWindows1252
		}
	}
	return connectors.EncodingISO88591
}

// DetectDelimiter picks, among , ; tab and |, the delimiter that splits the
// sample's first records into the same number of fields, the most fields
// winning; ',' when none does. complete says the sample is the whole source.
func DetectDelimiter(sample []byte, complete bool) rune {
	if !complete {
		if i := bytes.LastIndexByte(sample, '\n'); i >= 0 {
			sample = sample[:i+1]
		}
	}
	best, bestFields := ',', 1
	for _, d := range delimiters {
		r := csv.NewReader(bytes.NewReader(sample))
		r.Comma = d
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		r.ReuseRecord = true
		counts := map[int]int{}
		records := 0
		for records < 50 {
			rec, err := r.Read()
			if err != nil {
				break
			}
			counts[len(rec)]++
			records++
		}
		// The usual field count must hold for two records in three: a ragged row
		// or two does not hide the delimiter.
		for fields, n := range counts {
			if fields > bestFields && n*3 >= records*2 {
				best, bestFields = d, fields
			}
		}
	}
	return best
}
