package schedule_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline/schedule"
)

// Two instances with the same job: only the leader runs it; when the leader
// stops, the other takes over.
func TestOnlyTheLeaderRunsJobs(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	var runsA, runsB atomic.Int32
	ranA := make(chan struct{}, 100)
	ranB := make(chan struct{}, 100)
	start := func(runs *atomic.Int32, ran chan struct{}) (*schedule.Scheduler, context.CancelFunc, chan error) {
		s, err := schedule.New(pool, nil)
		require.NoError(t, err)
		require.NoError(t, s.Every("probe", 150*time.Millisecond, func(context.Context) error {
			runs.Add(1)
			ran <- struct{}{}
			return nil
		}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Run(ctx) }()
		return s, cancel, done
	}
	a, stopA, doneA := start(&runsA, ranA)
	for range 3 {
		<-ranA
	}
	b, stopB, doneB := start(&runsB, ranB)
	defer func() { stopB(); <-doneB }()
	for range 4 { // B's timer has fired by now; A keeps running alone
		<-ranA
	}
	require.True(t, a.Leading())
	require.False(t, b.Leading())
	require.Zero(t, runsB.Load())

	stopA()
	require.NoError(t, <-doneA)
	select {
	case <-ranB:
	case <-time.After(10 * time.Second):
		t.Fatal("the second instance did not take over")
	}
	require.True(t, b.Leading())
}
