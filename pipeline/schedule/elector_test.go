package schedule_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline/schedule"
)

func TestOneLeaderAndFailover(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	a := schedule.NewElector(pool, schedule.LeaderLock, nil)
	b := schedule.NewElector(pool, schedule.LeaderLock, nil)
	defer a.Close()
	defer b.Close()

	require.NoError(t, a.IsLeader(ctx))
	require.NoError(t, a.IsLeader(ctx), "the leader stays leader")
	require.ErrorIs(t, b.IsLeader(ctx), schedule.ErrNotLeader)
	require.True(t, a.Leading())
	require.False(t, b.Leading())

	// The leader's process dies: its session ends (the timeout waits until
	// it has, with its locks: without it, b could ask while the lock is
	// still held).
	_, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'gobdatos-leader'
		  AND pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted)`)
	require.NoError(t, err)

	require.NoError(t, b.IsLeader(ctx), "another instance takes over")
	require.ErrorIs(t, a.IsLeader(ctx), schedule.ErrNotLeader, "the old leader notices it lost")
	require.False(t, a.Leading())

	// Giving leadership up hands it over at once.
	require.NoError(t, b.Close())
	require.NoError(t, a.IsLeader(ctx))
}
