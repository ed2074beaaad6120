package procedure_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// A case keeps the version it started with; a file changed without a new
// version is refused.
func TestCaseKeepsItsVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	_, cal := loadShipped(t)
	v1, err := procedure.Parse("pru.yaml", []byte(minimal))
	require.NoError(t, err)
	reg1, err := procedure.NewRegistry(v1)
	require.NoError(t, err)
	e1 := procedure.NewEngine(pool, reg1, cal)
	require.NoError(t, e1.Sync(ctx))
	steward := newUser(t, pool, "admin1", "admin", nil)
	c, err := e1.Open(ctx, steward, procedure.OpenInput{Short: "PRU-1.0", Data: map[string]any{"nombre": "uno"}})
	require.NoError(t, err)

	// Same version, other content: refused at start-up.
	changed, err := procedure.Parse("pru.yaml", []byte(strings.Replace(minimal, "label: Cerrar", "label: Concluir", 1)))
	require.NoError(t, err)
	reg, err := procedure.NewRegistry(changed)
	require.NoError(t, err)
	err = procedure.NewEngine(pool, reg, cal).Sync(ctx)
	require.ErrorContains(t, err, "suba «version» a 2")

	// Version 2 renames the action; the old case still closes with v1's.
	v2src := strings.Replace(strings.Replace(minimal, "version: 1", "version: 2", 1), "action: cerrar", "action: concluir", 1)
	v2, err := procedure.Parse("pru.yaml", []byte(v2src))
	require.NoError(t, err)
	reg2, err := procedure.NewRegistry(v2)
	require.NoError(t, err)
	e2 := procedure.NewEngine(pool, reg2, cal)
	require.NoError(t, e2.Sync(ctx))
	_, err = e2.Act(ctx, steward, c.Folio, procedure.ActInput{Action: "concluir", LockVersion: c.LockVersion})
	require.ErrorContains(t, err, "no es posible")
	done, err := e2.Act(ctx, steward, c.Folio, procedure.ActInput{Action: "cerrar", LockVersion: c.LockVersion})
	require.NoError(t, err)
	require.Equal(t, 1, done.Version)
	require.Equal(t, "cerrada", done.State)
	fresh, err := e2.Open(ctx, steward, procedure.OpenInput{Short: "PRU-1.0", Data: map[string]any{"nombre": "dos"}})
	require.NoError(t, err)
	require.Equal(t, 2, fresh.Version)
}
