package pipeline

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// csvStream reads CSV text as utf8 columns named by the header, the way the
// text connectors hand files to the pipeline; chunk rows per batch.
type csvStream struct{ *csv.Reader }

func (s csvStream) Close() error { s.Release(); return nil }

func newCSVStream(t testing.TB, mem memory.Allocator, text string, chunk int) Stream {
	t.Helper()
	header := strings.SplitN(text, "\n", 2)[0]
	var fields []arrow.Field
	for _, h := range strings.Split(header, ",") {
		fields = append(fields, arrow.Field{Name: h, Type: arrow.BinaryTypes.String, Nullable: true})
	}
	r := csv.NewReader(strings.NewReader(text), arrow.NewSchema(fields, nil),
		csv.WithHeader(true), csv.WithChunk(chunk), csv.WithAllocator(mem), csv.WithNullReader(false))
	return csvStream{r}
}
