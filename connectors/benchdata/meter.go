package benchdata

import (
	"context"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// Meter measures one run of a benchmark: wall time, this process's CPU
// time (the machine may be shared) and the peak heap, sampled through
// runtime/metrics without stopping the world.
type Meter struct {
	start    time.Time
	cpu0     time.Duration
	peak     atomic.Uint64
	done     atomic.Bool
	finished chan struct{}
}

// Measurement is what a Meter saw.
type Measurement struct {
	Elapsed, CPU time.Duration
	PeakHeap     uint64 // bytes
}

// StartMeter collects garbage, then starts measuring.
func StartMeter() *Meter {
	runtime.GC()
	m := &Meter{finished: make(chan struct{})}
	go func() {
		defer close(m.finished)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		for !m.done.Load() {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > m.peak.Load() {
				m.peak.Store(v)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	m.start, m.cpu0 = time.Now(), cpuTime()
	return m
}

// Stop ends the measurement.
func (m *Meter) Stop() Measurement {
	res := Measurement{Elapsed: time.Since(m.start), CPU: cpuTime() - m.cpu0}
	m.done.Store(true)
	<-m.finished
	res.PeakHeap = m.peak.Load()
	return res
}

// Report prints rows/s, rows per CPU-second and the peak heap in MB of
// runs that each handled rows rows.
func Report(b *testing.B, rows int64, runs []Measurement) {
	var elapsed, cpu time.Duration
	var peak uint64
	for _, r := range runs {
		elapsed += r.Elapsed
		cpu += r.CPU
		peak = max(peak, r.PeakHeap)
	}
	total := float64(rows) * float64(len(runs))
	b.ReportMetric(total/elapsed.Seconds(), "rows/s")
	b.ReportMetric(total/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchStream runs b.N times: open a stream, read it to its end, check it
// had rows rows; then reports the figures (see Report).
func BenchStream(b *testing.B, rows int64, open func(ctx context.Context) (connectors.Stream, error)) {
	b.Helper()
	var runs []Measurement
	for range b.N {
		m := StartMeter()
		st, err := open(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		for st.Next() {
			n += st.RecordBatch().NumRows()
		}
		if err := st.Err(); err != nil {
			b.Fatal(err)
		}
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		runs = append(runs, m.Stop())
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
	}
	Report(b, rows, runs)
}
