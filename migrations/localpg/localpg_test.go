package localpg_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/localpg"
)

// dataDir makes a folder the unprivileged PostgreSQL user can reach when the
// tests run as root (t.TempDir is private to the test user).
func dataDir(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "localpg-test-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(base, 0o755))
	t.Cleanup(func() { os.RemoveAll(base) })
	return filepath.Join(base, "pg")
}

func query(t *testing.T, url, sql string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var out string
	require.NoError(t, conn.QueryRow(ctx, sql).Scan(&out))
	return out
}

func TestStartStopReuse(t *testing.T) {
	if _, err := localpg.FindBinaries(); err != nil {
		t.Skip(err)
	}
	t.Parallel()
	ctx := context.Background()
	dir := dataDir(t)

	s1, err := localpg.Start(ctx, localpg.Options{DataDir: dir, Database: "prueba"})
	require.NoError(t, err)
	require.Equal(t, "prueba", query(t, s1.URL(), "SELECT current_database()"))
	conn, err := pgx.Connect(ctx, s1.URL())
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE guardado AS SELECT 'sigue aquí'::text AS v")
	require.NoError(t, err)
	conn.Close(ctx)

	// A server left running by an earlier run is stopped and the folder reused.
	s2, err := localpg.Start(ctx, localpg.Options{DataDir: dir, Database: "prueba"})
	require.NoError(t, err)
	<-s1.Exited()
	require.Equal(t, "sigue aquí", query(t, s2.URL(), "SELECT v FROM guardado"))
	require.NoError(t, s2.Stop(ctx))
	select {
	case <-s2.Exited():
	default:
		t.Fatal("Stop returned with the server still running")
	}

	// A clean restart keeps the data.
	s3, err := localpg.Start(ctx, localpg.Options{DataDir: dir, Database: "prueba"})
	require.NoError(t, err)
	defer s3.Stop(ctx)
	require.Equal(t, "sigue aquí", query(t, s3.URL(), "SELECT v FROM guardado"))

	_, err = pgx.Connect(ctx, "postgres://postgres:wrong@127.0.0.1:"+strconv.Itoa(s3.Port())+"/prueba")
	require.Error(t, err, "the server asks for the password")
}

func TestRefusesForeignFolder(t *testing.T) {
	if _, err := localpg.FindBinaries(); err != nil {
		t.Skip(err)
	}
	t.Parallel()
	dir := dataDir(t)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "mis-datos.txt"), []byte("x"), 0o644))
	_, err := localpg.Start(context.Background(), localpg.Options{DataDir: dir})
	require.ErrorContains(t, err, "not empty")
}
