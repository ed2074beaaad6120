package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// The connector API's authorisation matrix and its answers.
func TestConnectorsAPI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	b := setup(t, Options{Keys: keys})
	var seg, sfia int64
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad') RETURNING id`).Scan(&seg))
	require.NoError(t, b.pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SFIA', 'Secretaría de Finanzas') RETURNING id`).Scan(&sfia))
	users := account.NewStore(b.pool)
	token := func(login string, p account.Profile, dep *int64) string {
		u, err := users.Create(ctx, account.NewUser{Login: login, Email: login + "@guanajuato.gob.mx", FullName: login, Profile: p, DependenciaID: dep})
		require.NoError(t, err)
		_, secret, err := users.NewToken(ctx, u.ID, "prueba", nil)
		require.NoError(t, err)
		return "Bearer " + secret
	}
	admin := token("admin", account.Admin, nil)
	pubSEG := token("enlace.seg", account.Publicador, &seg)
	pubSFIA := token("enlace.sfia", account.Publicador, &sfia)
	consulta := token("consulta", account.Consulta, nil)

	call := func(auth, method, path, body string) (int, string) {
		t.Helper()
		var h []string
		if auth != "" {
			h = append(h, "Authorization", auth)
		}
		h = append(h, "Content-Type", "application/json")
		res, out := b.do(t, method, path, strings.NewReader(body), h...)
		require.NotContains(t, out, "p4ss-muy-secreta", "%s %s answered the password", method, path)
		return res.StatusCode, out
	}
	const conn = `{"name": "Base de delitos", "kind": "postgres", "address": "postgres://db.seg.gob.mx:5432/delitos",
		"credentials": {"user": "lector", "password": "p4ss-muy-secreta"}, "object": "delito", "check_interval_seconds": 60}`

	status, body := call(pubSEG, "POST", "/api/v1/connectors", conn)
	require.Equal(t, http.StatusCreated, status, body)
	var created struct {
		ID             int64  `json:"id"`
		Dependencia    string `json:"dependencia"`
		HasCredentials bool   `json:"has_credentials"`
		CheckInterval  int    `json:"check_interval_seconds"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &created))
	require.Equal(t, "SEG", created.Dependencia, "a Publicador's connector is his dependencia's")
	require.True(t, created.HasCredentials)
	require.Equal(t, 60, created.CheckInterval)
	one := "/api/v1/connectors/" + itoa(created.ID)

	for _, sc := range []struct {
		name, auth, method, path, body string
		status                         int
		contains, excludes             string
	}{
		{"anonymous list", "", "GET", "/api/v1/connectors", "", 401, "no_autenticado", ""},
		{"anonymous create", "", "POST", "/api/v1/connectors", conn, 401, "", ""},
		{"consulta may read", consulta, "GET", "/api/v1/connectors", "", 200, "Base de delitos", ""},
		{"consulta may not create", consulta, "POST", "/api/v1/connectors", conn, 403, "administrar conectores", ""},
		{"other dependencia sees none", pubSFIA, "GET", "/api/v1/connectors", "", 200, "[]", "Base de delitos"},
		{"other dependencia cannot read one", pubSFIA, "GET", one, "", 404, "conector_no_encontrado", ""},
		{"other dependencia cannot change", pubSFIA, "PUT", one, conn, 404, "", ""},
		{"other dependencia cannot delete", pubSFIA, "DELETE", one, "", 404, "", ""},
		{"not for another dependencia", pubSEG, "POST", "/api/v1/connectors", `{"dependencia": "SFIA", "name": "Ajeno", "kind": "http", "address": "https://x.gob.mx"}`, 403, "", ""},
		{"admin sees all", admin, "GET", "/api/v1/connectors", "", 200, `"dependencia":"SEG"`, ""},
		{"admin creates for any", admin, "POST", "/api/v1/connectors", `{"dependencia": "SFIA", "name": "API de municipios", "kind": "http", "address": "https://api.sfia.gob.mx/m"}`, 201, `"dependencia":"SFIA"`, ""},
		{"invalid fields listed", pubSEG, "POST", "/api/v1/connectors", `{"name": "x", "kind": "ftp", "address": ""}`, 422, `"field":"kind"`, ""},
		{"password in the address refused", pubSEG, "POST", "/api/v1/connectors", `{"name": "Con clave", "kind": "http", "address": "https://u:p4ss-muy-secreta@x.gob.mx"}`, 422, "no debe llevar usuario", ""},
		{"unknown field", pubSEG, "POST", "/api/v1/connectors", `{"nombre": "x"}`, 400, "json_invalido", ""},
		{"not json", pubSEG, "POST", "/api/v1/connectors", `nada`, 400, "json_invalido", ""},
		{"unknown dependencia", admin, "POST", "/api/v1/connectors", `{"dependencia": "NADA", "name": "Nada", "kind": "http", "address": "https://x.gob.mx"}`, 422, "la dependencia no existe", ""},
		{"file connectors are for administrators", pubSEG, "POST", "/api/v1/connectors", `{"name": "Archivo", "kind": "file", "address": "/etc/passwd"}`, 403, "conector_archivo_restringido", ""},
		{"nor by changing one", pubSEG, "PUT", one, `{"name": "Archivo", "kind": "file", "address": "/etc/passwd"}`, 403, "conector_archivo_restringido", ""},
		{"an administrator may", admin, "POST", "/api/v1/connectors", `{"dependencia": "SEG", "name": "Archivo", "kind": "file", "address": "/srv/datos/municipios.csv"}`, 201, `"kind":"file"`, ""},
		{"owner reads one", pubSEG, "GET", one, "", 200, `"has_credentials":true`, "lector"},
		{"health", pubSEG, "GET", one + "/health", "", 200, `"window":"30d"`, ""},
		{"health limit", pubSEG, "GET", one + "/health?limit=0", "", 400, "limit", ""},
		{"uptime by dependencia", admin, "GET", "/api/v1/connectors/uptime", "", 200, "[]", ""},
		{"update keeps credentials", pubSEG, "PUT", one, `{"name": "Base de delitos", "kind": "postgres", "address": "postgres://db2.seg.gob.mx/delitos"}`, 200, `"has_credentials":true`, ""},
		{"bad id", pubSEG, "GET", "/api/v1/connectors/abc", "", 404, "", ""},
		{"owner deletes", pubSEG, "DELETE", one, "", 204, "", ""},
		{"deleted", pubSEG, "GET", one, "", 404, "", ""},
	} {
		status, body := call(sc.auth, sc.method, sc.path, sc.body)
		require.Equal(t, sc.status, status, "%s: %s", sc.name, body)
		if sc.contains != "" {
			require.Contains(t, body, sc.contains, sc.name)
		}
		if sc.excludes != "" {
			require.NotContains(t, body, sc.excludes, sc.name)
		}
	}
	var n int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM meta.audit_log WHERE object_type = 'connector' AND actor_login = 'enlace.seg' AND request_id <> ''`).Scan(&n))
	require.Equal(t, 3, n, "create, update and delete are in the bitácora with the request id")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
