package access_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

var steward = audit.Actor{Login: "coordinador"}

type bundle struct {
	pool  *pgxpool.Pool
	store *access.Store
	role  string // a free role name, dropped at the end whatever happens
}

func setup(t *testing.T) bundle {
	t.Helper()
	role := pgtest.Role(t) // registered first, so it runs after the database is dropped
	pool := pgtest.New(t)
	ctx := context.Background()
	_, err := pool.Exec(ctx, `
		INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad'), ('SFIA', 'Secretaría de Finanzas');
		CREATE TABLE cat.cat_delito (id serial PRIMARY KEY, nombre text NOT NULL);
		CREATE TABLE cat.cat_corporacion (clave text PRIMARY KEY, nombre text NOT NULL);
		CREATE TABLE cat.cat_municipio (clave text PRIMARY KEY, nombre text NOT NULL);
		INSERT INTO cat.cat_municipio VALUES ('001', 'Abasolo');
		CREATE VIEW cat.v_municipio AS SELECT * FROM cat.cat_municipio;`)
	require.NoError(t, err)
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	return bundle{pool: pool, store: &access.Store{DB: pool, Keys: keys}, role: role}
}

// connectAs opens a session as role on the test's database.
func connectAs(t *testing.T, pool *pgxpool.Pool, role, password string) *pgx.Conn {
	t.Helper()
	cfg := pool.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = role, password
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func verifier(t *testing.T, pool *pgxpool.Pool, role string) string {
	t.Helper()
	var v string
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT rolpassword FROM pg_authid WHERE rolname = $1`, role).Scan(&v))
	return v
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if err != nil && errorsAs(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func TestGrantLimitsTheRoleToItsTables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	g, password, err := b.store.Grant(ctx, access.Request{
		Dependencia: "SEG", Role: b.role, Tables: []string{"cat_delito", "cat.cat_corporacion", "cat_delito"}, Actor: steward,
	})
	require.NoError(t, err)
	require.Equal(t, []string{"cat_corporacion", "cat_delito"}, g.Tables, "sorted, schema stripped, deduplicated")
	require.Len(t, password, 32)
	require.True(t, access.ScramMatches(verifier(t, b.pool, b.role), password), "the server holds the verifier of the password shown")

	conn := connectAs(t, b.pool, b.role, password)
	allowed := []string{
		`INSERT INTO cat_delito (nombre) VALUES ('robo')`, // search_path is cat; the serial's sequence is granted
		`INSERT INTO cat.cat_corporacion VALUES ('PE', 'Policía Estatal')`,
		`UPDATE cat.cat_delito SET nombre = 'robo simple'`,
		`SELECT count(*) FROM cat.cat_delito`,
		`DELETE FROM cat.cat_corporacion`,
	}
	for _, stmt := range allowed {
		_, err := conn.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	denied := []string{
		`SELECT * FROM cat.cat_municipio`,
		`INSERT INTO cat.cat_municipio VALUES ('002', 'Acámbaro')`,
		`UPDATE cat.cat_municipio SET nombre = 'x'`,
		`DELETE FROM cat.cat_municipio`,
		`SELECT * FROM cat.v_municipio`,
		`SELECT * FROM meta.app_user`,
		`INSERT INTO meta.audit_log (actor_login, action, object_type) VALUES ('x', 'x', 'x')`,
		`SELECT * FROM public.gobdatos_migrations`,
		`CREATE TABLE cat.cat_nueva (id int)`,
		`CREATE TABLE public.nueva (id int)`,
		`CREATE TEMP TABLE nueva (id int)`,
		`CREATE SCHEMA propia`,
		`CREATE VIEW cat.v_delito AS SELECT 1`,
		`ALTER TABLE cat.cat_delito ADD COLUMN extra int`,
		`DROP TABLE cat.cat_delito`,
		`TRUNCATE cat.cat_delito`,
		`CREATE INDEX ON cat.cat_delito (nombre)`,
		`CREATE ROLE intruso`,
	}
	for _, stmt := range denied {
		_, err := conn.Exec(ctx, stmt)
		require.Equal(t, "42501", sqlState(err), "%s must be refused for lack of privilege, got %v", stmt, err)
	}

	var (
		sealed []byte
		detail string
	)
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT password_sealed FROM meta.entity_access WHERE role_name = $1`, b.role).Scan(&sealed))
	require.NotContains(t, string(sealed), password)
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT detail::text FROM meta.audit_log WHERE action = 'access.grant' AND object_id = $1`, b.role).Scan(&detail))
	require.NotContains(t, detail, password)
	require.Contains(t, detail, "cat_delito")

	creds, err := b.store.Active(ctx)
	require.NoError(t, err)
	require.Len(t, creds, 1)
	require.Equal(t, password, creds[0].Password, "the checks can log in as the role")
}

func TestRotateAndRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	_, first, err := b.store.Grant(ctx, access.Request{Dependencia: "SEG", Role: b.role, Tables: []string{"cat_delito"}, Actor: steward})
	require.NoError(t, err)

	second, err := b.store.Rotate(ctx, b.role, steward)
	require.NoError(t, err)
	require.NotEqual(t, first, second)
	v := verifier(t, b.pool, b.role)
	require.True(t, access.ScramMatches(v, second))
	require.False(t, access.ScramMatches(v, first), "the old password no longer works")
	creds, err := b.store.Active(ctx)
	require.NoError(t, err)
	require.Equal(t, second, creds[0].Password)

	open := connectAs(t, b.pool, b.role, second)
	_, err = open.Exec(ctx, `SELECT 1 FROM cat.cat_delito`)
	require.NoError(t, err)

	require.NoError(t, b.store.Revoke(ctx, b.role, steward))
	var exists bool
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, b.role).Scan(&exists))
	require.False(t, exists, "the role is dropped")
	_, err = open.Exec(ctx, `SELECT 1 FROM cat.cat_delito`)
	require.Error(t, err, "a session opened before the revocation can do nothing more")

	active, err := b.store.List(ctx, false)
	require.NoError(t, err)
	require.Empty(t, active)
	all, err := b.store.List(ctx, true)
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.NotNil(t, all[0].RevokedAt)
	require.NotNil(t, all[0].RotatedAt)
	require.Equal(t, "coordinador", all[0].RevokedBy)
	require.Equal(t, "SEG", all[0].Dependencia)

	var actions []string
	rows, err := b.pool.Query(ctx, `SELECT action FROM meta.audit_log WHERE object_id = $1 ORDER BY id`, b.role)
	require.NoError(t, err)
	actions, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"access.grant", "access.rotate", "access.revoke"}, actions)

	_, err = b.store.Rotate(ctx, b.role, steward)
	require.ErrorIs(t, err, access.ErrNotFound)
	require.ErrorIs(t, b.store.Revoke(ctx, b.role, steward), access.ErrNotFound)

	// The name is free again for a new grant.
	_, _, err = b.store.Grant(ctx, access.Request{Dependencia: "SEG", Role: b.role, Tables: []string{"cat_delito"}, Actor: steward})
	require.NoError(t, err)
}

func TestGrantRefusesBadInputAndChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	for name, tc := range map[string]struct {
		req  access.Request
		want string
	}{
		"bad role":           {access.Request{Dependencia: "SEG", Role: `x"; DROP TABLE cat.cat_delito; --`, Tables: []string{"cat_delito"}}, "no es válido"},
		"reserved role":      {access.Request{Dependencia: "SEG", Role: "pg_write_all_data", Tables: []string{"cat_delito"}}, "pg_"},
		"existing role":      {access.Request{Dependencia: "SEG", Role: "postgres", Tables: []string{"cat_delito"}}, `ya existe un rol llamado "postgres"`},
		"no tables":          {access.Request{Dependencia: "SEG", Role: b.role}, "al menos una tabla"},
		"missing table":      {access.Request{Dependencia: "SEG", Role: b.role, Tables: []string{"cat_delito", "cat_inexistente"}}, "cat.cat_inexistente no existe"},
		"view":               {access.Request{Dependencia: "SEG", Role: b.role, Tables: []string{"v_municipio"}}, "cat.v_municipio no existe"},
		"other schema":       {access.Request{Dependencia: "SEG", Role: b.role, Tables: []string{"meta.app_user"}}, "no es válido"},
		"unknown dependency": {access.Request{Dependencia: "NADA", Role: b.role, Tables: []string{"cat_delito"}}, `la dependencia "NADA" no existe`},
	} {
		tc.req.Actor = steward
		_, _, err := b.store.Grant(ctx, tc.req)
		require.ErrorIs(t, err, access.ErrInvalid, name)
		require.ErrorContains(t, err, tc.want, name)
	}
	var grants, entries int
	var roleExists bool
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM meta.entity_access), (SELECT count(*) FROM meta.audit_log),
		EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, b.role).Scan(&grants, &entries, &roleExists))
	require.Zero(t, grants)
	require.Zero(t, entries)
	require.False(t, roleExists, "a refused grant leaves no role behind")
	require.Equal(t, "ent_seg_2", access.DefaultRole("SEG-2"))
}

