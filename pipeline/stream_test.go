package pipeline

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
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
