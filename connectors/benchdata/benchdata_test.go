package benchdata_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/benchdata"
	"github.com/dgtit-gto/gobdatos/connectors/decode"
	"github.com/dgtit-gto/gobdatos/connectors/file"
)

func TestSameSeedSameBytes(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	require.NoError(t, benchdata.Write(&a, 2000, 7))
	require.NoError(t, benchdata.Write(&b, 2000, 7))
	assert.Equal(t, a.Bytes(), b.Bytes())
	streamed, err := io.ReadAll(benchdata.Reader(2000, 7))
	require.NoError(t, err)
	assert.Equal(t, a.Bytes(), streamed, "Reader yields what Write writes")
	var c bytes.Buffer
	require.NoError(t, benchdata.Write(&c, 2000, 8))
	assert.NotEqual(t, a.Bytes(), c.Bytes())
}

// The file decodes cleanly: 12 columns, no ragged row, keys with zeros.
func TestDecodes(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := decode.Open(context.Background(), decode.Input{R: benchdata.Reader(5000, 1)}, connectors.Options{Allocator: mem})
	require.NoError(t, err)
	defer st.Close()
	names := connectors.Names(st.Schema())
	require.Len(t, names, 12)
	for i, f := range benchdata.Fields {
		assert.Equal(t, f.Name, names[i])
	}
	var rows int64
	for st.Next() {
		rec := st.RecordBatch()
		if rows == 0 {
			assert.Equal(t, "0000001", rec.Column(0).ValueStr(0))
		}
		rows += rec.NumRows()
	}
	require.NoError(t, st.Err())
	assert.Empty(t, st.Issues())
	assert.Equal(t, int64(5000), rows)
}

// BenchmarkDecodeCSV decodes the benchmark file from disk with the file
// source and prints rows/s, MB/s and the peak heap: the same for 5M rows
// as for 1M (the decoder streams, it does not buffer).
func BenchmarkDecodeCSV(b *testing.B) {
	for _, rows := range []int{benchdata.DefaultRows, 5 * benchdata.DefaultRows} {
		b.Run("rows="+strconv.Itoa(rows), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "bench.csv")
			f, err := os.Create(path)
			require.NoError(b, err)
			require.NoError(b, benchdata.Write(f, rows, 1))
			require.NoError(b, f.Close())
			info, err := os.Stat(path)
			require.NoError(b, err)
			b.SetBytes(info.Size())
			b.ResetTimer()
			benchdata.BenchStream(b, int64(rows), func(ctx context.Context) (connectors.Stream, error) {
				return file.Source{Path: path}.Open(ctx, connectors.Options{})
			})
		})
	}
}
