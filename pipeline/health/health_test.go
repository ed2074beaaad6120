package health_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/pipeline/schedule"
)

var (
	steward = audit.Actor{Login: "coordinador"}
	who     = audit.Entry{Actor: steward}
)

type bundle struct {
	pool    *pgxpool.Pool
	reg     *registry.Store
	acc     *access.Store
	checker *health.Checker
}

func setup(t testing.TB, probe health.ConnectorProbe) bundle {
	t.Helper()
	pool := pgtest.New(t)
	_, err := pool.Exec(context.Background(), `
		INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad'), ('SFIA', 'Secretaría de Finanzas');
		INSERT INTO meta.app_user (login, email, full_name, profile) VALUES
			('directora', 'directora@guanajuato.gob.mx', 'Directora', 'superadmin'),
			('coordinador', 'coordinador@guanajuato.gob.mx', 'Coordinador', 'admin'),
			('inactivo', 'inactivo@guanajuato.gob.mx', 'Inactivo', 'admin'),
			('consulta', 'consulta@guanajuato.gob.mx', 'Consulta', 'consulta');
		UPDATE meta.app_user SET active = false WHERE login = 'inactivo';
		INSERT INTO meta.app_user (login, email, full_name, profile, dependencia_id) VALUES
			('enlace.seg', 'enlace@seg.gob.mx', 'Enlace SEG', 'publicador', (SELECT id FROM meta.dependencia WHERE clave = 'SEG'));`)
	require.NoError(t, err)
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	reg := &registry.Store{DB: pool, Keys: keys}
	acc := &access.Store{DB: pool, Keys: keys}
	if probe == nil {
		probe = health.SourceProbe
	}
	ch := health.NewChecker(health.Checker{DB: pool, Connectors: reg, Access: acc, Probe: probe,
		Alerts: health.Alerts{Webhooks: []string{"https://hooks.seg.gob.mx/gobdatos"}, BaseURL: "https://datos.guanajuato.gob.mx"}}, 4)
	return bundle{pool: pool, reg: reg, acc: acc, checker: ch}
}

func (b bundle) httpConnector(t *testing.T, url string, owner bool) registry.Connector {
	t.Helper()
	in := registry.Input{Dependencia: "SEG", Name: "API de delitos " + randHex(3), Kind: "http", Address: url, CheckInterval: 60, CheckTimeout: 2}
	if owner {
		var id int64
		require.NoError(t, b.pool.QueryRow(context.Background(), `SELECT id FROM meta.app_user WHERE login = 'enlace.seg'`).Scan(&id))
		in.OwnerID = &id
	}
	c, err := b.reg.Create(context.Background(), in, who)
	require.NoError(t, err)
	return c
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type outboxRow struct {
	Kind, Recipient, Subject, Body string
}

func outboxRows(t *testing.T, pool *pgxpool.Pool) []outboxRow {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT kind, recipient, subject, body FROM meta.outbox ORDER BY id`)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[outboxRow])
	require.NoError(t, err)
	return out
}

// An endpoint that fails three times in a row alerts the owner and the
// stewards once (mail and webhook); more failures add nothing; the first
// success sends the recovery, once.
func TestAlertAfterThresholdOnceAndOnRecovery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "caído", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `[{"clave":"1"}]`)
	}))
	defer srv.Close()
	b := setup(t, nil)
	c := b.httpConnector(t, srv.URL, true)

	check := func(want string) {
		t.Helper()
		res, err := b.checker.Connector(ctx, c.ID, true)
		require.NoError(t, err)
		require.Equal(t, want, res.Status)
	}
	check(health.StatusOK)
	failing.Store(true)
	check(health.StatusError)
	check(health.StatusError)
	require.Empty(t, outboxRows(t, b.pool), "two failures are not yet an alert")
	check(health.StatusError)
	down := outboxRows(t, b.pool)
	var mails []string
	for _, m := range down {
		if m.Kind == "email" {
			mails = append(mails, m.Recipient)
			require.Contains(t, m.Subject, "Sin conexión")
			require.Contains(t, m.Body, "falló 3 revisiones seguidas")
			require.Contains(t, m.Body, "https://datos.guanajuato.gob.mx/conectores")
		}
	}
	require.ElementsMatch(t, []string{"directora@guanajuato.gob.mx", "coordinador@guanajuato.gob.mx", "enlace@seg.gob.mx"}, mails,
		"the owner and the active stewards")
	require.Len(t, down, 4, "three mails and one webhook")
	check(health.StatusError)
	check(health.StatusError)
	require.Len(t, outboxRows(t, b.pool), 4, "alerted once")

	failing.Store(false)
	check(health.StatusOK)
	all := outboxRows(t, b.pool)
	require.Len(t, all, 8)
	for _, m := range all[4:] {
		if m.Kind == "email" {
			require.Contains(t, m.Subject, "Recuperado")
		} else {
			require.Equal(t, "connector.recovered", m.Subject)
		}
	}
	check(health.StatusOK)
	require.Len(t, outboxRows(t, b.pool), 8, "recovery told once")

	got, err := b.reg.Get(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, 0, got.Failures)
	require.Equal(t, "ok", got.LastStatus)
	hist, err := health.History(ctx, b.pool, health.KindConnector, c.ID, 100)
	require.NoError(t, err)
	require.Len(t, hist, 8)
	require.Equal(t, "ok", hist[0].Status)
	up, err := health.TargetUptime(ctx, b.pool, health.KindConnector, c.ID)
	require.NoError(t, err)
	require.Equal(t, int64(8), up[0].Checks)
	require.Equal(t, int64(3), up[0].OK)
	require.InDelta(t, 3.0/8, *up[0].Ratio, 1e-9)
}

// Two instances whose timers fire together check a connector once.
func TestClaimChecksOncePerInterval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	b := setup(t, nil)
	c := b.httpConnector(t, srv.URL, false)
	other := health.NewChecker(health.Checker{DB: b.pool, Connectors: b.reg, Access: b.acc, Probe: health.SourceProbe}, 2)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, ch := range []*health.Checker{b.checker, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = ch.Connector(ctx, c.ID, false)
		}()
	}
	wg.Wait()
	skipped := 0
	for _, err := range errs {
		if errors.Is(err, health.ErrSkipped) {
			skipped++
		} else {
			require.NoError(t, err)
		}
	}
	require.Equal(t, 1, skipped)
	require.Equal(t, int32(1), hits.Load())
	_, err := b.checker.Connector(ctx, c.ID, false)
	require.ErrorIs(t, err, health.ErrSkipped, "checked less than an interval ago")

	off := false
	_, err = b.reg.Update(ctx, c.ID, registry.Input{Name: c.Name, Kind: "http", Address: srv.URL, Enabled: &off}, who)
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE meta.connector SET last_check_at = NULL`)
	require.NoError(t, err)
	_, err = b.checker.Connector(ctx, c.ID, false)
	require.ErrorIs(t, err, health.ErrSkipped, "a disabled connector is not checked on schedule")
	_, err = b.checker.Connector(ctx, c.ID, true)
	require.NoError(t, err, "but can be checked by hand")
}

