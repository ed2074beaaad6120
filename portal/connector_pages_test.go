package portal

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

const pagesSecret = "p4ss-muy-secreta"

// chartBars returns the fill of every bar of the SVG chart with that id.
func chartBars(t *testing.T, body, id string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<svg[^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</svg>`).FindStringSubmatch(body)
	require.NotNil(t, m, "no chart %s", id)
	var fills []string
	for _, f := range regexp.MustCompile(`<rect [^>]*fill="([^"]+)"`).FindAllStringSubmatch(m[1], -1) {
		fills = append(fills, f[1])
	}
	return fills
}

// historyRows counts the rows of the check history table.
func historyRows(body string) int {
	h := body[strings.Index(body, `id="revisiones"`):]
	return strings.Count(h[:strings.Index(h, "</table>")], "<tr><td>")
}

// The connector pages: what each profile sees, the charts of a known
// history, «Verificar ahora», the form's validation and CSRF, and
// credentials never shown.
func TestConnectorPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	b := setup(t, Options{Keys: keys})
	seg, sfia := b.dependencia(t, "SEG"), b.dependencia(t, "SFIA")
	b.user(t, "admin", account.Admin, nil)
	b.user(t, "enlace.seg", account.Publicador, seg)
	b.user(t, "enlace.sfia", account.Publicador, sfia)
	b.user(t, "consulta", account.Consulta, nil)
	store := &registry.Store{DB: b.pool, Keys: keys}
	// The catalog it feeds, with one load.
	cat := b.publishedCatalog(t, municipioDef("cat_municipio", "Municipios de Guanajuato"), *seg, true, nil, municipioRows(3), nil)
	run, err := pipeline.CreateRun(ctx, b.pool, pipeline.NewRun{CatalogID: cat.ID, CatalogClave: cat.Clave, Trigger: pipeline.Schedule,
		Source: "conector Base de delitos"})
	require.NoError(t, err)
	// A port nothing listens on: the check is refused at once.
	delitos, err := store.Create(ctx, registry.Input{Dependencia: "SEG", Name: "Base de delitos", Kind: "postgres",
		Address: "postgres://127.0.0.1:1/delitos", Object: "delito", TargetCatalog: cat.Clave,
		Credentials: &registry.Credentials{User: "lector", Password: pagesSecret}}, audit.Entry{})
	require.NoError(t, err)
	_, err = store.Create(ctx, registry.Input{Dependencia: "SFIA", Name: "Padrón de proveedores <b>SFIA</b>", Kind: "http",
		Address: "https://sfia.example/api/proveedores"}, audit.Entry{})
	require.NoError(t, err)
	// A known history, by clock hours (the charts' bars): in the hour under
	// way 2 of 2 checks ok, the hour before 1 of 2, four hours before 1 of
	// 1; ten days ago 1 of 1.
	_, err = b.pool.Exec(ctx, `INSERT INTO meta.connectivity_check (connector_id, dependencia_id, checked_at, status, latency_ms, message)
		SELECT $1, $2, date_trunc('hour', now()) - a, s, 12, m FROM (VALUES
			(interval '0 seconds', 'ok', ''), (interval '-1 second', 'ok', ''),
			(interval '20 minutes', 'refused', 'El servidor rechazó la conexión'), (interval '40 minutes', 'ok', ''),
			(interval '210 minutes', 'ok', ''), (interval '10 days 2 hours', 'ok', '')) AS h(a, s, m)`, delitos.ID, *seg)
	require.NoError(t, err)

	signed := func(login string) *client {
		cl := b.client(t)
		cl.signIn(login, login+"-clave-larga")
		return cl
	}
	admin, pubSEG, pubSFIA, consulta := signed("admin"), signed("enlace.seg"), signed("enlace.sfia"), signed("consulta")
	get := func(cl *client, path string, status int) string {
		t.Helper()
		res, body := cl.do("GET", path, nil)
		require.Equal(t, status, res.StatusCode, body)
		require.NotContains(t, body, pagesSecret, "%s shows the password", path)
		return body
	}
	one := "/conectores/" + itoa(delitos.ID)

	t.Run("who sees what", func(t *testing.T) {
		res, _ := b.client(t).do("GET", "/conectores", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode)
		require.Contains(t, res.Header.Get("Location"), "/entrar")

		body := get(admin, "/conectores", 200)
		require.Contains(t, body, "Base de delitos")
		require.Contains(t, body, "Padrón de proveedores")
		require.NotContains(t, body, "<b>SFIA</b>", "names are escaped, in the table and in the charts' titles")
		require.Contains(t, body, "«Padrón de proveedores &lt;b&gt;SFIA&lt;/b&gt;»")
		require.Contains(t, body, `id="registrar-conector"`)
		require.Contains(t, body, `href="/conectores"`, "the nav links the connectors")

		body = get(pubSFIA, "/conectores", 200)
		require.NotContains(t, body, "Base de delitos")
		require.Contains(t, body, "Padrón de proveedores")
		get(pubSFIA, one, 404)
		get(pubSFIA, one+"/editar", 404)

		body = get(consulta, "/conectores", 200)
		require.Contains(t, body, "Base de delitos")
		require.NotContains(t, body, `id="registrar-conector"`)
		get(consulta, "/conectores/nuevo", 403)
		body = get(consulta, one, 200)
		require.NotContains(t, body, `id="verificar"`)
	})

	t.Run("uptime and charts of a known history", func(t *testing.T) {
		body := get(pubSEG, "/conectores", 200)
		// 24 h: 4 of 5 checks; 30 d: 5 of 6.
		require.Contains(t, body, "80.0 %")
		require.Contains(t, body, "83.3 %")
		require.Contains(t, body, `id="disponibilidad-dependencias"`)
		require.NotContains(t, body, "SFIA", "a Publicador sees only his dependencia's summary")

		hours := chartBars(t, body, "grafica-"+itoa(delitos.ID)+"-24h")
		require.Len(t, hours, 24)
		require.Equal(t, barAllOK, hours[23], "the last hour: 2 of 2")
		require.Equal(t, barPartly, hours[22], "the hour before: 1 of 2")
		require.Equal(t, barAllOK, hours[19], "four hours before: 1 of 1")
		require.Equal(t, 21, strings.Count(strings.Join(hours, " "), barNoCheck))
		days := chartBars(t, body, "grafica-"+itoa(delitos.ID)+"-30d")
		require.Len(t, days, 30)
		require.Equal(t, barPartly, days[29], "today: 4 of 5")
		require.Equal(t, barAllOK, days[19], "ten days ago")
		require.Equal(t, 28, strings.Count(strings.Join(days, " "), barNoCheck))

		body = get(pubSEG, one, 200)
		require.Len(t, chartBars(t, body, "grafica-"+itoa(delitos.ID)+"-24h"), 24)
		require.Equal(t, 6, historyRows(body), "six checks in the history")
		require.Contains(t, body, "guardadas cifradas")
		require.Contains(t, body, "El servidor rechazó la conexión", "the history shows each check's message")
		require.Contains(t, body, `href="/catalogos/`+cat.Clave+`/cargas/`+itoa(run.ID)+`"`, "the catalog's loads link to their reports")
	})

	t.Run("verificar ahora", func(t *testing.T) {
		res, _ := pubSEG.do("POST", one+"/verificar", strings.NewReader(""), "Content-Type", "application/x-www-form-urlencoded")
		require.Equal(t, http.StatusForbidden, res.StatusCode, "no CSRF token")
		res, body := pubSFIA.post(one+"/verificar", nil)
		require.Equal(t, http.StatusNotFound, res.StatusCode, body)
		res, body = pubSEG.post(one+"/verificar", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
		body = get(pubSEG, res.Header.Get("Location"), 200)
		require.Contains(t, body, "Revisión hecha")
		require.Equal(t, 7, historyRows(body))
	})

	t.Run("form", func(t *testing.T) {
		body := get(pubSEG, "/conectores/nuevo", 200)
		require.NotContains(t, body, `id="dependencia"`, "a Publicador registers in his own dependencia")
		require.Contains(t, get(admin, "/conectores/nuevo", 200), `id="dependencia"`)

		good := url.Values{"nombre": {"Incidencia delictiva"}, "tipo": {"postgres"}, "direccion": {"postgres://db.seg.example:5432/delitos"},
			"usuario": {"lector"}, "contrasena": {pagesSecret}, "objeto": {"incidencia"}, "intervalo": {"120"}, "habilitado": {"on"}}
		res, _ := pubSEG.do("POST", "/conectores/nuevo", strings.NewReader(good.Encode()), "Content-Type", "application/x-www-form-urlencoded")
		require.Equal(t, http.StatusForbidden, res.StatusCode, "no CSRF token")

		bad := url.Values{}
		for k, v := range good {
			bad[k] = v
		}
		bad.Set("nombre", "ab")
		bad.Set("cron", "cada hora")
		bad.Set("intervalo", "diez")
		res, body = pubSEG.post("/conectores/nuevo", bad)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, body)
		require.Contains(t, body, `id="error-intervalo"`)
		bad.Set("intervalo", "5")
		res, body = pubSEG.post("/conectores/nuevo", bad)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, body)
		require.NotContains(t, body, pagesSecret, "the form does not echo the password")
		require.Contains(t, body, "el nombre debe tener de 3 a 120 caracteres")
		require.Contains(t, body, "expresión cron válida")
		require.Contains(t, body, "entre 10 segundos y 24 horas")
		require.Contains(t, body, `value="ab"`, "what was typed is kept")
		list, err := store.List(ctx, registry.Filter{DependenciaID: seg})
		require.NoError(t, err)
		require.Len(t, list, 1, "nothing was saved")

		fileConn := url.Values{"nombre": {"Archivo local"}, "tipo": {"file"}, "direccion": {"/etc/passwd"}}
		res, body = pubSEG.post("/conectores/nuevo", fileConn)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, body)
		require.Contains(t, body, "reservado a administradores")

		res, body = pubSEG.post("/conectores/nuevo", good)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
		loc := res.Header.Get("Location")
		require.Regexp(t, `^/conectores/\d+\?guardado=1$`, loc)
		body = get(pubSEG, loc, 200)
		require.Contains(t, body, "Los cambios se guardaron.")
		require.Contains(t, body, "Incidencia delictiva")
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/conectores/"), "?guardado=1")

		// Editing with the credential fields empty keeps the stored secret.
		body = get(pubSEG, "/conectores/"+id+"/editar", 200)
		require.Contains(t, body, "deje vacío un campo para conservar su valor")
		edit := url.Values{"nombre": {"Incidencia delictiva (SESNSP)"}, "tipo": {"postgres"}, "direccion": {"postgres://db.seg.example:5432/delitos"},
			"objeto": {"incidencia"}, "intervalo": {"300"}, "usuario": {"lector2"}}
		res, body = pubSEG.post("/conectores/"+id+"/editar", edit)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
		var cid int64
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM meta.connector WHERE name = 'Incidencia delictiva (SESNSP)'`).Scan(&cid))
		cred, err := store.Secret(ctx, cid)
		require.NoError(t, err)
		require.Equal(t, registry.Credentials{User: "lector2", Password: pagesSecret}, cred)
		conn, err := store.Get(ctx, cid)
		require.NoError(t, err)
		require.False(t, conn.Enabled, "the unchecked box disables it")
		require.EqualValues(t, 300, conn.CheckInterval)

		res, _ = pubSFIA.post("/conectores/"+id+"/eliminar", nil)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		res, body = pubSEG.post("/conectores/"+id+"/eliminar", nil)
		require.Equal(t, http.StatusSeeOther, res.StatusCode, body)
		require.Contains(t, get(pubSEG, "/conectores?eliminado=1", 200), "El conector se eliminó.")
		get(pubSEG, "/conectores/"+id, 404)
	})
}
