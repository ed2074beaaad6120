package benchdata_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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
			var peak uint64
			var elapsed, cpu time.Duration
			for range b.N {
				runtime.GC()
				stop := sampleHeap(&peak)
				start, cpu0 := time.Now(), cpuTime()
				st, err := file.Source{Path: path}.Open(context.Background(), connectors.Options{})
				require.NoError(b, err)
				var n int64
				for st.Next() {
					n += st.RecordBatch().NumRows()
				}
				require.NoError(b, st.Err())
				require.NoError(b, st.Close())
				elapsed += time.Since(start)
				cpu += cpuTime() - cpu0
				stop()
				require.Equal(b, int64(rows), n)
			}
			b.ReportMetric(float64(rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
			// The machine may be shared: rows per CPU-second says what the
			// decoder costs whatever else runs.
			b.ReportMetric(float64(rows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// sampleHeap records the largest heap (live and not yet collected objects)
// until stop is called; runtime/metrics reads it without stopping the world.
func sampleHeap(peak *uint64) (stop func()) {
	var done atomic.Bool
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for !done.Load() {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > *peak {
				*peak = v
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return func() { done.Store(true); <-finished }
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
