package decode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// openJSON streams a JSON array of objects, or NDJSON (one object per line),
// one object at a time. Columns are the first object's keys in their order
// (or the declared list); a missing key is null; strings keep their text,
// numbers and booleans their literal, nested values their JSON.
func openJSON(ctx context.Context, br *bufio.Reader, opt connectors.Options, counter *connectors.Counter, closeFn func() error, ndjson bool) (connectors.Stream, error) {
	if head, _ := br.Peek(len(bom)); bytes.Equal(head, bom) {
		_, _ = br.Discard(len(bom))
	}
	dec := json.NewDecoder(br)
	d := &jsonDecoder{dec: dec, ndjson: ndjson}
	if !ndjson {
		tok, err := dec.Token()
		if err != nil {
			return nil, d.syntaxError(err)
		}
		if delim, ok := tok.(json.Delim); !ok || delim != '[' {
			return nil, &connectors.RowError{Message: "el JSON debe ser un arreglo de objetos ([{…}, …]) o NDJSON (un objeto por línea)"}
		}
	}
	names := opt.Columns
	if len(names) == 0 {
		keys, vals, err := d.object()
		if errors.Is(err, io.EOF) {
			return nil, &connectors.RowError{Message: "el JSON no tiene objetos"}
		}
		if err != nil {
			return nil, err
		}
		names = keys
		d.pendingKeys, d.pendingVals = keys, vals
	}
	d.index = make(map[string]int, len(names))
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		if _, dup := d.index[n]; dup {
			return nil, &connectors.RowError{Row: 1, Column: n, Message: "la columna aparece dos veces"}
		}
		d.index[n] = i
		fields[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	d.names = names
	return connectors.NewStream(ctx, arrow.NewSchema(fields, nil), opt, counter, d.fill, closeFn), nil
}

type jsonDecoder struct {
	dec         *json.Decoder
	ndjson      bool
	names       []string
	index       map[string]int
	row         int64
	pendingKeys []string
	pendingVals []*string
	vals        []*string
}

// object reads the next object's keys and values in order; io.EOF at the
// end of the array or the file.
func (d *jsonDecoder) object() ([]string, []*string, error) {
	if !d.dec.More() {
		if !d.ndjson {
			if _, err := d.dec.Token(); err != nil { // the closing ]
				return nil, nil, d.syntaxError(err)
			}
		}
		return nil, nil, io.EOF
	}
	d.row++
	tok, err := d.dec.Token()
	if err != nil {
		return nil, nil, d.syntaxError(err)
	}
	if delim, ok := tok.(json.Delim); !ok || delim != '{' {
		return nil, nil, &connectors.RowError{Row: d.row, Message: "el elemento no es un objeto JSON ({…})"}
	}
	var keys []string
	var vals []*string
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return nil, nil, d.syntaxError(err)
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := d.dec.Decode(&raw); err != nil {
			return nil, nil, d.syntaxError(err)
		}
		if !utf8.Valid(raw) {
			// encoding/json would silently turn the bytes into U+FFFD.
			return nil, nil, &connectors.RowError{Row: d.row, Column: key, Value: strings.ToValidUTF8(string(raw), "\uFFFD"),
				Message: "el texto no es UTF-8 válido; un JSON debe estar en UTF-8"}
		}
		keys = append(keys, key)
		vals = append(vals, cell(raw))
	}
	if _, err := d.dec.Token(); err != nil { // the closing }
		return nil, nil, d.syntaxError(err)
	}
	return keys, vals, nil
}

// cell is a JSON value as text: nil for null, a string's content, any other
// value's JSON literal.
func cell(raw json.RawMessage) *string {
	raw = bytes.TrimSpace(raw)
	switch {
	case bytes.Equal(raw, []byte("null")):
		return nil
	case len(raw) > 0 && raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			return &s
		}
	}
	s := string(raw)
	return &s
}

func (d *jsonDecoder) syntaxError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		if d.row == 0 && !d.ndjson {
			return &connectors.RowError{Message: "el JSON está incompleto"}
		}
		return &connectors.RowError{Row: d.row, Message: "el JSON termina a la mitad de un objeto"}
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &connectors.RowError{Row: d.row, Message: fmt.Sprintf("JSON mal formado en el byte %d: %v", se.Offset, se)}
	}
	return readError(err)
}

func (d *jsonDecoder) fill(b *array.RecordBuilder, max int, report func(connectors.RowIssue)) (int, error) {
	builders := make([]*array.StringBuilder, len(d.names))
	for i := range builders {
		builders[i] = b.Field(i).(*array.StringBuilder)
	}
	if d.vals == nil {
		d.vals = make([]*string, len(d.names))
	}
	n := 0
rows:
	for n < max {
		keys, vals := d.pendingKeys, d.pendingVals
		d.pendingKeys, d.pendingVals = nil, nil
		if keys == nil && vals == nil {
			var err error
			if keys, vals, err = d.object(); err != nil {
				return n, err
			}
		}
		clear(d.vals)
		for i, k := range keys {
			j, ok := d.index[k]
			if !ok {
				v := ""
				if vals[i] != nil {
					v = *vals[i]
				}
				report(connectors.RowIssue{Row: d.row, Column: k, Value: v, Code: connectors.IssueExtraCell,
					Message: fmt.Sprintf("el objeto tiene la clave «%s», que no está entre las columnas; se omitió la fila", k)})
				continue rows
			}
			d.vals[j] = vals[i]
		}
		for i, v := range d.vals {
			if v == nil {
				builders[i].AppendNull()
			} else {
				builders[i].Append(*v)
			}
		}
		n++
	}
	return n, nil
}
