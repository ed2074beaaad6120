package mysql_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/mysql"
)

// serverDSN is the MariaDB of the machine (root, no password).
const serverDSN = "root@tcp(127.0.0.1:3306)/"

// setup creates a database of its own for the test, with a small table of
// every mapped type, and returns its DSN and a root handle on it.
func setup(t *testing.T) (string, *sql.DB, string) {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "gobdatos_t_" + hex.EncodeToString(b)
	admin, err := sql.Open("mysql", serverDSN+"?multiStatements=true")
	require.NoError(t, err)
	if err := admin.Ping(); err != nil {
		t.Skipf("MariaDB at 127.0.0.1:3306 not reachable: %v", err)
	}
	_, err = admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4")
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec("DROP DATABASE " + name)
		_ = admin.Close()
	})
	_, err = admin.Exec("USE " + name + `;
		CREATE TABLE municipio (clave VARCHAR(5) PRIMARY KEY, nombre VARCHAR(80), n INT, grande BIGINT UNSIGNED,
			f DOUBLE, monto DECIMAL(12,2), alta DATE, cambio DATETIME(6), visto TIMESTAMP NULL, foto BLOB, tipo ENUM('a','b'));
		INSERT INTO municipio VALUES
			('01001', 'Aguascalientes', 948990, 18446744073709551615, 2.25, 1234.50, '2020-03-15', '2020-03-15 10:20:30.123456',
			 '2020-03-15 10:20:30', x'00ff', 'a'),
			('01004', 'Cosío', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`)
	require.NoError(t, err)
	return "root@tcp(127.0.0.1:3306)/" + name, admin, name
}

