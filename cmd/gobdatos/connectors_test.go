package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// `connectors check` checks now, prints a table, records the results and
// exits 1 when something failed.
func TestConnectorsCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"clave": "001", "nombre": "Abasolo"}]`)
	}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	const secret = "0123456789abcdef0123456789abcdef"
	dbURL := pgtest.NewURL(t)
	pool, err := pgxpool.New(ctx, dbURL)
	require.NoError(t, err)
	defer pool.Close()
	_, err = pool.Exec(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad')`)
	require.NoError(t, err)
	keys, err := keyring.New([]byte(secret))
	require.NoError(t, err)
	reg := &registry.Store{DB: pool, Keys: keys}
	who := audit.Entry{Actor: audit.Actor{Login: "prueba"}}
	good, err := reg.Create(ctx, registry.Input{Dependencia: "SEG", Name: "Municipios", Kind: "http", Address: srv.URL,
		ExpectedColumns: []string{"clave", "nombre"}}, who)
	require.NoError(t, err)
	_, err = reg.Create(ctx, registry.Input{Dependencia: "SEG", Name: "Caído", Kind: "http", Address: dead.URL,
		Credentials: &registry.Credentials{Token: "tok-secreto"}}, who)
	require.NoError(t, err)

	run := func(args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = cleanEnv("DATABASE_URL="+dbURL, "GOBDATOS_SECRET_KEY="+secret, "GOBDATOS_DATA_DIR="+t.TempDir())
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("connectors", "check", fmt.Sprint(good.ID))
	require.NoError(t, err, out)
	require.Regexp(t, `conector\s+\d+\s+Municipios\s+SEG\s+ok\s+`, out)

	out, err = run("connectors", "check", "--all")
	require.Error(t, err)
	require.Regexp(t, `Caído\s+SEG\s+refused\s+.*rechazó la conexión`, out)
	require.Contains(t, out, "1 de 2 revisiones fallaron")
	require.NotContains(t, out, "tok-secreto")

	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM meta.connectivity_check`).Scan(&n))
	require.Equal(t, 3, n, "recorded like scheduled checks")

	out, err = run("connectors", "check")
	require.Error(t, err)
	require.Contains(t, out, "--all")
}
