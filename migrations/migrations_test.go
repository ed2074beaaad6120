package migrations_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// Three instances starting at once on an empty database: each migration is
// applied exactly once, and every instance comes up.
func TestUpConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewEmpty(t)

	const instances = 3
	var wg sync.WaitGroup
	errs := make([]error, instances)
	for i := range instances {
		wg.Go(func() {
			pool, err := pgxpool.New(ctx, url)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			_, errs[i] = migrations.Up(ctx, pool, nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "instance %d", i)
	}

	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	var dup int
	require.NoError(t, pool.QueryRow(ctx, `
		SELECT count(*) FROM (SELECT version_id FROM `+migrations.Table+` WHERE version_id > 0
		GROUP BY version_id HAVING count(*) > 1) d`).Scan(&dup))
	require.Zero(t, dup, "a migration was applied twice")

	m, err := migrations.New(pool, nil)
	require.NoError(t, err)
	defer m.Close()
	pending, err := m.Pending(ctx)
	require.NoError(t, err)
	require.False(t, pending)
	st, err := m.Status(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, st)
	for _, s := range st {
		require.True(t, s.Applied, s.File)
	}
}

func TestStatusPendingOnEmpty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgtest.NewEmpty(t))
	require.NoError(t, err)
	defer pool.Close()
	m, err := migrations.New(pool, nil)
	require.NoError(t, err)
	defer m.Close()
	pending, err := m.Pending(ctx)
	require.NoError(t, err)
	require.True(t, pending)
}

func TestChecksumStable(t *testing.T) {
	t.Parallel()
	a, err := migrations.Checksum()
	require.NoError(t, err)
	b, err := migrations.Checksum()
	require.NoError(t, err)
	require.Equal(t, a, b)
	require.Len(t, a, 16)
}

func TestSchemas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	for _, schema := range []string{"cat", "meta"} {
		var ok bool
		require.NoError(t, pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema).Scan(&ok))
		require.True(t, ok, schema)
	}
}
