package migrations_test

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// A database that already holds connectivity checks gets their hourly
// roll-up when 0045 is applied: every hour of every target, as the checks
// grouped by hour.
func TestConnectivityHourBackFill(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewEmpty(t))
	require.NoError(t, err)
	defer pool.Close()

	all := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(migrations.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(migrations.FS(), path)
		all[path] = &fstest.MapFile{Data: data}
		return err
	}))
	before := fstest.MapFS{}
	for name, f := range all {
		if !strings.HasPrefix(name, "0045_") {
			before[name] = f
		}
	}
	require.Len(t, before, len(all)-1, "0045 is the roll-up's migration")
	m, err := migrations.NewWithFS(pool, before, nil)
	require.NoError(t, err)
	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.NoError(t, m.Close())

	_, err = pool.Exec(ctx, `
		INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad');
		INSERT INTO meta.connector (dependencia_id, name, kind, address) SELECT id, 'Fuente ' || g, 'http', 'http://127.0.0.1:1/'
			FROM meta.dependencia, generate_series(1, 3) g;
		INSERT INTO meta.entity_access (dependencia_id, role_name, tables, password_sealed, key_id, granted_by)
			SELECT id, 'ent_seg_prueba', '{cat_delito}', '\x00', 'k1', 'prueba' FROM meta.dependencia;
		INSERT INTO meta.connectivity_check (connector_id, dependencia_id, checked_at, status, latency_ms)
			SELECT c.id, c.dependencia_id, now() - make_interval(mins => 5 * g), CASE WHEN g % 7 = 0 THEN 'dns' ELSE 'ok' END, g % 300
			FROM meta.connector c, generate_series(0, 3000) g;
		INSERT INTO meta.connectivity_check (access_id, dependencia_id, checked_at, status, latency_ms)
			SELECT a.id, a.dependencia_id, now() - make_interval(mins => 13 * g), CASE WHEN g % 3 = 0 THEN 'auth' ELSE 'ok' END, g % 50
			FROM meta.entity_access a, generate_series(0, 500) g;`)
	require.NoError(t, err)

	m, err = migrations.NewWithFS(pool, all, nil)
	require.NoError(t, err)
	defer m.Close()
	res, err := m.Up(ctx)
	require.NoError(t, err)
	require.Len(t, res, 1)
	var hours, checks, diff int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), sum(checks) FROM meta.connectivity_hour`).Scan(&hours, &checks))
	require.EqualValues(t, 3*3001+501, checks)
	require.Greater(t, hours, int64(3*250))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (
		SELECT connector_id, access_id, dependencia_id, date_trunc('hour', checked_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
			count(*), count(*) FILTER (WHERE status <> 'ok'), sum(latency_ms), max(latency_ms)
		FROM meta.connectivity_check GROUP BY 1, 2, 3, 4
		EXCEPT
		SELECT connector_id, access_id, dependencia_id, hour, checks, failures, latency_sum_ms, latency_max_ms FROM meta.connectivity_hour) d`).Scan(&diff))
	require.Zero(t, diff)
}
