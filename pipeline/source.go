package pipeline

import (
	"context"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
)

// Stream is what the pipeline reads: a source opened as Arrow record
// batches (connectors.Stream satisfies it).
type Stream interface {
	Schema() *arrow.Schema
	Next() bool
	// RecordBatch is valid until the next call to Next.
	RecordBatch() arrow.RecordBatch
	Err() error
	Close() error
}

// rowSource feeds COPY: it pulls record batches from the stream, converts
// and validates them, and hands over the rows that passed. pgx calls it from
// its own goroutine, so the counters other goroutines read are atomic.
type rowSource struct {
	ctx    context.Context
	stream Stream
	v      *validator
	b      batch
	i      int
	row    []any
	err    error
	next   int64 // row number of the next record's first row
	limit  int64 // rows beyond this many are an error; 0 = no limit
	// noRowNumber leaves out the row number (a first load copied straight
	// into the live table).
	noRowNumber bool
	// streamErr says that err came from the source, not from a check.
	streamErr bool

	read, valid, rejected atomic.Int64
	onBatch               func()
}

func newRowSource(ctx context.Context, stream Stream, v *validator, limit int64) *rowSource {
	return &rowSource{ctx: ctx, stream: stream, v: v, i: -1, next: v.rowBase, limit: limit,
		row: make([]any, len(v.cols)+1)}
}

// Next advances to the next valid row, reading batches as needed.
func (r *rowSource) Next() bool {
	for {
		for r.i++; r.i < r.b.n; r.i++ {
			if r.b.ok[r.i] {
				return true
			}
		}
		if r.err != nil {
			return false
		}
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return false
		}
		if !r.stream.Next() {
			r.err = r.stream.Err()
			r.streamErr = r.err != nil
			r.b.n = 0
			return false
		}
		rec := r.stream.RecordBatch()
		n := rec.NumRows()
		if r.limit > 0 && r.read.Load()+n > r.limit {
			r.err = &rowLimitError{limit: r.limit}
			r.b.n = 0
			return false
		}
		bad := r.v.convert(rec, r.next, &r.b)
		r.next += n
		r.read.Add(n)
		r.rejected.Add(int64(bad))
		r.valid.Add(n - int64(bad))
		r.i = -1
		if r.onBatch != nil {
			r.onBatch()
		}
	}
}

// Values is the current row: the converted fields, then its row number
// unless the rows go straight to the live table.
func (r *rowSource) Values() ([]any, error) {
	for j := range r.v.cols {
		r.row[j] = r.b.cols[j][r.i]
	}
	if r.noRowNumber {
		return r.row[:len(r.v.cols)], nil
	}
	r.row[len(r.v.cols)] = r.b.first + int64(r.i)
	return r.row, nil
}

func (r *rowSource) Err() error { return r.err }

type rowLimitError struct{ limit int64 }

func (e *rowLimitError) Error() string {
	return "el origen trae más filas que el máximo permitido para esta carga"
}
