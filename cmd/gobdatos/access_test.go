package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// The steward's path: grant, list, rotate, revoke from the command line.
func TestAccessCommands(t *testing.T) {
	t.Parallel()
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	role := "t_cli_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if conn, err := pgx.Connect(context.Background(), pgtest.ServerURL()); err == nil {
			_, _ = conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgdb.QuoteIdent(role))
			conn.Close(context.Background())
		}
	})
	dbURL := pgtest.NewURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad');
		CREATE TABLE cat.cat_delito (id int PRIMARY KEY, nombre text)`)
	require.NoError(t, err)

	env := cleanEnv("DATABASE_URL="+dbURL, "GOBDATOS_SECRET_KEY=0123456789abcdef0123456789abcdef", "GOBDATOS_DATA_DIR="+t.TempDir())
	run := func(args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("access", "grant", "SEG", "--table", "cat_delito", "--role", role)
	require.NoError(t, err, out)
	pw := regexp.MustCompile(`Contraseña \(sólo se muestra esta vez\): (\S+)`).FindStringSubmatch(out)
	require.Len(t, pw, 2, out)

	out, err = run("access", "list")
	require.NoError(t, err, out)
	require.Regexp(t, role+`\s+SEG\s+cat_delito\s+.*consola:`, out)

	out, err = run("access", "rotate", role)
	require.NoError(t, err, out)
	require.Contains(t, out, "Nueva contraseña de "+role)
	require.NotContains(t, out, pw[1])

	out, err = run("access", "grant", "SEG", "--table", "cat_inexistente", "--role", role+"x")
	require.Error(t, err)
	require.Contains(t, out, "la tabla cat.cat_inexistente no existe")

	out, err = run("access", "revoke", role)
	require.NoError(t, err, out)
	out, err = run("access", "list", "--all")
	require.NoError(t, err, out)
	require.Contains(t, out, "revocado")
	out, err = run("access", "revoke", role)
	require.Error(t, err)
	require.Contains(t, out, "no hay un acceso activo con ese rol")
}

// After the secret changes, rotate-key re-seals the stored passwords under
// the new one.
func TestRotateKey(t *testing.T) {
	t.Parallel()
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	role := "t_cli_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		if conn, err := pgx.Connect(context.Background(), pgtest.ServerURL()); err == nil {
			_, _ = conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+pgdb.QuoteIdent(role))
			conn.Close(context.Background())
		}
	})
	dbURL := pgtest.NewURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad');
		CREATE TABLE cat.cat_delito (id int PRIMARY KEY, nombre text)`)
	require.NoError(t, err)
	run := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = cleanEnv(append(env, "DATABASE_URL="+dbURL, "GOBDATOS_DATA_DIR="+t.TempDir())...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	oldKey := "GOBDATOS_SECRET_KEY=old-old-old-old-old-old-old-old-old"
	out, err := run([]string{oldKey}, "access", "grant", "SEG", "-t", "cat_delito", "--role", role)
	require.NoError(t, err, out)
	var before string
	require.NoError(t, conn.QueryRow(ctx, `SELECT key_id FROM meta.entity_access`).Scan(&before))

	newEnv := []string{"GOBDATOS_SECRET_KEY=new-new-new-new-new-new-new-new-new", "GOBDATOS_SECRET_KEY_PREVIOUS=old-old-old-old-old-old-old-old-old"}
	out, err = run(newEnv, "connectors", "rotate-key")
	require.NoError(t, err, out)
	require.Contains(t, out, ": 0 de conectores, 1 de accesos")
	var after string
	require.NoError(t, conn.QueryRow(ctx, `SELECT key_id FROM meta.entity_access`).Scan(&after))
	require.NotEqual(t, before, after)
	out, err = run(newEnv, "connectors", "rotate-key")
	require.NoError(t, err, out)
	require.Contains(t, out, ": 0 de conectores, 0 de accesos")
}
