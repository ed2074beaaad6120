// Package decode turns a byte stream — a file or an HTTP body — into a
// connectors.Stream: CSV, JSON array, NDJSON, Arrow IPC or Parquet, with the
// format, the text encoding and the CSV delimiter detected when not declared.
package decode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"strings"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// Input is what a source hands to Open.
type Input struct {
	// R is the raw bytes.
	R io.Reader
	// Name is the file name or the URL path; its extension may tell the
	// format.
	Name string
	// ContentType is the HTTP Content-Type, "" for files.
	ContentType string
	// Size is the number of bytes when known, else 0.
	Size int64
	// ReaderAt, when set, reads the same bytes at random (a local file):
	// Parquet needs it; without it a Parquet body is spooled to a
	// temporary file.
	ReaderAt io.ReaderAt
	// Closer, when set, is closed with the stream.
	Closer io.Closer
}

// sniffSize is how much of the input is looked at to detect the format,
// the encoding and the delimiter.
const sniffSize = 64 << 10

// Open decodes in per opt. On error the input's Closer is closed.
func Open(ctx context.Context, in Input, opt connectors.Options) (connectors.Stream, error) {
	st, err := open(ctx, in, opt)
	if err != nil && in.Closer != nil {
		_ = in.Closer.Close()
	}
	return st, err
}

func open(ctx context.Context, in Input, opt connectors.Options) (connectors.Stream, error) {
	counter := new(connectors.Counter)
	if in.Size > 0 {
		counter.SetTotal(in.Size)
		if opt.MaxBytes > 0 && in.Size > opt.MaxBytes {
			return nil, tooLarge(opt.MaxBytes)
		}
	}
	cr := &countingReader{r: in.R, counter: counter, max: opt.MaxBytes}
	br := bufio.NewReaderSize(cr, sniffSize+4096)
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, readError(err)
	}
	if len(head) == 0 {
		return nil, &connectors.RowError{Message: "el origen está vacío (0 bytes)"}
	}
	format := opt.Format
	if format == "" {
		format = Detect(in.Name, in.ContentType, head)
	}
	closeFn := func() error { return nil }
	if in.Closer != nil {
		closeFn = in.Closer.Close
	}
	switch strings.ToLower(format) {
	case connectors.FormatCSV, "tsv", "txt":
		return openCSV(ctx, br, opt, counter, closeFn)
	case connectors.FormatJSON:
		return openJSON(ctx, br, opt, counter, closeFn, false)
	case connectors.FormatNDJSON, "jsonl":
		return openJSON(ctx, br, opt, counter, closeFn, true)
	case connectors.FormatArrow, "ipc", "feather":
		return openArrow(ctx, br, opt, counter, closeFn)
	case connectors.FormatParquet:
		return openParquet(ctx, in, br, opt, counter, closeFn)
	default:
		return nil, &connectors.RowError{Message: fmt.Sprintf(
			"formato «%s» no reconocido; use csv, json, ndjson, arrow o parquet", format)}
	}
}

// Detect names the format of a source from its Content-Type, then its
// name's extension, then its first bytes.
func Detect(name, contentType string, head []byte) string {
	if f := FromContentType(contentType); f != "" {
		if f == connectors.FormatJSON && firstByte(head) == '{' {
			return connectors.FormatNDJSON
		}
		return f
	}
	if f := FromName(name); f != "" {
		if f == connectors.FormatJSON && firstByte(head) == '{' {
			return connectors.FormatNDJSON
		}
		return f
	}
	switch {
	case bytes.HasPrefix(head, []byte("PAR1")):
		return connectors.FormatParquet
	case bytes.HasPrefix(head, []byte("ARROW1")), bytes.HasPrefix(head, []byte{0xff, 0xff, 0xff, 0xff}):
		return connectors.FormatArrow
	}
	switch firstByte(head) {
	case '[':
		return connectors.FormatJSON
	case '{':
		return connectors.FormatNDJSON
	}
	return connectors.FormatCSV
}

// FromContentType maps a MIME type to a format, "" when it says nothing.
func FromContentType(contentType string) string {
	if contentType == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	switch mt {
	case "text/csv", "application/csv", "text/tab-separated-values", "application/vnd.ms-excel":
		return connectors.FormatCSV
	case "application/json", "text/json":
		return connectors.FormatJSON
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines":
		return connectors.FormatNDJSON
	case "application/vnd.apache.arrow.stream", "application/vnd.apache.arrow.file", "application/vnd.apache.arrow":
		return connectors.FormatArrow
	case "application/vnd.apache.parquet", "application/x-parquet", "application/parquet":
		return connectors.FormatParquet
	}
	return ""
}

// FromName maps a file name's extension to a format, "" when unknown.
func FromName(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv", ".tsv", ".txt":
		return connectors.FormatCSV
	case ".json":
		return connectors.FormatJSON
	case ".ndjson", ".jsonl":
		return connectors.FormatNDJSON
	case ".arrow", ".arrows", ".ipc", ".feather":
		return connectors.FormatArrow
	case ".parquet", ".pq":
		return connectors.FormatParquet
	}
	return ""
}

func firstByte(head []byte) byte {
	b := bytes.TrimLeft(bytes.TrimPrefix(head, bom), " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

var bom = []byte{0xef, 0xbb, 0xbf}

// countingReader counts bytes into the stream's progress and stops a source
// larger than max.
type countingReader struct {
	r       io.Reader
	counter *connectors.Counter
	n, max  int64
}

var errTooLarge = errors.New("source larger than its limit")

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.counter.AddBytes(int64(n))
	if c.max > 0 && c.n > c.max {
		return n, tooLarge(c.max)
	}
	return n, err
}

func tooLarge(max int64) error {
	return &connectors.RowError{Message: fmt.Sprintf("el origen excede el límite de %d bytes", max), Err: errTooLarge}
}

func readError(err error) error {
	var re *connectors.RowError
	if errors.As(err, &re) {
		return err
	}
	return &connectors.RowError{Message: "no se pudo leer el origen", Err: err}
}