func TestResealAfterTheSecretChanges(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	_, password, err := b.store.Grant(ctx, access.Request{Dependencia: "SFIA", Role: b.role, Tables: []string{"cat_municipio"}, Actor: steward})
	require.NoError(t, err)

	newSecret := []byte(strings.Repeat("n", 32))
	onlyNew, err := keyring.New(newSecret)
	require.NoError(t, err)
	_, err = (&access.Store{DB: b.pool, Keys: onlyNew}).Active(ctx)
	require.ErrorIs(t, err, keyring.ErrUnknownKey)

	both, err := keyring.New(newSecret, []byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	n, err := (&access.Store{DB: b.pool, Keys: both}).Reseal(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	n, err = (&access.Store{DB: b.pool, Keys: both}).Reseal(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a second rotation has nothing left to do")

	creds, err := (&access.Store{DB: b.pool, Keys: onlyNew}).Active(ctx)
	require.NoError(t, err)
	require.Equal(t, password, creds[0].Password)
}

// The verifier check agrees with PostgreSQL's own SCRAM hashing.
func TestScramMatchesPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	role := pgtest.Role(t)
	pool := pgtest.New(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `SET password_encryption = 'scram-sha-256'`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE ROLE "+pgdb.QuoteIdent(role)+" PASSWORD 'contraseña de prueba'")
	require.NoError(t, err)
	v := verifier(t, pool, role)
	require.True(t, access.ScramMatches(v, "contraseña de prueba"))
	require.False(t, access.ScramMatches(v, "otra"))
	require.False(t, access.ScramMatches("md5abc", "otra"))
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
