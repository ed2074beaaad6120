package health_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
)

// The uptimes and charts read from the hourly roll-up are exactly what the
// checks themselves give, on the same data: checks written one by one and
// in bulk, on hour boundaries, in the future, of connectors of two
// dependencias and of an entity access role.
func TestRollUpMatchesChecks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	c1 := b.httpConnector(t, "http://127.0.0.1:1/a", false)
	c2 := b.httpConnector(t, "http://127.0.0.1:1/b", false)
	c3, err := b.reg.Create(ctx, registry.Input{Dependencia: "SFIA", Name: "Padrón de proveedores", Kind: "http",
		Address: "http://127.0.0.1:1/c", CheckInterval: 60, CheckTimeout: 2}, who)
	require.NoError(t, err)
	var accessID int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO meta.entity_access (dependencia_id, role_name, tables, password_sealed, key_id, granted_by)
		SELECT id, 'ent_sfia_prueba', '{cat_proveedor}', '\x00', 'k1', 'prueba' FROM meta.dependencia WHERE clave = 'SFIA' RETURNING id`).Scan(&accessID))
	ids := []int64{c1.ID, c2.ID, c3.ID}

	// A month and two days of checks every 7 minutes (about one in five failed),
	// in one statement; latencies are whole milliseconds, so that their
	// sums do not depend on the order of addition.
	_, err = b.pool.Exec(ctx, `
		INSERT INTO meta.connectivity_check (connector_id, dependencia_id, checked_at, status, latency_ms)
		SELECT c.id, c.dependencia_id, now() - make_interval(mins => 7 * g) - make_interval(secs => abs(hashtext(c.id || 's' || g)) % 400),
			CASE WHEN abs(hashtext(c.id || 'f' || g)) % 5 = 0 THEN 'timeout' ELSE 'ok' END, abs(hashtext(c.id || 'l' || g)) % 900
		FROM meta.connector c, generate_series(0, 6700) g WHERE c.id = ANY($1)`, ids)
	require.NoError(t, err)
	// One by one: on the hour, a second before and after, in the future,
	// and an entity access role's.
	hour := time.Now().Truncate(time.Hour)
	one := func(col string, id int64, at time.Time, status string, latency float64) {
		t.Helper()
		_, err := b.pool.Exec(ctx, `INSERT INTO meta.connectivity_check (`+col+`, dependencia_id, checked_at, status, latency_ms)
			SELECT $1, dependencia_id, $2, $3, $4 FROM meta.`+map[string]string{"connector_id": "connector", "access_id": "entity_access"}[col]+` WHERE id = $1`,
			id, at, status, latency)
		require.NoError(t, err)
	}
	for _, d := range []time.Duration{0, -time.Second, time.Second, -24 * time.Hour, -7 * 24 * time.Hour, -30 * 24 * time.Hour,
		-30*24*time.Hour - time.Second, -31 * 24 * time.Hour, 10 * time.Minute} {
		one("connector_id", c1.ID, hour.Add(d), "refused", 1500)
		one("access_id", accessID, hour.Add(d), "ok", 12)
	}
	for i := range 200 {
		one("access_id", accessID, hour.Add(-time.Duration(i)*5*time.Hour-time.Duration(i)*time.Minute), []string{"ok", "auth"}[i%2], float64(i))
	}

	// The roll-up is the checks grouped by hour.
	var diff int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM (
		(SELECT connector_id, access_id, dependencia_id, hour, checks, failures, latency_sum_ms, latency_max_ms FROM meta.connectivity_hour
		 EXCEPT ALL
		 SELECT connector_id, access_id, dependencia_id, date_trunc('hour', checked_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
			count(*), count(*) FILTER (WHERE status <> 'ok'), sum(latency_ms), max(latency_ms)
		 FROM meta.connectivity_check GROUP BY 1, 2, 3, 4)
		UNION ALL
		(SELECT connector_id, access_id, dependencia_id, date_trunc('hour', checked_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
			count(*), count(*) FILTER (WHERE status <> 'ok'), sum(latency_ms), max(latency_ms)
		 FROM meta.connectivity_check GROUP BY 1, 2, 3, 4
		 EXCEPT ALL
		 SELECT connector_id, access_id, dependencia_id, hour, checks, failures, latency_sum_ms, latency_max_ms FROM meta.connectivity_hour)) d`).Scan(&diff))
	require.Zero(t, diff, "rows of the roll-up unlike the checks grouped by hour")

	// In one transaction, so that now() is the same for both ways.
	require.NoError(t, pgdb.WithTx(ctx, b.pool, func(tx pgx.Tx) error {
		for _, tc := range []struct {
			kind health.TargetKind
			ids  []int64
		}{{health.KindConnector, append(ids, 987654)}, {health.KindAccess, []int64{accessID}}} {
			got, err := health.UptimesOf(ctx, tx, tc.kind, tc.ids)
			require.NoError(t, err)
			for _, id := range tc.ids {
				require.Equal(t, rawUptimes(t, tx, tc.kind, id), got[id], "%s %d", tc.kind, id)
				one, err := health.TargetUptime(ctx, tx, tc.kind, id)
				require.NoError(t, err)
				require.Equal(t, got[id], one)
			}
			end := health.HourEnd(time.Now())
			for _, span := range []struct {
				step time.Duration
				n    int
			}{{time.Hour, 24}, {24 * time.Hour, 30}, {time.Hour, 800}} {
				got, err := health.BucketsOf(ctx, tx, tc.kind, tc.ids, end, span.step, span.n)
				require.NoError(t, err)
				for _, id := range tc.ids {
					require.Equal(t, rawBuckets(t, tx, tc.kind, id, end, span.step, span.n), got[id], "%s %d, %d × %s", tc.kind, id, span.n, span.step)
				}
			}
		}
		deps, err := health.ByDependencia(ctx, tx)
		require.NoError(t, err)
		require.Equal(t, rawByDependencia(t, tx), deps)
		require.Len(t, deps, 2)
		return nil
	}))
}

