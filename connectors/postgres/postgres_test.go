package postgres_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/postgres"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// setup gives a fresh database with a small table of every mapped type.
func setup(t *testing.T) (string, *pgxpool.Pool) {
	t.Helper()
	url := pgtest.NewURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	_, err = pool.Exec(context.Background(), `
		CREATE SCHEMA origen;
		CREATE TABLE origen.municipio (
			clave text PRIMARY KEY, nombre varchar(80), activo boolean, n2 smallint, n4 integer, n8 bigint,
			f4 real, f8 double precision, monto numeric(12,2), alta date, cambio timestamp, visto timestamptz,
			datos jsonb, foto bytea, fijo char(4));
		INSERT INTO origen.municipio VALUES
			('01001', 'Aguascalientes', true, 1, 948990, 9000000000, 1.5, 2.25, 1234.50, '2020-03-15',
			 '2020-03-15 10:20:30.123456', '2020-03-15 10:20:30+00', '{"a": 1}', '\x00ff', 'ab'),
			('01004', 'Cosío', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);`)
	require.NoError(t, err)
	return url, pool
}

func TestOpenTypes(t *testing.T) {
	t.Parallel()
	url, _ := setup(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := postgres.Source{URL: url, Table: "origen.municipio"}.Open(context.Background(), connectors.Options{Allocator: mem})
	require.NoError(t, err)
	defer st.Close()
	wantTypes := []arrow.Type{arrow.STRING, arrow.STRING, arrow.BOOL, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32,
		arrow.FLOAT64, arrow.STRING, arrow.DATE32, arrow.TIMESTAMP, arrow.TIMESTAMP, arrow.STRING, arrow.BINARY, arrow.STRING}
	for i, f := range st.Schema().Fields() {
		assert.Equal(t, wantTypes[i], f.Type.ID(), f.Name)
	}
	require.True(t, st.Next())
	rec := st.RecordBatch()
	require.Equal(t, int64(2), rec.NumRows())
	var got []string
	for _, c := range rec.Columns() {
		got = append(got, c.ValueStr(0))
	}
	assert.Equal(t, []string{"01001", "Aguascalientes", "true", "1", "948990", "9000000000", "1.5", "2.25", "1234.50",
		"2020-03-15", "2020-03-15T10:20:30.123456", "2020-03-15T10:20:30Z", `{"a": 1}`, "AP8=", "ab  "}, got)
	for i := 2; i < int(rec.NumCols()); i++ {
		assert.True(t, rec.Column(i).IsNull(1), rec.ColumnName(i))
	}
	assert.False(t, st.Next())
	require.NoError(t, st.Err())
	assert.Equal(t, int64(2), st.Progress().Rows)
}

func TestQueryAndMaxRows(t *testing.T) {
	t.Parallel()
	url, _ := setup(t)
	src := postgres.Source{URL: url, Query: "SELECT g AS n, lpad(g::text, 5, '0') AS clave FROM generate_series(1, 25000) g;"}
	st, err := src.Open(context.Background(), connectors.Options{BatchSize: 1000})
	require.NoError(t, err)
	var rows int64
	batches := 0
	for st.Next() {
		rows += st.RecordBatch().NumRows()
		batches++
	}
	require.NoError(t, st.Err())
	require.NoError(t, st.Close())
	assert.Equal(t, int64(25000), rows)
	assert.Equal(t, 25, batches)

	st, err = src.Open(context.Background(), connectors.Options{BatchSize: 1000, MaxRows: 2500})
	require.NoError(t, err)
	defer st.Close()
	for st.Next() {
	}
	require.Error(t, st.Err())
	assert.Contains(t, st.Err().Error(), "más filas que el límite de 2500")
}

// Cancelling the context mid-stream says so, and the session ends.
func TestCancelMidStream(t *testing.T) {
	t.Parallel()
	url, _ := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := postgres.Source{URL: url, Query: "SELECT g, repeat('x', 200) FROM generate_series(1, 300000) g"}.Open(ctx, connectors.Options{BatchSize: 1000})
	require.NoError(t, err)
	defer st.Close()
	require.True(t, st.Next())
	cancel()
	for st.Next() {
	}
	require.Error(t, st.Err())
	assert.Contains(t, st.Err().Error(), "la lectura se canceló tras")
}

// The source's session dies mid-stream (the server terminates it): the
// stream ends with a Spanish error, never a silent short read.
func TestConnectionDropsMidStream(t *testing.T) {
	t.Parallel()
	url, pool := setup(t)
	src := postgres.Source{URL: url, Query: "SELECT g, repeat('x', 200) AS relleno FROM generate_series(1, 300000) g"}
	st, err := src.Open(context.Background(), connectors.Options{BatchSize: 1000})
	require.NoError(t, err)
	defer st.Close()
	require.True(t, st.Next())
	var killed int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1`, postgres.AppName).Scan(&killed))
	require.Equal(t, 1, killed)
	for st.Next() {
	}
	require.Error(t, st.Err())
	assert.Regexp(t, `se perdió la conexión con el servidor PostgreSQL .* tras \d+ filas|la base de datos interrumpió la consulta`, st.Err().Error())
	assert.Less(t, st.Progress().Rows, int64(300000))
}

func TestCheck(t *testing.T) {
	t.Parallel()
	url, pool := setup(t)
	ctx := context.Background()
	role := fmt.Sprintf("lector_%d", time.Now().UnixNano())
	_, err := pool.Exec(ctx, `CREATE ROLE `+role+` LOGIN; GRANT USAGE ON SCHEMA origen TO `+role)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), `DROP OWNED BY `+role+`; DROP ROLE `+role) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	cols := []string{"clave", "nombre", "activo", "n2", "n4", "n8", "f4", "f8", "monto", "alta", "cambio", "visto", "datos", "foto", "fijo"}

	tests := []struct {
		name   string
		src    postgres.Source
		expect []string
		status connectors.Status
		msg    string
	}{
		{"ok", postgres.Source{URL: url, Table: "origen.municipio"}, cols, connectors.StatusOK, "responde"},
		{"query", postgres.Source{URL: url, Query: "SELECT clave FROM origen.municipio"}, []string{"clave"}, connectors.StatusOK, "responde"},
		{"drift", postgres.Source{URL: url, Table: "origen.municipio"}, []string{"clave", "poblacion"}, connectors.StatusDrift, "faltan: poblacion"},
		{"missing table", postgres.Source{URL: url, Table: "origen.no_existe"}, nil, connectors.StatusMissing, "no existe"},
		{"missing database", postgres.Source{URL: "postgres://postgres@127.0.0.1:5432/no_existe_gobdatos?sslmode=disable", Table: "x"}, nil, connectors.StatusMissing, "«no_existe_gobdatos» no existe"},
		{"no permission", postgres.Source{URL: url, User: role, Table: "origen.municipio"}, nil, connectors.StatusPermission, "permiso"},
		{"refused", postgres.Source{URL: "postgres://u@" + closed + "/x", Table: "t"}, nil, connectors.StatusRefused, "rechazó la conexión"},
		{"dns", postgres.Source{URL: "postgres://u@nohost.invalid/x", Table: "t"}, nil, connectors.StatusDNS, "DNS"},
		{"bad table name", postgres.Source{URL: url, Table: "a.b.c"}, nil, connectors.StatusError, "«a.b.c»"},
		{"syntax", postgres.Source{URL: url, Query: "SELEC 1"}, nil, connectors.StatusError, "sintaxis"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := tc.src.Check(ctx, tc.expect)
			assert.Equal(t, tc.status, res.Status, res.Message)
			assert.Contains(t, res.Message, tc.msg)
		})
	}
	t.Run("open without permission is classified too", func(t *testing.T) {
		t.Parallel()
		st, err := postgres.Source{URL: url, User: role, Table: "origen.municipio"}.Open(ctx, connectors.Options{})
		if err == nil {
			for st.Next() {
			}
			err = st.Err()
			_ = st.Close()
		}
		require.Error(t, err)
		assert.Equal(t, connectors.StatusPermission, connectors.Classify(err))
	})
}

func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	s := postgres.Source{URL: "postgres://ana:pw1@db.example/x", Password: "pw2", Table: "t"}
	js, err := json.Marshal(s)
	require.NoError(t, err)
	for _, text := range []string{string(js), fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
		assert.NotContains(t, text, "pw1")
		assert.NotContains(t, text, "pw2")
	}
}

// TestOpenRowError: a value without an Arrow counterpart stops the stream
// with an error that names its row, column and value.
func TestOpenRowError(t *testing.T) {
	t.Parallel()
	url, pool := setup(t)
	_, err := pool.Exec(context.Background(), `INSERT INTO origen.municipio (clave, alta) VALUES ('01005', 'infinity')`)
	require.NoError(t, err)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := postgres.Source{URL: url, Query: "SELECT clave, alta FROM origen.municipio ORDER BY clave"}.Open(context.Background(),
		connectors.Options{Allocator: mem})
	require.NoError(t, err)
	defer st.Close()
	assert.False(t, st.Next())
	var rowErr *connectors.RowError
	require.ErrorAs(t, st.Err(), &rowErr)
	assert.Equal(t, int64(3), rowErr.Row)
	assert.Equal(t, "alta", rowErr.Column)
	assert.Contains(t, rowErr.Message, "infinita")
}
