package health_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/pipeline/schedule"
)

// Two instances run the same jobs. The leader dies: the other takes over
// and no connector is checked twice within one interval. Then every
// database session of the instances is killed: they reconnect and carry on.
func TestLeaderFailoverAndDatabaseSessionsKilled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"clave": "001"}]`)
	}))
	defer srv.Close()
	b := setup(t, nil)
	ctx := context.Background()
	const interval = 10 * time.Second
	for i := range 3 {
		_, err := b.reg.Create(ctx, registry.Input{Dependencia: "SEG", Name: fmt.Sprintf("API %d", i), Kind: "http",
			Address: srv.URL, CheckInterval: registry.Seconds(interval / time.Second), CheckTimeout: 2}, who)
		require.NoError(t, err)
	}
	type instance struct {
		sched  *schedule.Scheduler
		cancel context.CancelFunc
		done   chan error
	}
	start := func() instance {
		ictx, cancel := context.WithCancel(context.Background())
		sched, err := schedule.New(b.pool, nil)
		require.NoError(t, err)
		ch := health.NewChecker(health.Checker{DB: b.pool, Connectors: b.reg, Access: b.acc, Probe: health.SourceProbe}, 4)
		jobs := &health.Jobs{Sched: sched, Checker: ch}
		ready := make(chan struct{})
		done := make(chan error, 2)
		go func() { done <- jobs.Run(ictx, func() { close(ready) }) }()
		<-ready
		go func() { done <- sched.Run(ictx) }()
		return instance{sched: sched, cancel: cancel, done: done}
	}
	stop := func(in instance) {
		in.cancel()
		require.NoError(t, <-in.done)
		require.NoError(t, <-in.done)
	}
	count := func() int {
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM meta.connectivity_check`).Scan(&n))
		return n
	}
	a := start()
	require.Eventually(t, func() bool { return count() >= 3 }, 10*time.Second, 50*time.Millisecond, "the first leader checks")
	other := start()
	defer stop(other)
	require.True(t, a.sched.Leading())

	// The leader dies.
	stop(a)
	died := time.Now()
	require.Eventually(t, func() bool { return count() >= 6 }, 2*interval+5*time.Second, 100*time.Millisecond, "the other instance takes over")
	require.True(t, other.sched.Leading())
	require.Less(t, time.Since(died), 2*interval+5*time.Second)

	// Every session of the database is killed under the scheduler.
	_, err := b.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	require.NoError(t, err)
	before := count()
	require.Eventually(t, func() bool { return count() >= before+3 }, 2*interval+10*time.Second, 100*time.Millisecond, "checks carry on after reconnecting")

	var tooClose int
	require.NoError(t, b.pool.QueryRow(ctx, `
		SELECT count(*) FROM (
			SELECT checked_at - lag(checked_at) OVER (PARTITION BY connector_id ORDER BY checked_at) AS gap
			FROM meta.connectivity_check) g
		WHERE gap < make_interval(secs => $1)`, 0.8*interval.Seconds()).Scan(&tooClose))
	require.Zero(t, tooClose, "no connector was checked twice within one interval")
}
