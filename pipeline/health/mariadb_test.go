package health_test

import (
	"database/sql"
	"testing"

	_ "github.com/go-sql-driver/mysql" // the MariaDB of the machine, for MySQL connectors
	"github.com/stretchr/testify/require"
)

// mariaDB creates a database of the test's own on the machine's MariaDB
// (127.0.0.1:3306, root without password) with a table municipio(clave,
// nombre), and returns the connector address of that database.
func mariaDB(t testing.TB) string {
	t.Helper()
	admin, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/?multiStatements=true")
	require.NoError(t, err)
	if err := admin.Ping(); err != nil {
		admin.Close()
		t.Skipf("MariaDB at 127.0.0.1:3306 not reachable: %v", err)
	}
	name := "gobdatos_hc_" + randHex(6)
	_, err = admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4; USE " + name +
		"; CREATE TABLE municipio (clave VARCHAR(5) PRIMARY KEY, nombre VARCHAR(80)); INSERT INTO municipio VALUES ('001', 'Abasolo')")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE " + name)
		_ = admin.Close()
	})
	return "mysql://127.0.0.1:3306/" + name
}