func TestOpenTypes(t *testing.T) {
	t.Parallel()
	dsn, _, _ := setup(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := mysql.Source{DSN: dsn, Table: "municipio"}.Open(context.Background(), connectors.Options{Allocator: mem})
	require.NoError(t, err)
	defer st.Close()
	want := []arrow.Type{arrow.STRING, arrow.STRING, arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.STRING, arrow.DATE32,
		arrow.TIMESTAMP, arrow.TIMESTAMP, arrow.BINARY, arrow.STRING}
	for i, f := range st.Schema().Fields() {
		assert.Equal(t, want[i], f.Type.ID(), f.Name)
	}
	require.True(t, st.Next())
	rec := st.RecordBatch()
	require.Equal(t, int64(2), rec.NumRows())
	var got []string
	for _, c := range rec.Columns() {
		got = append(got, c.ValueStr(0))
	}
	assert.Equal(t, []string{"01001", "Aguascalientes", "948990", "18446744073709551615", "2.25", "1234.50", "2020-03-15",
		"2020-03-15T10:20:30.123456", "2020-03-15T10:20:30Z", "AP8=", "a"}, got)
	assert.Equal(t, "Cosío", rec.Column(1).ValueStr(1))
	for i := 2; i < int(rec.NumCols()); i++ {
		assert.True(t, rec.Column(i).IsNull(1), rec.ColumnName(i))
	}
	assert.False(t, st.Next())
	require.NoError(t, st.Err())
}

func TestQueryMaxRowsAndDrop(t *testing.T) {
	t.Parallel()
	dsn, admin, name := setup(t)
	src := mysql.Source{DSN: dsn, Query: "SELECT seq AS n, LPAD(seq, 6, '0') AS clave, REPEAT('x', 200) AS relleno FROM seq_1_to_300000"}
	t.Run("MaxRows", func(t *testing.T) {
		st, err := src.Open(context.Background(), connectors.Options{BatchSize: 1000, MaxRows: 2500})
		require.NoError(t, err)
		defer st.Close()
		for st.Next() {
		}
		require.Error(t, st.Err())
		assert.Contains(t, st.Err().Error(), "más filas que el límite de 2500")
	})
	t.Run("connection dropped mid-stream", func(t *testing.T) {
		st, err := src.Open(context.Background(), connectors.Options{BatchSize: 1000})
		require.NoError(t, err)
		defer st.Close()
		require.True(t, st.Next())
		var id int64
		require.NoError(t, admin.QueryRow(`SELECT ID FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'SELECT seq%'`, name).Scan(&id))
		_, err = admin.Exec(fmt.Sprintf("KILL %d", id))
		require.NoError(t, err)
		for st.Next() {
		}
		require.Error(t, st.Err())
		assert.Regexp(t, `se perdió la conexión con el servidor MySQL 127.0.0.1:3306 tras \d+ filas|interrumpió la consulta`, st.Err().Error())
		assert.Less(t, st.Progress().Rows, int64(300000))
	})
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dsn, admin, name := setup(t)
	user := "u" + name[len(name)-8:]
	_, err := admin.Exec(fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY 'clave-correcta'", user))
	require.NoError(t, err)
	_, err = admin.Exec(fmt.Sprintf("CREATE TABLE %s.otra (a INT)", name))
	require.NoError(t, err)
	_, err = admin.Exec(fmt.Sprintf("GRANT SELECT ON %s.otra TO '%s'@'%%'", name, user))
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec(fmt.Sprintf("DROP USER '%s'@'%%'", user)) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	userDSN := fmt.Sprintf("%s@tcp(127.0.0.1:3306)/%s", user, name)

	tests := []struct {
		name   string
		src    mysql.Source
		expect []string
		status connectors.Status
		msg    string
	}{
		{"ok", mysql.Source{DSN: dsn, Table: "municipio"}, []string{"clave", "nombre", "n", "grande", "f", "monto", "alta", "cambio", "visto", "foto", "tipo"}, connectors.StatusOK, "responde"},
		{"drift", mysql.Source{DSN: dsn, Table: "municipio"}, []string{"clave", "poblacion"}, connectors.StatusDrift, "faltan: poblacion"},
		{"missing table", mysql.Source{DSN: dsn, Table: "no_existe"}, nil, connectors.StatusMissing, "no existe"},
		{"missing database", mysql.Source{DSN: "root@tcp(127.0.0.1:3306)/gobdatos_no_existe", Table: "x"}, nil, connectors.StatusMissing, "«gobdatos_no_existe» no existe"},
		{"wrong password", mysql.Source{DSN: userDSN, Password: "otra", Table: "otra"}, nil, connectors.StatusAuth, "rechazó el usuario o la contraseña"},
		{"right password", mysql.Source{DSN: userDSN, Password: "clave-correcta", Table: "otra"}, []string{"a"}, connectors.StatusOK, "responde"},
		{"no permission", mysql.Source{DSN: userDSN, Password: "clave-correcta", Table: "municipio"}, nil, connectors.StatusPermission, "permiso"},
		{"refused", mysql.Source{DSN: "root@tcp(" + closed + ")/x", Table: "t"}, nil, connectors.StatusRefused, "rechazó la conexión"},
		{"dns", mysql.Source{DSN: "root@tcp(nohost.invalid:3306)/x", Table: "t"}, nil, connectors.StatusDNS, "DNS"},
		{"syntax", mysql.Source{DSN: dsn, Query: "SELEC 1"}, nil, connectors.StatusError, "sintaxis"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := tc.src.Check(context.Background(), tc.expect)
			assert.Equal(t, tc.status, res.Status, res.Message)
			assert.Contains(t, res.Message, tc.msg)
			assert.NotContains(t, res.Message, "clave-correcta")
		})
	}
}

func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	s := mysql.Source{DSN: "ana:pw1@tcp(db.example:3306)/x", Password: "pw2", Table: "t"}
	js, err := json.Marshal(s)
	require.NoError(t, err)
	for _, text := range []string{string(js), fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
		assert.NotContains(t, text, "pw1")
		assert.NotContains(t, text, "pw2")
	}
}
