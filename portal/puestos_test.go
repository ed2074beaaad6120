package portal

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// A puesto granted on /puestos makes its holder a steward of the
// procedures that name it; revoked, he is not. Both are in the bitácora.
func TestPuestos(t *testing.T) {
	t.Parallel()
	b := setupProcedures(t)
	ctx := context.Background()
	dep := b.dependencia(t, "SFIA")
	admin := b.user(t, "coordinadora", account.Admin, nil)
	enlace := b.user(t, "enlace", account.Publicador, dep)
	baja := b.user(t, "baja", account.Consulta, nil)
	_, err := b.pool.Exec(ctx, `UPDATE meta.app_user SET active = false WHERE id = $1`, baja.ID)
	require.NoError(t, err)
	cl := b.signedIn(t, admin)
	eng := b.srv.opts.Procedures
	steward := func() bool {
		ok, err := eng.Steward(ctx, procedureActor(&enlace))
		require.NoError(t, err)
		return ok
	}
	require.False(t, steward())

	res, page := cl.do("GET", "/puestos", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, page, "Coordinador(a) de Datos Maestros de otras áreas de Gobierno")
	require.Contains(t, page, `<a href="/procedimientos/GUP-1.6">GUP-1.6</a>`)
	require.Contains(t, page, "Ningún puesto otorgado.")

	tests := []struct {
		name, login, puesto, want string
	}{
		{"unknown user", "nadie", "coordinador_dm", "No existe el usuario «nadie»."},
		{"unknown puesto", "enlace", "rey", "El puesto &#34;rey&#34; no se otorga en ningún procedimiento"},
		{"deactivated user", "baja", "coordinador_dm", "El usuario «baja» está desactivado"},
	}
	for _, tc := range tests {
		res, page = cl.post("/puestos", url.Values{"login": {tc.login}, "puesto": {tc.puesto}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, tc.name)
		require.Contains(t, page, tc.want, tc.name)
		require.Contains(t, page, `value="`+tc.login+`"`, "%s: what was typed is kept", tc.name)
	}
	grants, err := eng.Grants(ctx)
	require.NoError(t, err)
	require.Empty(t, grants, "a refused grant changes nothing")

	res, page = cl.post("/puestos", url.Values{"login": {" Enlace "}, "puesto": {"coordinador_dm"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
	require.True(t, steward())
	_, page = cl.do("GET", "/puestos?hecho=otorgado", nil)
	require.Contains(t, page, "Puesto otorgado.")
	require.Contains(t, page, `id="revocar-enlace-coordinador_dm"`)
	grants, err = eng.Grants(ctx)
	require.NoError(t, err)
	require.Equal(t, []procedure.RoleGrant{{UserID: enlace.ID, Login: "enlace", FullName: "Usuario enlace", Profile: "publicador",
		Active: true, Role: "coordinador_dm", GrantedBy: "coordinadora", GrantedAt: grants[0].GrantedAt}}, grants)

	res, page = cl.post("/puestos/revocar", url.Values{"user_id": {fmt.Sprint(enlace.ID)}, "puesto": {"coordinador_dm"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
	require.False(t, steward())
	res, _ = cl.post("/puestos/revocar", url.Values{"user_id": {fmt.Sprint(enlace.ID)}, "puesto": {"coordinador_dm"}})
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	actions := auditLines(t, b.pool, `SELECT action FROM meta.audit_log WHERE actor_id = $1 AND object_id = $2 ORDER BY id`, admin.ID, fmt.Sprint(enlace.ID))
	require.Equal(t, []string{"procedure.grant", "procedure.revoke"}, actions)

	// Without the CSRF token nothing is granted.
	res, _ = cl.do("POST", "/puestos", nil, "Content-Type", "application/x-www-form-urlencoded")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
}

// auditLines reads one text column of the bitácora lines a query selects.
func auditLines(t *testing.T, pool *pgxpool.Pool, query string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), query, args...)
	require.NoError(t, err)
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return lines
}
