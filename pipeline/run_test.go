package pipeline

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

func TestRunLifecycle(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	r, err := CreateRun(ctx, pool, NewRun{CatalogID: 7, CatalogClave: "municipio", Trigger: Upload, Source: "archivo.csv", ActorLogin: "ana"})
	require.NoError(t, err)
	require.Equal(t, Queued, r.State)
	require.NoError(t, startRun(ctx, pool, r.ID))
	require.Error(t, startRun(ctx, pool, r.ID), "a run starts once")
	total := int64(1000)
	require.NoError(t, updateProgress(ctx, pool, r.ID, progress{stage: StageValidate, read: 10, valid: 9, rejected: 1, bytesRead: 500, bytesTotal: &total,
		timings: map[string]float64{StageOpen: 0.5}}))
	got, err := GetRun(ctx, pool, r.ID)
	require.NoError(t, err)
	require.Equal(t, Running, got.State)
	require.EqualValues(t, 10, got.RowsRead)
	require.EqualValues(t, 1000, *got.BytesTotal)
	require.Equal(t, 0.5, got.Timings[StageOpen])

	v := 3
	rep := &Report{Valid: true, Stats: Stats{Rows: 10}}
	require.NoError(t, finishRun(ctx, pool, r.ID, outcome{state: Succeeded, progress: progress{stage: StagePublish, read: 10, valid: 10}, report: rep, version: &v, added: 4}))
	got, err = GetRun(ctx, pool, r.ID)
	require.NoError(t, err)
	require.Equal(t, Succeeded, got.State)
	require.NotNil(t, got.FinishedAt)
	require.Equal(t, 3, *got.Version)
	require.EqualValues(t, 4, got.RowsAdded)
	require.Equal(t, rep, got.Report)

	list, err := ListRuns(ctx, pool, 7, 0, 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	_, err = GetRun(ctx, pool, r.ID+100)
	require.ErrorIs(t, err, ErrRunNotFound)
}

func TestRecoverRunsSparesLiveRuns(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	orphan, err := CreateRun(ctx, pool, NewRun{CatalogID: 1, CatalogClave: "a"})
	require.NoError(t, err)
	require.NoError(t, startRun(ctx, pool, orphan.ID))
	st := &staging{name: stagingName(orphan.ID), cols: nil}
	require.NoError(t, st.create(ctx, pool))

	live, err := CreateRun(ctx, pool, NewRun{CatalogID: 2, CatalogClave: "b"})
	require.NoError(t, err)
	require.NoError(t, startRun(ctx, pool, live.ID))
	unlock, ok, err := lockCatalog(ctx, pool, 2, 0)
	require.NoError(t, err)
	require.True(t, ok)

	_, busy, err := lockCatalog(ctx, pool, 2, 0)
	require.NoError(t, err)
	require.False(t, busy, "runs of one catalog never overlap")

	n, err := RecoverRuns(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	got, err := GetRun(ctx, pool, orphan.ID)
	require.NoError(t, err)
	require.Equal(t, Failed, got.State)
	require.Equal(t, "interrupted", got.ErrorCode)
	require.Contains(t, got.Error, "se interrumpió")
	var exists bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", st.qualified()).Scan(&exists))
	require.False(t, exists, "the orphan's staging table is dropped")

	got, err = GetRun(ctx, pool, live.ID)
	require.NoError(t, err)
	require.Equal(t, Running, got.State)
	unlock()
	n, err = RecoverRuns(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, 1, n)
}
