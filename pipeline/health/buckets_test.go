package health_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/pipeline/health"
)

// Checks fall into the slice that holds them — a check at a slice's start
// is in it, one at end is not — and targets never mix.
func TestBucketsUptimesLatest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	a, other, never := b.httpConnector(t, "http://127.0.0.1:1/a", false), b.httpConnector(t, "http://127.0.0.1:1/b", false),
		b.httpConnector(t, "http://127.0.0.1:1/c", false)
	end := time.Now().Truncate(time.Hour).Add(-time.Hour)
	add := func(id int64, ago time.Duration, status string) {
		_, err := b.pool.Exec(ctx, `INSERT INTO meta.connectivity_check (connector_id, dependencia_id, checked_at, status, latency_ms)
			SELECT $1, dependencia_id, $2, $3, 5 FROM meta.connector WHERE id = $1`, id, end.Add(-ago), status)
		require.NoError(t, err)
	}
	add(a.ID, 0, "ok")                   // at end: outside the chart
	add(a.ID, time.Hour, "ok")           // start of the last slice
	add(a.ID, 90*time.Minute, "timeout") // the slice before
	add(a.ID, 2*time.Hour-time.Second, "ok")
	add(a.ID, 3*time.Hour, "ok")             // start of the first slice
	add(a.ID, 3*time.Hour+time.Second, "ok") // before the chart
	add(other.ID, 30*time.Minute, "refused")

	got, err := health.BucketsOf(ctx, b.pool, health.KindConnector, []int64{a.ID, other.ID, never.ID}, end, time.Hour, 3)
	require.NoError(t, err)
	for _, tc := range []struct {
		id         int64
		checks, ok []int64
	}{
		{a.ID, []int64{1, 2, 1}, []int64{1, 1, 1}},
		{other.ID, []int64{0, 0, 1}, []int64{0, 0, 0}},
		{never.ID, []int64{0, 0, 0}, []int64{0, 0, 0}},
	} {
		require.Len(t, got[tc.id], 3)
		for i, bk := range got[tc.id] {
			require.Equal(t, tc.checks[i], bk.Checks, "target %d slice %d", tc.id, i)
			require.Equal(t, tc.ok[i], bk.OK, "target %d slice %d", tc.id, i)
			require.True(t, bk.Start.Equal(end.Add(time.Duration(i-3)*time.Hour)))
		}
	}
	r, ok := got[a.ID][1].Ratio()
	require.True(t, ok)
	require.InDelta(t, 0.5, r, 1e-9)
	_, ok = got[never.ID][0].Ratio()
	require.False(t, ok)

	single, err := health.TargetUptime(ctx, b.pool, health.KindConnector, a.ID)
	require.NoError(t, err)
	require.EqualValues(t, 6, single[0].Checks)

	days, err := health.BucketsOf(ctx, b.pool, health.KindConnector, []int64{a.ID, never.ID}, end.Add(time.Hour), 24*time.Hour, 30)
	require.NoError(t, err)
	require.EqualValues(t, 6, days[a.ID][29].Checks, "the last day holds every check")
	for _, bad := range []struct {
		end  time.Time
		step time.Duration
	}{{end.Add(time.Second), time.Hour}, {end, 90 * time.Minute}, {end, time.Minute}} {
		_, err := health.BucketsOf(ctx, b.pool, health.KindConnector, []int64{a.ID}, bad.end, bad.step, 3)
		require.Error(t, err, "the roll-up holds whole hours: %s, %s", bad.end, bad.step)
	}
	many, err := health.UptimesOf(ctx, b.pool, health.KindConnector, []int64{a.ID, never.ID})
	require.NoError(t, err)
	require.Equal(t, single, many[a.ID])
	require.Nil(t, many[never.ID][2].Ratio, "no checks, no ratio")

	last, err := health.LatestOf(ctx, b.pool, health.KindConnector, []int64{a.ID, other.ID, never.ID})
	require.NoError(t, err)
	require.Equal(t, "ok", last[a.ID].Status)
	require.True(t, last[a.ID].At.Equal(end))
	require.Equal(t, "refused", last[other.ID].Status)
	require.NotContains(t, last, never.ID)
}
