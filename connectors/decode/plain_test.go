package decode_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// csvReference decodes a CSV with the header a,b,c the way encoding/csv
// alone reads it: the rows (empty cells as "<nil>"), how many rows had
// another width, and the error that stopped it.
func csvReference(src []byte, delim rune) (rows [][]string, ragged int, err error) {
	r := csv.NewReader(bytes.NewReader(src))
	r.Comma = delim
	r.FieldsPerRecord = -1
	if _, err := r.Read(); err != nil {
		return nil, 0, err
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, ragged, nil
		}
		if err != nil {
			return rows, ragged, err
		}
		if len(rec) != 3 {
			ragged++
			continue
		}
		row := make([]string, 3)
		for i, f := range rec {
			row[i] = f
			if f == "" {
				row[i] = "<nil>"
			}
		}
		rows = append(rows, row)
	}
}

// checkAgainstReference decodes body after the header a,b,c and requires
// what encoding/csv alone gives: the same rows, the same rows left out, and
// an error where it fails, at the same line and column.
func checkAgainstReference(t *testing.T, body []byte, delim rune) {
	t.Helper()
	src := append([]byte(fmt.Sprintf("a%cb%cc\n", delim, delim)), body...)
	rows, ragged, refErr := csvReference(src, delim)
	res, err := decodeAll(t, src, "", connectors.Options{Format: connectors.FormatCSV, Delimiter: delim, Encoding: "utf-8", BatchSize: 4})
	require.NoError(t, err)
	if refErr != nil {
		require.Error(t, res.err, "encoding/csv fails with %v", refErr)
		var pe *csv.ParseError
		if errors.As(refErr, &pe) {
			require.Contains(t, res.err.Error(), fmt.Sprintf("(línea %d, carácter %d)", pe.Line, pe.Column))
		}
		return
	}
	require.NoError(t, res.err)
	require.Equal(t, rows, res.rows)
	require.Len(t, res.issues, ragged)
}

// TestCSVPlainLinesAsEncodingCSV: lines without quotes are split by the
// decoder, the others parsed by encoding/csv, and together they read every
// CSV as encoding/csv alone does.
func TestCSVPlainLinesAsEncodingCSV(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 70_000) // longer than the read buffer
	for _, body := range []string{
		"1,2,3\n4,5,6",
		"1,2,3\r\n4,5,6\r\n",
		"1,2,3\r",
		"1,2,3\r\r\n4,\r,6\n",
		"\n\r\n1,2,3\n\n",
		"1,,3\n,,\n",
		"1,2\n1,2,3,4\n5,6,7\n",
		"1,\"dos\nlíneas\",3\n4,5,6\n",
		"1,\"con \"\"comillas\"\", y coma\",3\n\"a\"\"\",b,c\n",
		"1,2,3\n4,5\"6,7\n8,9,10\n",
		"1,2,3\n\"abierta,2,3\n4,5,6\n",
		"1,2,3\n4,\"x\"y,6\n",
		long + ",2,3\n4," + long + ",6\n\"" + long + "\",\"" + long + "\n" + long + "\",9\n",
	} {
		for _, delim := range []rune{',', ';'} {
			checkAgainstReference(t, []byte(strings.ReplaceAll(body, ",", string(delim))), delim)
		}
	}
}

// FuzzCSVPlainLines: whatever the bytes, the decoder reads as encoding/csv.
func FuzzCSVPlainLines(f *testing.F) {
	for _, s := range []string{"1,2,3\n", "1,\"2\n\",3\r\n4,5,6", "\r\n\n1,2\r", "\"\"\"\n,\n", "a,\"b\"c,d\n1,2,3"} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, body []byte, d uint8) {
		if !utf8.Valid(body) {
			return // the decoder checks UTF-8; encoding/csv does not
		}
		checkAgainstReference(t, body, []rune{',', ';', '\t', '|'}[d%4])
	})
}
