package connectors

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// FillFunc appends up to max rows to b and returns how many it appended; it
// returns io.EOF (with the last rows) when the source is exhausted. report
// records a row that was left out.
type FillFunc func(b *array.RecordBuilder, max int, report func(RowIssue)) (int, error)

// NewStream builds a Stream from a function that fills record builders: the
// stream takes care of batches, their release, cancellation, MaxRows,
// progress and the issue list. closeFn (may be nil) releases the source.
func NewStream(ctx context.Context, schema *arrow.Schema, opt Options, counter *Counter, fill FillFunc, closeFn func() error) Stream {
	if counter == nil {
		counter = new(Counter)
	}
	return &stream{ctx: ctx, schema: schema, opt: opt, counter: counter, fill: fill, closeFn: closeFn,
		rb: array.NewRecordBuilder(opt.Mem(), schema)}
}

type stream struct {
	ctx     context.Context
	schema  *arrow.Schema
	opt     Options
	counter *Counter
	fill    FillFunc
	closeFn func() error
	rb      *array.RecordBuilder
	cur     arrow.RecordBatch
	err     error
	done    bool
	closed  bool
	issues  []RowIssue
}

func (s *stream) Schema() *arrow.Schema          { return s.schema }
func (s *stream) RecordBatch() arrow.RecordBatch { return s.cur }
func (s *stream) Err() error                     { return s.err }
func (s *stream) Issues() []RowIssue             { return s.issues }
func (s *stream) Progress() Progress             { return s.counter.Progress() }

func (s *stream) report(issue RowIssue) {
	s.counter.AddIssue()
	if len(s.issues) < MaxIssues {
		s.issues = append(s.issues, issue)
	}
}

func (s *stream) Next() bool {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if s.done || s.err != nil || s.closed {
		return false
	}
	if err := s.ctx.Err(); err != nil {
		s.err = Interrupted(s.counter.Rows(), err)
		return false
	}
	max := s.opt.Batch()
	if s.opt.MaxRows > 0 {
		// One row past the limit is enough to know the source exceeds it.
		if left := s.opt.MaxRows - s.counter.Rows() + 1; left < int64(max) {
			max = int(left)
		}
	}
	n, err := s.fill(s.rb, max, s.report)
	if s.opt.MaxRows > 0 && s.counter.Rows()+int64(n) > s.opt.MaxRows {
		err = &RowError{Message: fmt.Sprintf(
			"el origen tiene más filas que el límite de %d; revise el origen o aumente el límite", s.opt.MaxRows)}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		// A failed fill may have left a row half appended (its columns of
		// unequal lengths): the builder is dropped, not made a batch.
		s.rb.Release()
		s.rb = array.NewRecordBuilder(s.opt.Mem(), s.schema)
		// A cancelled read is reported as such (a database session cut by
		// the cancellation is not a lost connection), unless the source
		// already said why (an HTTP body that stalled).
		var srcErr *SourceError
		if ctxErr := s.ctx.Err(); ctxErr != nil && !errors.As(err, &srcErr) {
			err = Interrupted(s.counter.Rows(), ctxErr)
		}
		s.err = err
		return false
	}
	s.done = err != nil
	rec := s.rb.NewRecordBatch()
	if rec.NumRows() == 0 {
		rec.Release()
		return false
	}
	s.counter.AddRows(rec.NumRows())
	s.cur = rec
	return true
}

func (s *stream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	s.rb.Release()
	if s.closeFn != nil {
		return s.closeFn()
	}
	return nil
}

// Interrupted is the error of a stream stopped by its context.
func Interrupted(rows int64, err error) error {
	msg := "la lectura se canceló"
	if errors.Is(err, context.DeadlineExceeded) {
		msg = "la lectura excedió el tiempo límite"
	}
	return &RowError{Message: fmt.Sprintf("%s tras %d filas", msg, rows), Err: err}
}

// FromRecordReader wraps a typed Arrow reader (IPC, Parquet) as a Stream;
// closeFn (may be nil) releases what the reader reads from. The reader is
// released on Close.
func FromRecordReader(ctx context.Context, rr array.RecordReader, opt Options, counter *Counter, closeFn func() error) Stream {
	if counter == nil {
		counter = new(Counter)
	}
	return &readerStream{ctx: ctx, rr: rr, opt: opt, counter: counter, closeFn: closeFn}
}

type readerStream struct {
	ctx     context.Context
	rr      array.RecordReader
	opt     Options
	counter *Counter
	closeFn func() error
	err     error
	closed  bool
}

func (s *readerStream) Schema() *arrow.Schema          { return s.rr.Schema() }
func (s *readerStream) RecordBatch() arrow.RecordBatch { return s.rr.RecordBatch() }
func (s *readerStream) Err() error                     { return s.err }
func (s *readerStream) Issues() []RowIssue             { return nil }
func (s *readerStream) Progress() Progress             { return s.counter.Progress() }

func (s *readerStream) Next() bool {
	if s.err != nil || s.closed {
		return false
	}
	if err := s.ctx.Err(); err != nil {
		s.err = Interrupted(s.counter.Rows(), err)
		return false
	}
	if !s.rr.Next() {
		if err := s.rr.Err(); err != nil && !errors.Is(err, io.EOF) {
			s.err = &RowError{Row: s.counter.Rows() + 1, Message: "no se pudo leer el lote de datos", Err: err}
		}
		return false
	}
	s.counter.AddRows(s.rr.RecordBatch().NumRows())
	if s.opt.MaxRows > 0 && s.counter.Rows() > s.opt.MaxRows {
		s.err = &RowError{Message: fmt.Sprintf(
			"el origen tiene más filas que el límite de %d; revise el origen o aumente el límite", s.opt.MaxRows)}
		return false
	}
	return true
}

func (s *readerStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.rr.Release()
	if s.closeFn != nil {
		return s.closeFn()
	}
	return nil
}
