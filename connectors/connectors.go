package connectors

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Formats a file or an HTTP body can be decoded from.
const (
	FormatCSV     = "csv"
	FormatJSON    = "json"
	FormatNDJSON  = "ndjson"
	FormatArrow   = "arrow"
	FormatParquet = "parquet"
)

// Encodings a text source can be declared in.
const (
	EncodingUTF8        = "utf-8"
	EncodingISO88591    = "iso-8859-1"
	EncodingWindows1252 = "windows-1252"
)

// DefaultBatchSize is the number of rows per record batch when Options does
// not say.
const DefaultBatchSize = 8192

// Options say how to read a source. The zero value detects everything.
type Options struct {
	// Format is csv, json, ndjson, arrow or parquet; "" detects it from the
	// name, the Content-Type or the first bytes.
	Format string `json:"format,omitempty"`
	// Encoding is utf-8, iso-8859-1 or windows-1252; "" detects it.
	Encoding string `json:"encoding,omitempty"`
	// Delimiter of a CSV source; 0 detects it among , ; | and tab.
	Delimiter rune `json:"delimiter,omitempty"`
	// Header says whether the first CSV row names the columns; nil means
	// yes, unless Columns is declared and the first row is not that list.
	Header *bool `json:"header,omitempty"`
	// Columns is the declared column list of a source without a header.
	Columns []string `json:"columns,omitempty"`
	// BatchSize is the number of rows per record batch (DefaultBatchSize).
	BatchSize int `json:"batchSize,omitempty"`
	// MaxBytes and MaxRows stop a source that is larger than expected with
	// an error; 0 means no limit.
	MaxBytes int64 `json:"maxBytes,omitempty"`
	MaxRows  int64 `json:"maxRows,omitempty"`
	// Allocator builds the batches (memory.DefaultAllocator); tests pass a
	// checked one to prove every batch is released.
	Allocator memory.Allocator `json:"-"`
}

// Mem returns the allocator to use.
func (o Options) Mem() memory.Allocator {
	if o.Allocator == nil {
		return memory.DefaultAllocator
	}
	return o.Allocator
}

// Batch returns the batch size to use.
func (o Options) Batch() int {
	if o.BatchSize <= 0 {
		return DefaultBatchSize
	}
	return o.BatchSize
}

// Stream is an Arrow record stream with bounded memory.
type Stream interface {
	// Schema is the stream's schema, known once it is open.
	Schema() *arrow.Schema
	// Next advances to the next batch; false at the end or on error.
	Next() bool
	// RecordBatch is the current batch, valid until the next call to Next.
	RecordBatch() arrow.RecordBatch
	// Err is the error that stopped the stream, in Spanish, saying where.
	Err() error
	// Issues are row-level problems found while decoding (ragged rows…),
	// capped at MaxIssues; Progress().Issues counts them all.
	Issues() []RowIssue
	// Progress is safe to call from another goroutine.
	Progress() Progress
	// Close releases the stream and its source.
	Close() error
}

// Source is a place data comes from.
type Source interface {
	// Open starts reading the source.
	Open(ctx context.Context, opt Options) (Stream, error)
	// Check reaches the source and, when expect is not nil, compares its
	// columns with the expected ones.
	Check(ctx context.Context, expect []string) CheckResult
}

// RowIssue is a problem with one row that does not stop the stream; the row
// is left out of the batches.
type RowIssue struct {
	// Row is the row's number in the source, counting a header row as row 1
	// (Frictionless' rowNumber).
	Row     int64  `json:"rowNumber"`
	Column  string `json:"fieldName,omitempty"`
	Value   string `json:"cell,omitempty"`
	Code    string `json:"type"`
	Message string `json:"message"`
}

// Row issue codes, named as Frictionless names its errors.
const (
	IssueExtraCell   = "extra-cell"
	IssueMissingCell = "missing-cell"
	IssueExtraLabel  = "extra-label"
)

// MaxIssues caps the issues a stream keeps; their count stays exact.
const MaxIssues = 1000

// Progress says how far a stream has read.
type Progress struct {
	Rows       int64 `json:"rows"`
	Bytes      int64 `json:"bytes"`
	TotalBytes int64 `json:"totalBytes,omitempty"` // 0 when unknown
	Issues     int64 `json:"issues"`
}

// Counter keeps a stream's progress; its methods are safe for concurrent
// use, so a progress bar can read while the stream decodes.
type Counter struct {
	rows, bytes, total, issues atomic.Int64
}

// AddRows counts n more rows.
func (c *Counter) AddRows(n int64) { c.rows.Add(n) }

// AddBytes counts n more bytes read.
func (c *Counter) AddBytes(n int64) { c.bytes.Add(n) }

// SetTotal records the source's size when it is known.
func (c *Counter) SetTotal(n int64) { c.total.Store(n) }

// AddIssue counts one more row issue.
func (c *Counter) AddIssue() { c.issues.Add(1) }

// Rows is the number of rows counted so far.
func (c *Counter) Rows() int64 { return c.rows.Load() }

// Progress returns a snapshot.
func (c *Counter) Progress() Progress {
	return Progress{Rows: c.rows.Load(), Bytes: c.bytes.Load(), TotalBytes: c.total.Load(), Issues: c.issues.Load()}
}

// Status classifies the outcome of a connectivity check.
type Status string

// Check outcomes.
const (
	StatusOK         Status = "ok"
	StatusDNS        Status = "dns"
	StatusRefused    Status = "refused"
	StatusTimeout    Status = "timeout"
	StatusTLS        Status = "tls"
	StatusAuth       Status = "auth"
	StatusPermission Status = "permission"
	StatusMissing    Status = "missing"
	StatusDrift      Status = "drift"
	StatusError      Status = "error"
)

// CheckResult is the answer of Source.Check.
type CheckResult struct {
	Status  Status        `json:"status"`
	Latency time.Duration `json:"latency"`
	Message string        `json:"message"` // Spanish
	Columns []string      `json:"columns,omitempty"`
	Err     error         `json:"-"`
}

// RowError is an error that stops a stream at a place in the source.
type RowError struct {
	Row     int64 // 0 when the error is not in a row
	Column  string
	Value   string
	Message string // Spanish, without the place
	Err     error
}

// Error says where, then what, in Spanish.
func (e *RowError) Error() string {
	var b strings.Builder
	if e.Row > 0 {
		fmt.Fprintf(&b, "fila %d", e.Row)
	}
	if e.Column != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "columna «%s»", e.Column)
	}
	if e.Value != "" {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "valor «%s»", Clip(e.Value, 80))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	if e.Err != nil {
		b.WriteString(" (")
		b.WriteString(e.Err.Error())
		b.WriteString(")")
	}
	return b.String()
}

func (e *RowError) Unwrap() error { return e.Err }

// Clip shortens s to at most n runes for a message, marking the cut.
func Clip(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
