package audit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

func TestRecordIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	require.NoError(t, audit.Record(ctx, pool, audit.Entry{
		Action: "catalog.publish", ObjectType: "catalog", ObjectID: "municipio",
		Detail: map[string]any{"version": 3}, RequestID: "r1", RemoteAddr: "10.0.0.1",
	}))
	var login, detail string
	require.NoError(t, pool.QueryRow(ctx, `SELECT actor_login, detail::text FROM meta.audit_log`).Scan(&login, &detail))
	require.Equal(t, "sistema", login, "no actor means the system")
	require.JSONEq(t, `{"version": 3}`, detail)

	for _, stmt := range []string{
		`UPDATE meta.audit_log SET action = 'x'`,
		`DELETE FROM meta.audit_log`,
		`TRUNCATE meta.audit_log`,
	} {
		_, err := pool.Exec(ctx, stmt)
		require.ErrorContains(t, err, "la bitácora sólo admite agregar registros", stmt)
	}
	require.Error(t, audit.Record(ctx, pool, audit.Entry{Action: "x", ObjectType: "y", Detail: make(chan int)}))
}
