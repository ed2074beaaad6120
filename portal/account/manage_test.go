package account_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

func TestManager(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	users := account.NewStore(pool)
	m := &account.Manager{DB: pool, BaseURL: "https://datos.example.mx/"}
	dep := dependencia(t, pool)
	super, err := users.Create(ctx, account.NewUser{Login: "super", Email: "super@x.mx", FullName: "Súper", Profile: account.SuperAdmin, Password: "super-clave-larga"})
	require.NoError(t, err)
	sa := account.Actor{User: &super, RequestID: "r1", RemoteAddr: "10.1.1.1"}

	// registering checks every field and says which
	_, err = m.Register(ctx, sa, account.Details{Login: "Con Espacio", Email: "no-es-correo", FullName: "X", Profile: account.Publicador}, true)
	var bad account.Invalid
	require.ErrorAs(t, err, &bad)
	fields := map[string]bool{}
	for _, e := range bad {
		fields[e.Field] = true
	}
	require.Equal(t, map[string]bool{"login": true, "email": true, "full_name": true, "dependencia_id": true}, fields)
	missing := int64(999999)
	_, err = m.Register(ctx, sa, account.Details{Login: "pp", Email: "pp@x.mx", FullName: "Pepe", Profile: account.Publicador, DependenciaID: &missing}, false)
	require.ErrorAs(t, err, &bad)
	require.Contains(t, bad[0].Message, "La dependencia 999999 no existe")

	admin, err := m.Register(ctx, sa, account.Details{Login: "Admin1", Email: "admin1@x.mx", FullName: "Ada Admin", Profile: account.Admin}, false)
	require.NoError(t, err)
	require.Equal(t, "admin1", admin.Login)
	aa := account.Actor{User: &admin}

	// only a Super Administrador makes or edits one
	_, err = m.Register(ctx, aa, account.Details{Login: "super2", Email: "s2@x.mx", FullName: "Otro Súper", Profile: account.SuperAdmin}, false)
	require.ErrorIs(t, err, account.ErrForbidden)
	_, err = m.Update(ctx, aa, super.ID, account.Details{Login: "super", Email: "super@x.mx", FullName: "Súper", Profile: account.Consulta, Active: true})
	require.ErrorIs(t, err, account.ErrForbidden)
	require.ErrorIs(t, m.SetPassword(ctx, aa, super.ID, "una-clave-larga", "una-clave-larga", false), account.ErrForbidden)

	// the welcome e-mail carries a one-time link
	pub, err := m.Register(ctx, aa, account.Details{Login: "pub", Email: "pub@x.mx", FullName: "Paula Publicadora", Profile: account.Publicador, DependenciaID: dep}, true)
	require.NoError(t, err)
	_, err = m.Register(ctx, aa, account.Details{Login: "PUB", Email: "otro@x.mx", FullName: "Dup", Profile: account.Consulta}, false)
	require.ErrorAs(t, err, &bad)
	require.Contains(t, bad[0].Message, "Ya existe")
	link := welcomeLink(t, pool, "pub@x.mx")
	require.Regexp(t, `^https://datos\.example\.mx/contrasena/`, link)
	secret := regexp.MustCompile(`/contrasena/(.+)$`).FindStringSubmatch(link)[1]
	got, err := users.PasswordLinkUser(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, pub.ID, got.ID)
	_, err = account.UsePasswordLink(ctx, pool, secret, "corta", "corta", "")
	require.Error(t, err)
	_, err = account.UsePasswordLink(ctx, pool, secret, "paula-clave-larga", "paula-clave-larga", "10.2.2.2")
	require.NoError(t, err)
	_, err = account.UsePasswordLink(ctx, pool, secret, "paula-clave-larga", "paula-clave-larga", "")
	require.ErrorIs(t, err, account.ErrLinkInvalid, "the link works once")
	_, err = users.SignIn(ctx, "pub", "paula-clave-larga", "10.2.2.2", account.DefaultThrottle)
	require.NoError(t, err)

	// a resend retires the earlier link
	require.NoError(t, m.SendWelcome(ctx, aa, pub.ID))
	first := welcomeLink(t, pool, "pub@x.mx")
	require.NoError(t, m.SendWelcome(ctx, aa, pub.ID))
	second := welcomeLink(t, pool, "pub@x.mx")
	require.NotEqual(t, first, second)
	_, err = users.PasswordLinkUser(ctx, regexp.MustCompile(`/contrasena/(.+)$`).FindStringSubmatch(first)[1])
	require.ErrorIs(t, err, account.ErrLinkInvalid)

	// change login, e-mail, dependencia and profile, then deactivate
	sess, _, err := users.NewSession(ctx, pub.ID, account.DefaultSessionPolicy, "", "")
	require.NoError(t, err)
	_, tok, err := users.NewToken(ctx, pub.ID, "sistema", nil)
	require.NoError(t, err)
	d := account.Details{Login: "paula", Email: "paula@x.mx", FullName: "Paula Publicadora", Profile: account.Consulta, Active: true}
	pub, err = m.Update(ctx, aa, pub.ID, d)
	require.NoError(t, err)
	require.Equal(t, "paula", pub.Login)
	require.Nil(t, pub.DependenciaID)
	_, err = users.SessionUser(ctx, sess, account.DefaultSessionPolicy)
	require.NoError(t, err, "an edit does not end sessions")
	d.Active = false
	_, err = m.Update(ctx, aa, pub.ID, d)
	require.NoError(t, err)
	_, err = users.SessionUser(ctx, sess, account.DefaultSessionPolicy)
	require.ErrorIs(t, err, account.ErrNotFound, "deactivation ends sessions at once")
	_, err = users.TokenUser(ctx, tok)
	require.ErrorIs(t, err, account.ErrNotFound, "and tokens")
	_, err = users.SignIn(ctx, "paula", "paula-clave-larga", "10.3.3.3", account.DefaultThrottle)
	require.ErrorIs(t, err, account.ErrBadCredentials)
	err = m.SendWelcome(ctx, aa, pub.ID)
	require.ErrorAs(t, err, &bad, "no welcome to a deactivated user")

	// nobody deactivates himself
	_, err = m.Update(ctx, aa, admin.ID, account.Details{Login: "admin1", Email: "admin1@x.mx", FullName: "Ada Admin", Profile: account.Admin, Active: false})
	require.ErrorAs(t, err, &bad)

	// an administrator sets a password typed twice
	require.ErrorAs(t, m.SetPassword(ctx, aa, pub.ID, "nueva-clave-larga", "otra-clave-larga", false), &bad)
	require.NoError(t, m.SetPassword(ctx, account.Actor{}, pub.ID, "nueva-clave-larga", "nueva-clave-larga", true))

	rows, err := pool.Query(ctx, `SELECT actor_login, action, detail::text FROM meta.audit_log WHERE object_type = 'user' ORDER BY id`)
	require.NoError(t, err)
	var actions []string
	for rows.Next() {
		var actor, action, detail string
		require.NoError(t, rows.Scan(&actor, &action, &detail))
		require.NotContains(t, detail, "clave-larga", "no password reaches the bitácora")
		actions = append(actions, actor+" "+action)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{
		"super user.create", "admin1 user.create", "admin1 user.welcome_sent", "pub user.set_password",
		"admin1 user.welcome_sent", "admin1 user.welcome_sent", "admin1 user.set_profile", "admin1 user.deactivate",
		"cli user.set_password",
	}, actions)
}

func welcomeLink(t *testing.T, pool *pgxpool.Pool, email string) string {
	t.Helper()
	var body string
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT body FROM meta.outbox WHERE recipient = $1 ORDER BY id DESC LIMIT 1`, email).Scan(&body))
	m := regexp.MustCompile(`https?://\S+/contrasena/\S+`).FindString(body)
	require.NotEmpty(t, m, body)
	return m
}
