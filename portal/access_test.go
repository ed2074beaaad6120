package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Entity access through the API and the page: administrators grant and
// revoke, the entity's Publicador sees and rotates its own role, nobody
// else sees it, and a password appears only in the answer that made it.
func TestEntityAccess(t *testing.T) {
	t.Parallel()
	role := pgtest.Role(t) // first, so it is dropped after the database
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	b := setup(t, Options{Keys: keys})
	ctx := context.Background()
	_, err = b.pool.Exec(ctx, `CREATE TABLE cat.cat_delito (id serial PRIMARY KEY, nombre text NOT NULL)`)
	require.NoError(t, err)
	seg, sfia := b.dependencia(t, "SEG"), b.dependencia(t, "SFIA")
	token := func(u account.User) string {
		_, secret, err := account.NewStore(b.pool).NewToken(ctx, u.ID, "prueba", nil)
		require.NoError(t, err)
		return "Bearer " + secret
	}
	admin := b.user(t, "coordinadora", account.Admin, nil)
	ta := token(admin)
	tSeg := token(b.user(t, "enlace.seg", account.Publicador, seg))
	tSfia := token(b.user(t, "enlace.sfia", account.Publicador, sfia))
	call := func(auth, method, path, body string) (*http.Response, string) {
		return b.do(t, method, path, strings.NewReader(body), "Content-Type", "application/json", "Authorization", auth)
	}
	var secret accessSecret

	res, raw := call(ta, "POST", "/api/v1/access", `{"dependencia":"SEG","role":"`+role+`","tables":["cat_inexistente"]}`)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, raw)
	require.Contains(t, raw, "cat_inexistente")
	res, raw = call(tSeg, "POST", "/api/v1/access", `{"dependencia":"SEG","role":"`+role+`","tables":["cat_delito"]}`)
	require.Equal(t, http.StatusForbidden, res.StatusCode, "an entity does not choose its own tables: %s", raw)
	res, raw = call(ta, "GET", "/api/v1/access", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.JSONEq(t, `[]`, raw, "refused grants changed nothing")

	res, raw = call(ta, "POST", "/api/v1/access", `{"dependencia":"SEG","role":"`+role+`","tables":["cat_delito"]}`)
	require.Equal(t, http.StatusCreated, res.StatusCode, raw)
	require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	require.NoError(t, json.Unmarshal([]byte(raw), &secret))
	require.Equal(t, []string{"cat_delito"}, secret.Grant.Tables)
	require.Len(t, secret.Password, 32)
	first := secret.Password
	// The test server trusts local connections, so the password is checked
	// against the role's SCRAM verifier rather than by signing in.
	verifier := func() string {
		var v string
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT rolpassword FROM pg_authid WHERE rolname = $1`, role).Scan(&v))
		return v
	}
	before := verifier()
	require.True(t, strings.HasPrefix(before, "SCRAM-SHA-256$"))
	cfg := b.pool.Config().ConnConfig.Copy()
	cfg.User = role
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO cat.cat_delito (nombre) VALUES ('Robo')`)
	require.NoError(t, err, "the role writes its table")
	require.NoError(t, conn.Close(ctx))

	for _, tc := range []struct {
		name, auth string
		sees       bool
	}{{"admin", ta, true}, {"own publicador", tSeg, true}, {"other publicador", tSfia, false}} {
		res, raw = call(tc.auth, "GET", "/api/v1/access", "")
		require.Equal(t, http.StatusOK, res.StatusCode, tc.name)
		require.Equal(t, tc.sees, strings.Contains(raw, role), tc.name)
		require.NotContains(t, raw, first, tc.name)
		require.NotContains(t, raw, "password", tc.name)
	}

	res, _ = call(tSfia, "POST", "/api/v1/access/"+role+"/rotate", "")
	require.Equal(t, http.StatusNotFound, res.StatusCode, "another dependencia's role")
	res, raw = call(tSeg, "POST", "/api/v1/access/"+role+"/rotate", "")
	require.Equal(t, http.StatusOK, res.StatusCode, raw)
	require.NoError(t, json.Unmarshal([]byte(raw), &secret))
	require.NotEqual(t, first, secret.Password)
	require.NotEqual(t, before, verifier(), "the role has the new password")

	// The page: the password of a grant or rotation is shown once.
	adminPage := b.signedIn(t, admin)
	res, page := adminPage.do("GET", "/accesos", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, page, `id="revocar-`+role+`"`)
	require.NotContains(t, page, secret.Password)
	res, page = adminPage.post("/accesos/"+role+"/rotar", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, errorText(page))
	m := strings.Index(page, `<code id="contrasena">`)
	require.Positive(t, m)
	shown := page[m+len(`<code id="contrasena">`) : m+len(`<code id="contrasena">`)+32]
	_, page = adminPage.do("GET", "/accesos", nil)
	require.NotContains(t, page, shown)
	res, page = adminPage.post("/accesos", url.Values{"dependencia": {"SFIA"}, "tables": {"cat_nada"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, errorText(page), "cat_nada")
	require.Contains(t, page, ">cat_nada</textarea>", "what was typed is kept")

	actions := auditLines(t, b.pool, `SELECT action || ':' || actor_login FROM meta.audit_log WHERE object_id = $1 ORDER BY id`, role)
	require.Equal(t, []string{"access.grant:coordinadora", "access.rotate:enlace.seg", "access.rotate:coordinadora"}, actions)

	res, _ = call(tSeg, "DELETE", "/api/v1/access/"+role, "")
	require.Equal(t, http.StatusForbidden, res.StatusCode)
	res, page = adminPage.post("/accesos/"+role+"/revocar", nil)
	require.Equal(t, http.StatusSeeOther, res.StatusCode, errorText(page))
	res, _ = call(ta, "DELETE", "/api/v1/access/"+role, "")
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	res, raw = call(ta, "GET", "/api/v1/access?revoked=true", "")
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, raw, `"revoked_by":"coordinadora"`)

	_, doc := b.do(t, "GET", "/api/v1/openapi.json", nil)
	for _, p := range []string{"/api/v1/access", "/api/v1/access/{role}", "/api/v1/access/{role}/rotate"} {
		require.Contains(t, doc, `"`+p+`"`)
	}
}
