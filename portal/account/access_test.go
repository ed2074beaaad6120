package account_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

func TestCan(t *testing.T) {
	t.Parallel()
	own, other := int64(1), int64(2)
	super := &account.User{Profile: account.SuperAdmin, Active: true}
	admin := &account.User{Profile: account.Admin, Active: true}
	pub := &account.User{Profile: account.Publicador, Active: true, DependenciaID: &own}
	consulta := &account.User{Profile: account.Consulta, Active: true}
	inactive := &account.User{Profile: account.SuperAdmin, Active: false}
	var anon *account.User

	type scope int
	const (
		anyDep scope = iota
		ownDep
		otherDep
	)
	dep := func(s scope) *int64 {
		switch s {
		case ownDep:
			return &own
		case otherDep:
			return &other
		}
		return nil
	}
	tests := []struct {
		user  *account.User
		name  string
		perm  account.Permission
		scope scope
		want  bool
	}{
		{super, "super", account.ManageUsers, anyDep, true},
		{admin, "admin", account.ManageUsers, anyDep, true},
		{admin, "admin", account.ReviewCatalogs, otherDep, true},
		{pub, "publicador", account.ManageUsers, anyDep, false},
		{pub, "publicador", account.ViewAudit, anyDep, false},
		{pub, "publicador", account.ReviewCatalogs, ownDep, false},
		{pub, "publicador", account.ManageCatalogs, ownDep, true},
		{pub, "publicador", account.ManageCatalogs, otherDep, false},
		{pub, "publicador", account.ManageCatalogs, anyDep, false},
		{pub, "publicador", account.LoadCatalogs, ownDep, true},
		{pub, "publicador", account.LoadCatalogs, otherDep, false},
		{pub, "publicador", account.ManageConnectors, ownDep, true},
		{pub, "publicador", account.ManageConnectors, otherDep, false},
		{pub, "publicador", account.ReadInternal, anyDep, true},
		{consulta, "consulta", account.ReadInternal, anyDep, true},
		{consulta, "consulta", account.LoadCatalogs, ownDep, false},
		{consulta, "consulta", account.ViewAudit, anyDep, false},
		{inactive, "inactive", account.ReadInternal, anyDep, false},
		{anon, "anonymous", account.ReadInternal, anyDep, false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, tc.user.Can(tc.perm, dep(tc.scope)), "%s %s %d", tc.name, tc.perm, tc.scope)
	}
	require.True(t, pub.Holds(account.LoadCatalogs))
	require.False(t, pub.Holds(account.ReviewCatalogs))
	require.False(t, consulta.Holds(account.LoadCatalogs))
	require.False(t, anon.Holds(account.ReadInternal))

	require.True(t, super.CanAssign(account.SuperAdmin))
	require.False(t, admin.CanAssign(account.SuperAdmin), "only a Super Administrador makes another")
	require.True(t, admin.CanAssign(account.Publicador))
	require.False(t, admin.CanEdit(*super))
	require.True(t, admin.CanEdit(*pub))
	require.False(t, pub.CanAssign(account.Consulta))
}

func TestSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	users := account.NewStore(pool)
	u, err := users.Create(ctx, account.NewUser{Login: "sesion", Email: "s@x.mx", FullName: "S", Profile: account.Consulta})
	require.NoError(t, err)
	p := account.SessionPolicy{Idle: time.Hour, MaxAge: 2 * time.Hour}

	secret, expires, err := users.NewSession(ctx, u.ID, p, "10.0.0.1", "prueba")
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(2*time.Hour), expires, time.Minute)
	got, err := users.SessionUser(ctx, secret, p)
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)
	_, err = users.SessionUser(ctx, secret+"x", p)
	require.ErrorIs(t, err, account.ErrNotFound)

	var stored []byte
	require.NoError(t, pool.QueryRow(ctx, `SELECT id_hash FROM meta.user_session`).Scan(&stored))
	require.NotContains(t, string(stored), secret, "only the hash is kept")

	// idle too long
	_, err = pool.Exec(ctx, `UPDATE meta.user_session SET last_seen_at = now() - interval '61 minutes'`)
	require.NoError(t, err)
	_, err = users.SessionUser(ctx, secret, p)
	require.ErrorIs(t, err, account.ErrNotFound)
	// past the absolute expiry, however recently used
	_, err = pool.Exec(ctx, `UPDATE meta.user_session SET last_seen_at = now(), expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	_, err = users.SessionUser(ctx, secret, p)
	require.ErrorIs(t, err, account.ErrNotFound)
	n, err := users.Prune(ctx, p)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)

	// a deactivated user's sessions stop at once
	s2, _, err := users.NewSession(ctx, u.ID, p, "", "")
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `UPDATE meta.app_user SET active = false WHERE id = $1`, u.ID)
	require.NoError(t, err)
	_, err = users.SessionUser(ctx, s2, p)
	require.ErrorIs(t, err, account.ErrNotFound)
	_, err = pool.Exec(ctx, `UPDATE meta.app_user SET active = true WHERE id = $1`, u.ID)
	require.NoError(t, err)

	s3, _, err := users.NewSession(ctx, u.ID, p, "", "")
	require.NoError(t, err)
	kept, err := users.EndOtherSessions(ctx, u.ID, s3)
	require.NoError(t, err)
	require.Equal(t, int64(1), kept, "s2 ended, s3 kept")
	_, err = users.SessionUser(ctx, s3, p)
	require.NoError(t, err)
	n, err = users.EndSessions(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
}

func TestTokens(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	users := account.NewStore(pool)
	u, err := users.Create(ctx, account.NewUser{Login: "sistemas", Email: "t@x.mx", FullName: "T", Profile: account.Publicador,
		DependenciaID: dependencia(t, pool)})
	require.NoError(t, err)

	tok, secret, err := users.NewToken(ctx, u.ID, " integración SAP ", nil)
	require.NoError(t, err)
	require.Equal(t, "integración SAP", tok.Name)
	require.True(t, len(secret) > 40)
	require.Equal(t, secret[:len(tok.Prefix)], tok.Prefix)
	got, err := users.TokenUser(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)
	list, err := users.Tokens(ctx, u.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NotNil(t, list[0].LastUsedAt, "use is recorded")

	_, _, err = users.NewToken(ctx, u.ID, "", nil)
	var ie *account.InputError
	require.ErrorAs(t, err, &ie)
	past := time.Now().Add(-time.Hour)
	_, _, err = users.NewToken(ctx, u.ID, "viejo", &past)
	require.ErrorAs(t, err, &ie)

	for _, bad := range []string{"", "gbd_", "gbd_" + secret[4:] + "x", "otro"} {
		_, err = users.TokenUser(ctx, bad)
		require.ErrorIs(t, err, account.ErrNotFound, bad)
	}
	require.ErrorIs(t, users.RevokeToken(ctx, u.ID+1, tok.ID), account.ErrTokenNotFound, "only its owner revokes it")
	require.NoError(t, users.RevokeToken(ctx, u.ID, tok.ID))
	_, err = users.TokenUser(ctx, secret)
	require.ErrorIs(t, err, account.ErrNotFound)
	require.ErrorIs(t, users.RevokeToken(ctx, u.ID, tok.ID), account.ErrTokenNotFound)
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	users := account.NewStore(pool)
	_, err := users.Create(ctx, account.NewUser{Login: "eva", Email: "e@x.mx", FullName: "E", Profile: account.Consulta, Password: "eva-clave-larga"})
	require.NoError(t, err)
	_, err = users.Create(ctx, account.NewUser{Login: "sinclave", Email: "n@x.mx", FullName: "N", Profile: account.Consulta})
	require.NoError(t, err)
	th := account.Throttle{PerLogin: 2, PerAddr: 100, Window: time.Hour}

	u, err := users.SignIn(ctx, " EVA ", "eva-clave-larga", "1.1.1.1", th)
	require.NoError(t, err)
	require.Equal(t, "eva", u.Login)
	for _, tc := range []struct{ login, pw string }{{"eva", "mala"}, {"nadie", "x"}, {"sinclave", ""}} {
		_, err = users.SignIn(ctx, tc.login, tc.pw, "1.1.1.1", th)
		require.ErrorIs(t, err, account.ErrBadCredentials, tc.login)
	}
	_, err = users.SignIn(ctx, "eva", "mala", "1.1.1.1", th)
	require.ErrorIs(t, err, account.ErrBadCredentials)
	_, err = users.SignIn(ctx, "eva", "eva-clave-larga", "2.2.2.2", th)
	require.ErrorIs(t, err, account.ErrThrottled, "per account, whatever the address")

	_, err = pool.Exec(ctx, `UPDATE meta.app_user SET active = false WHERE login = 'sinclave'`)
	require.NoError(t, err)
	require.NoError(t, users.SetPassword(ctx, mustID(t, users, "sinclave"), "sinclave-clave", false))
	_, err = users.SignIn(ctx, "sinclave", "sinclave-clave", "3.3.3.3", account.DefaultThrottle)
	require.ErrorIs(t, err, account.ErrBadCredentials, "deactivated users cannot sign in")

	require.Error(t, account.CheckNewPassword("corta", "corta"))
	require.Error(t, account.CheckNewPassword("una-clave-larga", "otra-clave-larga"))
	require.NoError(t, account.CheckNewPassword("una-clave-larga", "una-clave-larga"))
}

func mustID(t *testing.T, users *account.Store, login string) int64 {
	t.Helper()
	u, err := users.ByLogin(context.Background(), login)
	require.NoError(t, err)
	return u.ID
}

func dependencia(t *testing.T, pool *pgxpool.Pool) *int64 {
	t.Helper()
	var id int64
	require.NoError(t, pool.QueryRow(context.Background(),
		`INSERT INTO meta.dependencia (clave, nombre) VALUES ('SFIA', 'Secretaría de Finanzas') RETURNING id`).Scan(&id))
	return &id
}