// A connector deleted while its check runs leaves no result and no error.
func TestConnectorDeletedWhileItsCheckRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	started := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
	}))
	defer srv.Close()
	b := setup(t, nil)
	c := b.httpConnector(t, srv.URL, false)
	done := make(chan error, 1)
	go func() {
		_, err := b.checker.Connector(ctx, c.ID, true)
		done <- err
	}()
	<-started
	require.NoError(t, b.reg.Delete(ctx, c.ID, who))
	close(release)
	require.ErrorIs(t, <-done, health.ErrSkipped)
	var n int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM meta.connectivity_check`).Scan(&n))
	require.Zero(t, n)
}

// A check that does not answer within the connector's timeout is a timeout.
func TestCheckTimeout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	b := setup(t, nil)
	c := b.httpConnector(t, srv.URL, false)
	start := time.Now()
	res, err := b.checker.Connector(ctx, c.ID, true)
	require.NoError(t, err)
	require.Equal(t, health.StatusTimeout, res.Status)
	require.Less(t, time.Since(start), 5*time.Second, "bounded by check_timeout (2 s)")
}

func TestEntityAccessCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	role := "t_hc_" + randHex(5)
	t.Cleanup(func() {
		if conn, err := pgx.Connect(context.Background(), pgtest.ServerURL()); err == nil {
			_, _ = conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgdb.QuoteIdent(role))
			conn.Close(context.Background())
		}
	})
	b := setup(t, nil)
	_, err := b.pool.Exec(ctx, `CREATE TABLE cat.cat_delito (id int PRIMARY KEY); CREATE TABLE cat.cat_corporacion (id int PRIMARY KEY)`)
	require.NoError(t, err)
	g, _, err := b.acc.Grant(ctx, access.Request{Dependencia: "SEG", Role: role, Tables: []string{"cat_delito", "cat_corporacion"}, Actor: steward})
	require.NoError(t, err)

	for _, tc := range []struct {
		name, breakIt, want, message string
	}{
		{"granted", ``, health.StatusOK, ""},
		{"privilege taken", `REVOKE DELETE ON cat.cat_corporacion FROM ` + role, health.StatusPermission, "cat.cat_corporacion"},
		{"table gone", `DROP TABLE cat.cat_delito`, health.StatusMissing, "cat.cat_delito"},
		{"login refused", `ALTER ROLE ` + role + ` NOLOGIN`, health.StatusAuth, ""},
	} {
		if tc.breakIt != "" {
			_, err := b.pool.Exec(ctx, tc.breakIt)
			require.NoError(t, err, tc.name)
		}
		res, err := b.checker.EntityAccess(ctx, g.ID, time.Minute, true)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, res.Status, "%s: %s", tc.name, res.Message)
		require.Contains(t, res.Message, tc.message, tc.name)
	}
	up, err := health.TargetUptime(ctx, b.pool, health.KindAccess, g.ID)
	require.NoError(t, err)
	require.Equal(t, int64(4), up[2].Checks)
	require.Equal(t, int64(1), up[2].OK)
	require.Len(t, outboxRows(t, b.pool), 3, "three failures: the stewards are told (two mails, one webhook)")

	require.NoError(t, b.acc.Revoke(ctx, role, steward))
	_, err = b.checker.EntityAccess(ctx, g.ID, time.Minute, true)
	require.ErrorIs(t, err, health.ErrSkipped, "a revoked grant is not checked")
}

func TestUptimeWindowsAndDependencias(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	c := b.httpConnector(t, "http://127.0.0.1:1/", false)
	_, err := b.pool.Exec(ctx, `
		INSERT INTO meta.connectivity_check (connector_id, dependencia_id, checked_at, status, latency_ms)
		SELECT $1, (SELECT id FROM meta.dependencia WHERE clave = 'SEG'), now() - make_interval(hours => h), s, 1
		FROM (VALUES (1, 'ok'), (2, 'refused'), (48, 'ok'), (100, 'timeout'), (400, 'ok'), (800, 'ok')) AS v(h, s)`, c.ID)
	require.NoError(t, err)
	up, err := health.TargetUptime(ctx, b.pool, health.KindConnector, c.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{2, 4, 5}, []int64{up[0].Checks, up[1].Checks, up[2].Checks}, "800 h is past 30 days")
	require.InDelta(t, 0.5, *up[0].Ratio, 1e-9)
	require.InDelta(t, 0.5, *up[1].Ratio, 1e-9)
	require.InDelta(t, 0.6, *up[2].Ratio, 1e-9)
	deps, err := health.ByDependencia(ctx, b.pool)
	require.NoError(t, err)
	require.Len(t, deps, 1)
	require.Equal(t, "SEG", deps[0].Dependencia)
	require.Equal(t, int64(5), deps[0].Uptime[2].Checks)
	none, err := health.TargetUptime(ctx, b.pool, health.KindAccess, 12345)
	require.NoError(t, err)
	require.Nil(t, none[0].Ratio, "no checks, no ratio")
	n, err := health.Prune(ctx, b.pool, 31*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
}

// Jobs follow the connectors: created, changed, disabled, deleted — without
// a restart — and the leader runs them.
func TestJobsFollowChanges(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	b := setup(t, nil)
	first := b.httpConnector(t, srv.URL, false)

	sched, err := schedule.New(b.pool, nil)
	require.NoError(t, err)
	jobs := &health.Jobs{Sched: sched, Checker: b.checker}
	ready := make(chan struct{})
	jobsDone := make(chan error, 1)
	go func() { jobsDone <- jobs.Run(ctx, func() { close(ready) }) }()
	schedDone := make(chan error, 1)
	go func() { schedDone <- sched.Run(ctx) }()
	<-ready
	require.Equal(t, 1, jobs.Len())
	require.Eventually(t, func() bool { return hits.Load() >= 1 }, 10*time.Second, 20*time.Millisecond, "the leader runs the check at once")

	second := b.httpConnector(t, srv.URL, false)
	require.Eventually(t, func() bool { return jobs.Len() == 2 }, 10*time.Second, 20*time.Millisecond, "a new connector is scheduled")
	off := false
	_, err = b.reg.Update(ctx, first.ID, registry.Input{Name: first.Name, Kind: "http", Address: srv.URL, Enabled: &off}, who)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return jobs.Len() == 1 }, 10*time.Second, 20*time.Millisecond, "a disabled connector is unscheduled")
	require.NoError(t, b.reg.Delete(ctx, second.ID, who))
	require.Eventually(t, func() bool { return jobs.Len() == 0 }, 10*time.Second, 20*time.Millisecond, "a deleted connector is unscheduled")

	// The listener's connection is killed: it reconnects and resyncs.
	_, err = b.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'gobdatos-listen'`)
	require.NoError(t, err)
	third := b.httpConnector(t, srv.URL, false)
	_ = third
	require.Eventually(t, func() bool { return jobs.Len() == 1 }, 20*time.Second, 50*time.Millisecond, "changes made while reconnecting are picked up")
	cancel()
	require.NoError(t, <-jobsDone)
	require.NoError(t, <-schedDone)
}

