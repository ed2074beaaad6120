package namingaudit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline/namingaudit"
)

// New findings are reported once; fixed ones are resolved; a table that is
// not registered in the catalog is audited too.
func TestAuditReportsOnlyNewFindings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	_, err := pool.Exec(ctx, `
		INSERT INTO meta.app_user (login, email, full_name, profile) VALUES
			('directora', 'directora@guanajuato.gob.mx', 'Directora', 'superadmin'),
			('consulta', 'consulta@guanajuato.gob.mx', 'Consulta', 'consulta');
		CREATE TABLE cat."Municipios" ("Clave" int, nombre text)`)
	require.NoError(t, err)
	rules, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	a := &namingaudit.Auditor{DB: pool, Rules: rules, Webhooks: []string{"https://hooks.example/gobdatos"}}

	mails := func() []string {
		rows, err := pool.Query(ctx, `SELECT recipient || ' ' || subject || ' ' || body FROM meta.outbox ORDER BY id`)
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		return out
	}

	first, err := a.Run(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, first.Tables)
	require.NotEmpty(t, first.New)
	require.Equal(t, first.Open, len(first.New))
	for _, f := range first.New {
		require.Equal(t, "cat.Municipios", f.Table)
		require.NotEmpty(t, f.Rule)
		require.NotEmpty(t, f.Message)
	}
	sent := mails()
	require.Len(t, sent, 2, "one mail to the steward, one webhook")
	require.True(t, strings.HasPrefix(sent[0], "directora@guanajuato.gob.mx [gobdatos] Auditoría de nomenclatura"))
	require.Contains(t, sent[0], "cat.Municipios")

	again, err := a.Run(ctx)
	require.NoError(t, err)
	require.Empty(t, again.New)
	require.Equal(t, first.Open, again.Open)
	require.Len(t, mails(), 2, "nothing new, nothing sent")

	_, err = pool.Exec(ctx, `DROP TABLE cat."Municipios"; CREATE TABLE cat."Otra Tabla" (x int)`)
	require.NoError(t, err)
	third, err := a.Run(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(first.Open), third.Resolved, "the dropped table's findings are resolved")
	require.NotEmpty(t, third.New)
	for _, f := range third.New {
		require.Equal(t, "cat.Otra Tabla", f.Table)
	}
	require.Len(t, mails(), 4)
	var open, resolved int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE resolved_at IS NULL), count(*) FILTER (WHERE resolved_at IS NOT NULL)
		FROM meta.nomenclature_finding`).Scan(&open, &resolved))
	require.Equal(t, third.Open, open)
	require.Equal(t, first.Open, resolved)
}
