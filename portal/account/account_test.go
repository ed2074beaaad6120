package account_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

func TestPassword(t *testing.T) {
	t.Parallel()
	h, err := account.HashPassword("Contraseña-Segura-2026")
	require.NoError(t, err)
	require.Contains(t, h, "$argon2id$v=19$m=19456,t=2,p=1$")
	h2, err := account.HashPassword("Contraseña-Segura-2026")
	require.NoError(t, err)
	require.NotEqual(t, h, h2, "each hash has its own salt")

	tests := []struct {
		name, hash, password string
		ok                   bool
		err                  error
	}{
		{"right", h, "Contraseña-Segura-2026", true, nil},
		{"wrong", h, "contraseña-segura-2026", false, nil},
		{"empty", h, "", false, nil},
		{"not argon", "$2a$10$abc", "x", false, account.ErrBadHash},
		{"garbage", "garbage", "x", false, account.ErrBadHash},
		{"bad salt", "$argon2id$v=19$m=19456,t=2,p=1$!!!$AAAA", "x", false, account.ErrBadHash},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ok, err := account.CheckPassword(tc.hash, tc.password)
			require.ErrorIs(t, err, tc.err)
			require.Equal(t, tc.ok, ok)
		})
	}
}

func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		p := account.GeneratePassword(16)
		require.Len(t, p, 16)
		require.NotContains(t, p, "0")
		require.NotContains(t, p, "l")
		require.False(t, seen[p])
		seen[p] = true
	}
}

func TestStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	users := account.NewStore(pgtest.New(t))

	u, err := users.Create(ctx, account.NewUser{Login: "MGarcia", Email: "mgarcia@guanajuato.gob.mx",
		FullName: "María García", Profile: account.Admin, Password: "una-clave-larga", MustChangePassword: true})
	require.NoError(t, err)
	require.Equal(t, "mgarcia", u.Login, "logins are stored in lower case")
	require.True(t, u.Active)

	got, err := users.ByLogin(ctx, "MGARCIA")
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)

	_, err = users.Create(ctx, account.NewUser{Login: "mgarcia", Email: "otra@guanajuato.gob.mx", FullName: "X", Profile: account.Consulta})
	require.ErrorIs(t, err, account.ErrDuplicate)
	_, err = users.Create(ctx, account.NewUser{Login: "otra", Email: "MGARCIA@guanajuato.gob.mx", FullName: "X", Profile: account.Consulta})
	require.ErrorIs(t, err, account.ErrDuplicate, "e-mails are unique regardless of case")
	_, err = users.Create(ctx, account.NewUser{Login: "pub", Email: "pub@x.mx", FullName: "X", Profile: account.Publicador})
	require.Error(t, err, "a Publicador belongs to a dependencia")
	_, err = users.Create(ctx, account.NewUser{Login: "x", Email: "x@x.mx", FullName: "X", Profile: "root"})
	require.Error(t, err)

	_, err = users.ByLogin(ctx, "nadie")
	require.ErrorIs(t, err, account.ErrNotFound)

	n, err := users.CountByProfile(ctx, account.Admin)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	require.NoError(t, users.SetPassword(ctx, u.ID, "otra-clave-larga", false))
	require.ErrorIs(t, users.SetPassword(ctx, 999999, "x", false), account.ErrNotFound)
}

func TestProfiles(t *testing.T) {
	t.Parallel()
	names := map[account.Profile]string{
		account.SuperAdmin: "Super Administrador", account.Admin: "Administrador",
		account.Publicador: "Publicador", account.Consulta: "Consulta",
	}
	for _, p := range account.Profiles {
		require.True(t, p.Valid())
		require.Equal(t, names[p], p.Name())
	}
	require.False(t, account.Profile("root").Valid())
}
