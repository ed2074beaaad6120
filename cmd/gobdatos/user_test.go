package main

import (
	"context"
	"os/exec"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// The operator's path: create, list, set-profile, deactivate, activate,
// reset-password; every change in the bitácora.
func TestUserCommands(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad')`)
	require.NoError(t, err)
	env := cleanEnv("DATABASE_URL="+dbURL, "GOBDATOS_DATA_DIR="+t.TempDir(), "GOBDATOS_BASE_URL=https://datos.example.mx")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("user", "create", "rosa", "--email", "rosa@guanajuato.gob.mx", "--name", "Rosa Ruiz", "--profile", "admin")
	require.NoError(t, err, out)
	pw := regexp.MustCompile(`Contraseña temporal: (\S+)`).FindStringSubmatch(out)
	require.Len(t, pw, 2, out)

	out, err = run("user", "create", "pepe", "--email", "pepe@x.mx", "--name", "Pepe", "--profile", "publicador")
	require.Error(t, err)
	require.Contains(t, out, "Un Publicador pertenece a una dependencia")
	out, err = run("user", "create", "pepe", "--email", "pepe@x.mx", "--name", "Pepe Pérez", "--profile", "publicador", "--dependencia", "seg", "--welcome")
	require.NoError(t, err, out)
	var body string
	require.NoError(t, conn.QueryRow(ctx, `SELECT body FROM meta.outbox WHERE recipient = 'pepe@x.mx'`).Scan(&body))
	require.Contains(t, body, "https://datos.example.mx/contrasena/")

	out, err = run("user", "set-profile", "pepe", "consulta")
	require.NoError(t, err, out)
	require.Contains(t, out, "Perfil de pepe: Consulta.")
	out, err = run("user", "deactivate", "pepe")
	require.NoError(t, err, out)
	out, err = run("user", "list")
	require.NoError(t, err, out)
	require.Regexp(t, `rosa\s+Administrador\s+—\s+sí`, out)
	require.NotContains(t, out, "pepe")
	out, err = run("user", "list", "--all")
	require.NoError(t, err, out)
	require.Regexp(t, `pepe\s+Consulta\s+SEG\s+no`, out)
	out, err = run("user", "activate", "pepe")
	require.NoError(t, err, out)
	out, err = run("user", "reset-password", "pepe")
	require.NoError(t, err, out)
	require.Contains(t, out, "Contraseña temporal de pepe")
	out, err = run("user", "deactivate", "nadie")
	require.Error(t, err)
	require.Contains(t, out, `no existe el usuario "nadie"`)

	rows, err := conn.Query(ctx, `SELECT actor_login || ' ' || action FROM meta.audit_log ORDER BY id`)
	require.NoError(t, err)
	actions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"cli user.create", "cli user.set_password", "cli user.create", "cli user.welcome_sent",
		"cli user.set_profile", "cli user.deactivate", "cli user.activate", "cli user.set_password"}, actions)
}
