package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// Stream is what the pipeline reads: a source opened as Arrow record
// batches.
type Stream = connectors.Stream

// rowSource feeds COPY: it pulls record batches from the stream, converts
// and validates them, and reads out the rows that passed in COPY text
// format (see copytext.go). COPY reads it from its own goroutine, so the
// counters other goroutines read are atomic.
type rowSource struct {
	ctx    context.Context
	stream Stream
	v      *validator
	b      batch
	out    []byte // the valid rows of the batch, in COPY text
	off    int    // what Read has handed over of out
	err    error
	next   int64 // row number of the next record's first row
	// skipped are row numbers the connector reported and left out.
	skipped    map[int64]bool
	issuesSeen int
	uncounted  int64
	limit      int64 // rows beyond this many are an error; 0 = no limit
	// noRowNumber leaves out the row number (a first load copied straight
	// into the live table).
	noRowNumber bool
	// streamErr says that err came from the source, not from a check.
	streamErr bool
	// delta, in a re-load, leaves out the rows equal to the published ones.
	delta *delta
	// spill, when the catalog keeps a digest, collects the rows' keys and
	// hashes (in a re-load, delta does); keyPos are the key's columns.
	spill  *digestSpill
	keyPos []int
	keyBuf []byte

	read, valid, rejected atomic.Int64
	onBatch               func()

	// mu is held by Read. COPY reads from a goroutine of its own, which it
	// does not always wait for when the connection fails; close takes mu
	// to wait for a Read in flight, so that what Read uses (the published
	// rows' index, outside the Go heap) is not freed under it.
	mu     sync.Mutex
	closed bool
}

func newRowSource(ctx context.Context, stream Stream, v *validator, limit int64) *rowSource {
	return &rowSource{ctx: ctx, stream: stream, v: v, next: v.rowBase, limit: limit, skipped: map[int64]bool{}}
}

// Read hands over the valid rows in COPY text format, reading batches as
// needed; at the end of the source it returns io.EOF, or the error that
// stopped it (which makes COPY fail).
func (r *rowSource) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, errSourceClosed
	}
	for r.off == len(r.out) {
		if !r.nextBatch() {
			if r.err != nil {
				return 0, r.err
			}
			return 0, io.EOF
		}
	}
	n := copy(p, r.out[r.off:])
	r.off += n
	return n, nil
}

var errSourceClosed = errors.New("pipeline: the rows' source was closed")

// close waits for a Read in flight and makes later ones fail.
func (r *rowSource) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// nextBatch reads, converts and encodes the next batch; false at the end
// of the source or on an error (r.err).
func (r *rowSource) nextBatch() bool {
	if r.err != nil {
		return false
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return false
	}
	if !r.stream.Next() {
		r.flushIssues()
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
	r.numberRows(int(n))
	bad, err := r.convert(rec)
	if err != nil {
		r.err = err
		r.b.n = 0
		return false
	}
	r.read.Add(n)
	r.rejected.Add(int64(bad))
	r.valid.Add(n - int64(bad))
	r.encode()
	if r.onBatch != nil {
		r.onBatch()
	}
	return true
}

func (r *rowSource) convert(rec arrow.RecordBatch) (int, error) {
	if r.delta != nil {
		return r.delta.convert(r.v, rec, &r.b)
	}
	return r.v.convert(rec, &r.b), nil
}

// digest is what collects the digest of the load's rows; nil when none.
func (r *rowSource) digest() *digestSpill {
	if r.delta != nil {
		return r.delta.spill
	}
	return r.spill
}

// encode writes the batch's valid rows into r.out: the cells separated by
// tabs, then the row number unless the rows go straight to the live table.
func (r *rowSource) encode() {
	out := r.out[:0]
	for i := range r.b.n {
		if !r.b.ok[i] {
			continue
		}
		start := len(out)
		for j := range r.b.cols {
			if j > 0 {
				out = append(out, '\t')
			}
			out = append(out, r.b.cols[j].cell(i)...)
		}
		if r.spill != nil {
			r.addDigest(out[start:], i)
		}
		if !r.noRowNumber {
			out = append(out, '\t')
			out = strconv.AppendInt(out, r.b.rows[i], 10)
		}
		out = append(out, '\n')
	}
	r.out, r.off = out, 0
}

// addDigest records valid row i of the batch, line in COPY text, in the
// digest.
func (r *rowSource) addDigest(line []byte, i int) {
	key := r.b.cols[r.keyPos[0]].cell(i)
	if len(r.keyPos) > 1 {
		r.keyBuf = append(r.keyBuf[:0], key...)
		for _, pos := range r.keyPos[1:] {
			r.keyBuf = append(append(r.keyBuf, '\t'), r.b.cols[pos].cell(i)...)
		}
		key = r.keyBuf
	}
	r.spill.add(key, r.spill.key.sum(line))
}

type rowLimitError struct{ limit int64 }

func (e *rowLimitError) Error() string {
	return "el origen trae más filas que el máximo permitido para esta carga"
}

// numberRows gives the next n rows their row numbers in the source. The
// connector leaves out rows it cannot read (ragged rows) and reports them as
// issues: their numbers are skipped, and the issues go to the report. Past
// connectors.MaxIssues reported issues the numbers can no longer be
// corrected; the counts stay exact.
func (r *rowSource) numberRows(n int) {
	issues := r.stream.Issues()
	for _, is := range issues[r.issuesSeen:] {
		r.skipped[is.Row] = true
		r.v.errs.add(issueError(is))
	}
	r.issuesSeen = len(issues)
	if cap(r.b.rows) < n {
		r.b.rows = make([]int64, n)
	}
	r.b.rows = r.b.rows[:n]
	for i := range r.b.rows {
		for r.skipped[r.next] {
			delete(r.skipped, r.next)
			r.next++
			r.rejected.Add(1)
			r.read.Add(1)
		}
		r.b.rows[i] = r.next
		r.next++
	}
}

// flushIssues records the issues reported after the last batch (ragged rows
// at the end of the source).
func (r *rowSource) flushIssues() {
	if r.stream == nil {
		return
	}
	issues := r.stream.Issues()
	for _, is := range issues[r.issuesSeen:] {
		r.v.errs.add(issueError(is))
		r.rejected.Add(1)
		r.read.Add(1)
	}
	r.issuesSeen = len(issues)
	// Issues past the cap are counted, not listed.
	if extra := r.stream.Progress().Issues - int64(len(issues)); extra > r.uncounted {
		r.v.errs.addCounted(connectors.IssueExtraCell, extra-r.uncounted, nil)
		r.rejected.Add(extra - r.uncounted)
		r.read.Add(extra - r.uncounted)
		r.uncounted = extra
	}
	for range r.skipped {
		r.rejected.Add(1)
		r.read.Add(1)
	}
	clear(r.skipped)
}

func issueError(is connectors.RowIssue) ReportError {
	e := ReportError{Type: is.Code, RowNumber: is.Row, FieldName: is.Column, Cell: is.Value}
	if e.Type == "" {
		e.Type = ErrSource
	}
	e.Message = fmt.Sprintf("fila %d: %s", is.Row, is.Message)
	return e
}
