package pipeline

import (
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// readAhead decodes a stream's batches in a goroutine of its own, up to
// depth batches ahead of the reader: a re-load decodes the source while
// PostgreSQL sends the published rows, and then while it compares. Each
// batch keeps the stream's issues as they were when it was decoded, so rows
// are numbered as without it.
func readAhead(src Stream, depth int) Stream {
	a := &aheadStream{src: src, batches: make(chan aheadBatch, depth), stop: make(chan struct{}), done: make(chan struct{})}
	go a.decode()
	return a
}

type aheadStream struct {
	src     Stream
	batches chan aheadBatch
	stop    chan struct{}
	done    chan struct{}
	cur     aheadBatch
	err     error
	once    sync.Once
}

type aheadBatch struct {
	rec    arrow.RecordBatch
	issues []connectors.RowIssue
}

func (a *aheadStream) decode() {
	defer close(a.done)
	defer close(a.batches)
	for a.src.Next() {
		rec := a.src.RecordBatch()
		rec.Retain()
		select {
		case a.batches <- aheadBatch{rec: rec, issues: a.src.Issues()}:
		case <-a.stop:
			rec.Release()
			return
		}
	}
	a.err = a.src.Err()
}

func (a *aheadStream) Schema() *arrow.Schema { return a.src.Schema() }

func (a *aheadStream) Next() bool {
	if a.cur.rec != nil {
		a.cur.rec.Release()
		a.cur.rec = nil
	}
	b, ok := <-a.batches
	if !ok {
		<-a.done
		a.cur.issues = a.src.Issues()
		return false
	}
	a.cur = b
	return true
}

func (a *aheadStream) RecordBatch() arrow.RecordBatch { return a.cur.rec }

// Err is the stream's error once Next returned false.
func (a *aheadStream) Err() error { return a.err }

func (a *aheadStream) Issues() []connectors.RowIssue { return a.cur.issues }

func (a *aheadStream) Progress() connectors.Progress { return a.src.Progress() }

// Close stops the decoding, releases the batches decoded ahead and closes
// the stream.
func (a *aheadStream) Close() error {
	a.once.Do(func() { close(a.stop) })
	for b := range a.batches {
		b.rec.Release()
	}
	<-a.done
	if a.cur.rec != nil {
		a.cur.rec.Release()
		a.cur.rec = nil
	}
	return a.src.Close()
}
