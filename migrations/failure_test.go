package migrations_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// A migration that fails is rolled back whole, the error names its file, and
// the migrations before it stay applied.
func TestFailedMigrationRollsBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewEmpty(t))
	require.NoError(t, err)
	defer pool.Close()

	fsys := fstest.MapFS{
		"0001_ok.sql": {Data: []byte("-- +goose Up\nCREATE TABLE ok_table (id int);\n")},
		"0002_bad.sql": {Data: []byte("-- +goose Up\nCREATE TABLE half_table (id int);\n" +
			"INSERT INTO no_such_table VALUES (1);\n")},
	}
	m, err := migrations.NewWithFS(pool, fsys, nil)
	require.NoError(t, err)
	defer m.Close()

	_, err = m.Up(ctx)
	require.Error(t, err)
	require.Contains(t, err.Error(), "0002_bad.sql")

	var okExists, halfExists bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass('ok_table') IS NOT NULL, to_regclass('half_table') IS NOT NULL`).
		Scan(&okExists, &halfExists))
	require.True(t, okExists, "the good migration stays applied")
	require.False(t, halfExists, "the failed migration left a table behind")
}

// A database migrated by an earlier build gets a migration numbered below
// its newest one (areas number theirs in ranges of their own).
func TestMigrationOutOfOrderIsApplied(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewEmpty(t))
	require.NoError(t, err)
	defer pool.Close()

	first := fstest.MapFS{
		"0001_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE a_table (id int);\n")},
		"0030_c.sql": {Data: []byte("-- +goose Up\nCREATE TABLE c_table (id int);\n")},
	}
	m, err := migrations.NewWithFS(pool, first, nil)
	require.NoError(t, err)
	_, err = m.Up(ctx)
	require.NoError(t, err)
	require.NoError(t, m.Close())

	later := fstest.MapFS{"0010_b.sql": {Data: []byte("-- +goose Up\nCREATE TABLE b_table (id int);\n")}}
	for k, v := range first {
		later[k] = v
	}
	m, err = migrations.NewWithFS(pool, later, nil)
	require.NoError(t, err)
	defer m.Close()
	res, err := m.Up(ctx)
	require.NoError(t, err)
	require.Len(t, res, 1)
	var exists bool
	require.NoError(t, pool.QueryRow(ctx, `SELECT to_regclass('b_table') IS NOT NULL`).Scan(&exists))
	require.True(t, exists, "the missing migration is applied")
	pending, err := m.Pending(ctx)
	require.NoError(t, err)
	require.False(t, pending)
}