// Pruning keeps what the uptimes read; it deletes the checks past the
// retention and their hours.
func TestPruneKeepsUptimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	c := b.httpConnector(t, "http://127.0.0.1:1/", false)
	_, err := b.pool.Exec(ctx, `INSERT INTO meta.connectivity_check (connector_id, dependencia_id, checked_at, status, latency_ms)
		SELECT $1, dependencia_id, now() - make_interval(hours => h), 'ok', 1
		FROM meta.connector, unnest('{1, 700, 745, 2300, 2500}'::int[]) AS h WHERE id = $1`, c.ID)
	require.NoError(t, err)
	before, err := health.TargetUptime(ctx, b.pool, health.KindConnector, c.ID)
	require.NoError(t, err)
	_, err = health.Prune(ctx, b.pool, 30*24*time.Hour)
	require.Error(t, err, "30 days would take the start of the 30-day uptime")
	n, err := health.Prune(ctx, b.pool, health.DefaultRetention)
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "2,300 and 2,500 hours are past 90 days")
	after, err := health.TargetUptime(ctx, b.pool, health.KindConnector, c.ID)
	require.NoError(t, err)
	require.Equal(t, before, after)
	var hours, checks int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*), sum(checks) FROM meta.connectivity_hour WHERE connector_id = $1`, c.ID).Scan(&hours, &checks))
	require.EqualValues(t, 3, hours)
	require.EqualValues(t, 3, checks)
	_, err = b.pool.Exec(ctx, `UPDATE meta.connectivity_check SET status = 'ok'`)
	require.ErrorContains(t, err, "append-only", "a check changed would leave its hour wrong")
}

func targetCol(kind health.TargetKind) string {
	if kind == health.KindAccess {
		return "access_id"
	}
	return "connector_id"
}

const rawUptimeCols = `
	count(*) FILTER (WHERE checked_at > now() - interval '24 hours'),
	count(*) FILTER (WHERE checked_at > now() - interval '24 hours' AND status = 'ok'),
	count(*) FILTER (WHERE checked_at > now() - interval '7 days'),
	count(*) FILTER (WHERE checked_at > now() - interval '7 days' AND status = 'ok'),
	count(*),
	count(*) FILTER (WHERE status = 'ok')`

func rawCounts(n [6]int64) []health.Uptime {
	out := make([]health.Uptime, len(health.Windows))
	for i, w := range health.Windows {
		u := health.Uptime{Window: w.Name, Checks: n[2*i], OK: n[2*i+1]}
		if u.Checks > 0 {
			r := float64(u.OK) / float64(u.Checks)
			u.Ratio = &r
		}
		out[i] = u
	}
	return out
}

// rawUptimes is a target's uptime counted on its checks.
func rawUptimes(t *testing.T, tx pgx.Tx, kind health.TargetKind, id int64) []health.Uptime {
	t.Helper()
	var n [6]int64
	require.NoError(t, tx.QueryRow(context.Background(), `SELECT `+rawUptimeCols+` FROM meta.connectivity_check
		WHERE `+targetCol(kind)+` = $1 AND checked_at > now() - interval '30 days'`, id).
		Scan(&n[0], &n[1], &n[2], &n[3], &n[4], &n[5]))
	return rawCounts(n)
}

// rawByDependencia is every dependencia's uptime counted on the checks.
func rawByDependencia(t *testing.T, tx pgx.Tx) []health.DependenciaUptime {
	t.Helper()
	rows, err := tx.Query(context.Background(), `SELECT d.clave, `+rawUptimeCols+` FROM meta.connectivity_check c
		JOIN meta.dependencia d ON d.id = c.dependencia_id
		WHERE c.checked_at > now() - interval '30 days'
		GROUP BY d.clave ORDER BY d.clave`)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (health.DependenciaUptime, error) {
		var d health.DependenciaUptime
		var n [6]int64
		err := r.Scan(&d.Dependencia, &n[0], &n[1], &n[2], &n[3], &n[4], &n[5])
		d.Uptime = rawCounts(n)
		return d, err
	})
	require.NoError(t, err)
	return out
}

// rawBuckets is a target's chart counted on its checks.
func rawBuckets(t *testing.T, tx pgx.Tx, kind health.TargetKind, id int64, end time.Time, step time.Duration, n int) []health.Bucket {
	t.Helper()
	start := end.Add(-time.Duration(n) * step)
	out := make([]health.Bucket, n)
	for i := range out {
		out[i].Start = start.Add(time.Duration(i) * step)
	}
	rows, err := tx.Query(context.Background(), `
		SELECT floor(extract(epoch FROM checked_at - $2::timestamptz) / $3)::int, count(*), count(*) FILTER (WHERE status = 'ok')
		FROM meta.connectivity_check
		WHERE `+targetCol(kind)+` = $1 AND checked_at >= $2::timestamptz AND checked_at < $4::timestamptz
		GROUP BY 1`, id, start, step.Seconds(), end)
	require.NoError(t, err)
	var b int
	var checks, ok int64
	_, err = pgx.ForEachRow(rows, []any{&b, &checks, &ok}, func() error {
		out[b].Checks, out[b].OK = checks, ok
		return nil
	})
	require.NoError(t, err)
	return out
}