// Real endpoints, each classified by the connectors' own check.
func TestSourceProbeClassifies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/municipios.json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `[{"clave": "001", "nombre": "Abasolo"}]`)
		case "/privado.json":
			http.Error(w, "no", http.StatusUnauthorized)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	b := setup(t, nil)
	for _, tc := range []struct {
		name, url string
		expect    []string
		want      string
	}{
		{"ok", srv.URL + "/municipios.json", []string{"clave", "nombre"}, health.StatusOK},
		{"drift", srv.URL + "/municipios.json", []string{"clave", "nombre", "poblacion"}, health.StatusDrift},
		{"missing", srv.URL + "/nada.json", nil, health.StatusMissing},
		{"auth", srv.URL + "/privado.json", nil, health.StatusAuth},
		{"refused", deadURL + "/municipios.json", nil, health.StatusRefused},
		{"dns", "http://no-existe.invalid/municipios.json", nil, health.StatusDNS},
	} {
		c, err := b.reg.Create(ctx, registry.Input{Dependencia: "SEG", Name: "Prueba " + tc.name, Kind: "http", Address: tc.url,
			ExpectedColumns: tc.expect, CheckTimeout: 5}, who)
		require.NoError(t, err)
		start := time.Now()
		res, err := b.checker.Connector(ctx, c.ID, true)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, res.Status, "%s: %s", tc.name, res.Message)
		require.NotEmpty(t, res.Message)
		require.Less(t, time.Since(start), 5*time.Second, "%s is classified within its timeout", tc.name)
	}

	// PostgreSQL sources: the test's own database.
	_, err := b.pool.Exec(ctx, `CREATE TABLE public.municipio (clave text, nombre text)`)
	require.NoError(t, err)
	cfg := b.pool.Config().ConnConfig
	pgURL := fmt.Sprintf("postgres://%s:%d/%s?sslmode=disable", cfg.Host, cfg.Port, cfg.Database)
	for _, tc := range []struct {
		name, url, object string
		expect            []string
		want              string
	}{
		{"pg ok", pgURL, "public.municipio", []string{"clave", "nombre"}, health.StatusOK},
		{"pg query", pgURL, "SELECT clave FROM public.municipio", []string{"clave"}, health.StatusOK},
		{"pg drift", pgURL, "public.municipio", []string{"clave"}, health.StatusDrift},
		{"pg missing table", pgURL, "public.no_existe", nil, health.StatusMissing},
		{"pg refused", "postgres://127.0.0.1:1/datos", "municipio", nil, health.StatusRefused},
	} {
		c, err := b.reg.Create(ctx, registry.Input{Dependencia: "SEG", Name: "Prueba " + tc.name, Kind: "postgres", Address: tc.url,
			Object: tc.object, Credentials: &registry.Credentials{User: cfg.User}, ExpectedColumns: tc.expect, CheckTimeout: 5}, who)
		require.NoError(t, err)
		start := time.Now()
		res, err := b.checker.Connector(ctx, c.ID, true)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, res.Status, "%s: %s", tc.name, res.Message)
		require.Less(t, time.Since(start), 5*time.Second, "%s is classified within its timeout", tc.name)
	}

	// MySQL sources: a database of the test's own on the machine's MariaDB.
	my := mariaDB(t)
	for _, tc := range []struct {
		name, url, object, user string
		expect                  []string
		want                    string
	}{
		{"my ok", my, "municipio", "root", []string{"clave", "nombre"}, health.StatusOK},
		{"my query", my, "SELECT nombre FROM municipio", "root", []string{"nombre"}, health.StatusOK},
		{"my drift", my, "municipio", "root", []string{"clave", "nombre", "poblacion"}, health.StatusDrift},
		{"my missing", my, "no_existe", "root", nil, health.StatusMissing},
		{"my auth", my, "municipio", "nadie_" + randHex(3), nil, health.StatusAuth},
		{"my refused", "mysql://127.0.0.1:1/datos", "municipio", "root", nil, health.StatusRefused},
	} {
		c, err := b.reg.Create(ctx, registry.Input{Dependencia: "SEG", Name: "Prueba " + tc.name, Kind: "mysql", Address: tc.url,
			Object: tc.object, Credentials: &registry.Credentials{User: tc.user}, ExpectedColumns: tc.expect, CheckTimeout: 5}, who)
		require.NoError(t, err)
		start := time.Now()
		res, err := b.checker.Connector(ctx, c.ID, true)
		require.NoError(t, err, tc.name)
		require.Equal(t, tc.want, res.Status, "%s: %s", tc.name, res.Message)
		require.NotEmpty(t, res.Message)
		require.Less(t, time.Since(start), 5*time.Second, "%s is classified within its timeout", tc.name)
	}
}
