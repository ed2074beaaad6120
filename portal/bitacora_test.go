package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
)

func TestBitacora(t *testing.T) {
	t.Parallel()
	m := setupMatrix(t)
	ctx := context.Background()
	for i := range 60 {
		require.NoError(t, audit.Record(ctx, m.pool, audit.Entry{Actor: audit.Actor{Login: "carga"}, Action: "catalog.publish",
			ObjectType: "catalog", ObjectID: fmt.Sprintf("cat_%02d", i)}))
	}
	today := time.Now().In(mexicoCity()).Format("2006-01-02")

	_, body := m.pages["admin"].do("GET", "/bitacora?tipo=catalog&desde="+today+"&hasta="+today, nil)
	require.Contains(t, body, "cat_59")
	require.NotContains(t, body, "cat_09", "50 per page")
	require.Contains(t, body, `id="anteriores"`)
	next := regexpFind(t, `href="/bitacora\?([^"]+)" id="anteriores"`, body)
	_, body = m.pages["admin"].do("GET", "/bitacora?"+htmlUnescape(next), nil)
	require.Contains(t, body, "cat_09")
	require.NotContains(t, body, "cat_10")
	require.NotContains(t, body, "user.signin", "the filters carry over to the next page")

	_, body = m.pages["admin"].do("GET", "/bitacora?actor=carga&accion=catalog.&hasta=2000-01-01", nil)
	require.Contains(t, body, "Ningún registro coincide")
	res, body := m.pages["admin"].do("GET", "/bitacora?desde=ayer", nil)
	require.Equal(t, 400, res.StatusCode)
	require.Contains(t, body, "«desde» debe ser una fecha")

	res, body = m.api(t, "super", "GET", "/api/v1/audit?action=catalog.publish&limit=10&from="+today, "")
	require.Equal(t, 200, res.StatusCode)
	var page auditList
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.Len(t, page.Items, 10)
	require.Equal(t, "cat_59", page.Items[0].ObjectID)
	require.NotNil(t, page.NextBefore)
	res, body = m.api(t, "super", "GET", fmt.Sprintf("/api/v1/audit?action=catalog.publish&limit=10&before=%d", *page.NextBefore), "")
	require.Equal(t, 200, res.StatusCode)
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.Equal(t, "cat_49", page.Items[0].ObjectID)
	res, body = m.api(t, "super", "GET", "/api/v1/audit?actor=matriz&to=mañana", "")
	require.Equal(t, 400, res.StatusCode)
	require.Contains(t, body, `"field":"to"`)
}

func regexpFind(t *testing.T, pattern, s string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	require.NotNil(t, m, pattern)
	return m[1]
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }
