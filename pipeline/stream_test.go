package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/decode"
)

// newCSVStream decodes CSV text the way the file and HTTP sources do, chunk
// rows per batch.
func newCSVStream(t testing.TB, mem memory.Allocator, text string, chunk int) Stream {
	t.Helper()
	s, err := decode.Open(context.Background(), decode.Input{R: strings.NewReader(text), Name: "prueba.csv", Size: int64(len(text))},
		connectors.Options{Format: connectors.FormatCSV, BatchSize: chunk, Allocator: mem, Delimiter: ','})
	require.NoError(t, err)
	return s
}

// gatedStream holds its second batch until released.
type gatedStream struct {
	Stream
	calls   int
	entered chan struct{}
	release chan struct{}
}

func (g *gatedStream) Next() bool {
	g.calls++
	if g.calls == 2 {
		close(g.entered)
		<-g.release
	}
	return g.Stream.Next()
}

// TestRowSourceCloseWaitsForRead: COPY does not always wait for its reading
// goroutine when the connection fails, so close must wait for a Read in
// flight before what it uses is freed. Under the race detector (make test)
// this fails without the wait: the test reads what the Read writes.
func TestRowSourceCloseWaitsForRead(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	c := b.create(t, localidadCatalog, false)
	cols, err := columnsOf(c.Resource, pgtype.NewMap())
	require.NoError(t, err)
	stream := &gatedStream{Stream: newCSVStream(t, memory.DefaultAllocator, localidades(20, nil), 8),
		entered: make(chan struct{}), release: make(chan struct{})}
	defer stream.Close()
	src, labels := bindColumns(cols, stream.Schema())
	require.Empty(t, labels)
	rs := newRowSource(b.ctx, stream, &validator{cols: cols, src: src, missing: missingValues(c), errs: newCollector(10), rowBase: 2}, 0)

	buf := make([]byte, 1<<16)
	n, err := rs.Read(buf)
	require.NoError(t, err)
	require.Positive(t, n)
	reading := make(chan error, 1)
	go func() {
		_, err := rs.Read(buf)
		reading <- err
	}()
	<-stream.entered
	closed := make(chan struct{})
	go func() {
		rs.close()
		close(closed)
	}()
	close(stream.release)
	<-closed
	// What the Read in flight wrote is there, and ordered before close
	// returned (the race detector checks the order).
	require.NotEmpty(t, rs.out)
	require.EqualValues(t, 16, rs.read.Load(), "close returned after the Read in flight")
	require.NoError(t, <-reading)
	_, err = rs.Read(buf)
	require.ErrorIs(t, err, errSourceClosed)
}
