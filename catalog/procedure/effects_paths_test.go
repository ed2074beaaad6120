package procedure_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/catalog/procedure/proceduretest"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
)

// pathData gives the forms of the n-th path the values its effects need on
// a real platform: a table of its own for the catalog it creates (F-1), a
// role of its own (F-5), a connector to the test's database (F-4).
func pathData(t *testing.T, b *bundle, n int) func(form string, data map[string]any) map[string]any {
	role := proceduretest.RoleName(t)
	cfg := b.pool.Config().ConnConfig
	return func(form string, data map[string]any) map[string]any {
		switch form {
		case "f1":
			data["tabla_propuesta"] = "cat_prueba_" + letters(n)
		case "f5":
			data["usuario_bd"], data["tablas"] = role, []any{proceduretest.Table}
		case "f4":
			data["conector_tipo"] = "PostgreSQL"
			data["conector_direccion"] = fmt.Sprintf("postgres://%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
			data["conector_objeto"] = "cat." + proceduretest.Table
		}
		return data
	}
}

func letters(n int) string {
	var out []byte
	for ; n > 0; n /= 26 {
		out = append(out, byte('a'+n%26))
	}
	return string(out)
}

// connectorCredentials does what the entity does on the connector's page:
// it gives the connectors the case registered their (write-only)
// credentials.
func connectorCredentials(t *testing.T, b *bundle, c *procedure.Case) {
	t.Helper()
	ctx := context.Background()
	links, err := b.engine.Links(ctx, c)
	require.NoError(t, err)
	st := &registry.Store{DB: b.pool, Keys: proceduretest.Keys(t)}
	cfg := b.pool.Config().ConnConfig
	for _, l := range links {
		if l.Kind != procedure.LinkConnector {
			continue
		}
		id, err := strconv.ParseInt(l.Ref, 10, 64)
		require.NoError(t, err)
		conn, err := st.Get(ctx, id)
		require.NoError(t, err)
		_, err = st.Update(ctx, id, registry.Input{Name: conn.Name, Kind: conn.Kind, Address: conn.Address, Object: conn.Object,
			TargetCatalog: conn.TargetCatalog, Credentials: &registry.Credentials{User: cfg.User, Password: cfg.Password}}, auditEntry())
		require.NoError(t, err)
	}
}

// catalogState is the state of the case's catalog, or of its pending
// revision when it has one.
func catalogState(t *testing.T, b *bundle, c *procedure.Case) (clave, state string, revision bool) {
	t.Helper()
	ctx := context.Background()
	l := linkOf(t, b, c, procedure.LinkCatalog)
	var rev *string
	require.NoError(t, b.pool.QueryRow(ctx, `
		SELECT c.clave, c.state, r.state FROM meta.catalog c
		LEFT JOIN meta.catalog_revision r ON r.catalog_id = c.id AND r.state NOT IN ('publicado', 'descartado')
		WHERE c.clave = $1`, l.Ref).Scan(&clave, &state, &rev))
	if rev != nil {
		return clave, *rev, true
	}
	return clave, state, false
}

func linkOf(t *testing.T, b *bundle, c *procedure.Case, kind string) procedure.Link {
	t.Helper()
	links, err := b.engine.Links(context.Background(), c)
	require.NoError(t, err)
	i := slices.IndexFunc(links, func(l procedure.Link) bool { return l.Kind == kind })
	require.GreaterOrEqual(t, i, 0, "%s links a %s (%v)", c.Folio, kind, links)
	return links[i]
}

// assertEffects checks on the platform that step t did what its effects
// say.
func assertEffects(t *testing.T, b *bundle, c *procedure.Case, tr procedure.Transition, name string) {
	t.Helper()
	ctx := context.Background()
	lifecycle := map[string]string{procedure.EffectSubmitCatalog: "en_revision", procedure.EffectObserveCatalog: "con_observaciones",
		procedure.EffectApproveCatalog: "aprobado", procedure.EffectPublishCatalog: "publicado"}
	for _, ef := range tr.Effects {
		if len(ef.When) > 0 {
			form, field, _ := strings.Cut(ef.Field, ".")
			v, _ := c.Data[form].(map[string]any)
			if !slices.Contains(ef.When, fmt.Sprint(v[field])) {
				continue
			}
		}
		switch ef.Effect {
		case procedure.EffectSubmitCatalog, procedure.EffectObserveCatalog, procedure.EffectApproveCatalog, procedure.EffectPublishCatalog:
			_, state, rev := catalogState(t, b, c)
			require.Equal(t, lifecycle[ef.Effect], state, "%s: %s: %s", name, tr.Action, ef.Effect)
			if ef.Effect == procedure.EffectPublishCatalog {
				require.False(t, rev, "%s: the revision was published", name)
			}
		case procedure.EffectDraftCatalog, procedure.EffectLinkCatalog:
			linkOf(t, b, c, procedure.LinkCatalog)
		case procedure.EffectOpenRevision:
			linkOf(t, b, c, procedure.LinkRevision)
			_, state, rev := catalogState(t, b, c)
			require.True(t, rev, name)
			require.Equal(t, "borrador", state, name)
		case procedure.EffectInstructivo:
			l := linkOf(t, b, c, procedure.LinkInstructivo)
			id, err := strconv.ParseInt(l.Ref, 10, 64)
			require.NoError(t, err)
			a, pdf, err := b.engine.AttachmentContent(ctx, c, id)
			require.NoError(t, err)
			require.Equal(t, l.Label, a.Name)
			require.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")), "%s: the instructivo is a PDF", name)
		case procedure.EffectEntityAccess:
			l := linkOf(t, b, c, procedure.LinkAccess)
			assertRoleLimited(t, b, c, l.Ref)
		case procedure.EffectConnector:
			l := linkOf(t, b, c, procedure.LinkConnector)
			var address string
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT address FROM meta.connector WHERE id = $1::bigint`, l.Ref).Scan(&address))
			f4, _ := c.Data["f4"].(map[string]any)
			require.Equal(t, f4["conector_direccion"], address, name)
		}
	}
	if slices.Contains(tr.Notify, "respuesta") {
		if links, err := b.engine.Links(ctx, c); err == nil && len(links) > 0 {
			var body string
			require.NoError(t, b.pool.QueryRow(ctx, `SELECT body FROM meta.outbox WHERE subject LIKE 'Correo de respuesta%' AND subject LIKE '%' || $1 || '%'`,
				c.Folio).Scan(&body))
			clave, _, _ := catalogState(t, b, c)
			require.Contains(t, body, "https://datos.example/catalogos/"+clave, "%s: the reply links the catalog", name)
		}
	}
}

// assertRoleLimited: the granted role logs in with the password only the
// entity can read, reaches its table and nothing else, and the password is
// nowhere in the case, its history, the outbox or the audit log.
func assertRoleLimited(t *testing.T, b *bundle, c *procedure.Case, role string) {
	t.Helper()
	ctx := context.Background()
	_, _, err := b.engine.AccessPassword(ctx, b.steward, c.Folio)
	require.ErrorContains(t, err, "Sólo la entidad")
	gotRole, password, err := b.engine.AccessPassword(ctx, b.entity, c.Folio)
	require.NoError(t, err)
	require.Equal(t, role, gotRole)
	st := &access.Store{DB: b.pool, Keys: proceduretest.Keys(t)}
	grants, err := st.List(ctx, false)
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(grants, func(g access.Grant) bool { return g.Role == role && g.Dependencia == "SFIA" }))

	cfg := b.pool.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = role, password
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err, "the role logs in")
	defer conn.Close(ctx)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM cat.`+proceduretest.Table).Scan(&n))
	_, err = conn.Exec(ctx, `SELECT count(*) FROM meta.app_user`)
	require.ErrorContains(t, err, "permission denied", "the role reaches nothing but its tables")

	hist, err := b.engine.History(ctx, c)
	require.NoError(t, err)
	for _, blob := range []any{c.Data, hist} {
		j, err := json.Marshal(blob)
		require.NoError(t, err)
		require.NotContains(t, string(j), password)
	}
	var leaks int
	require.NoError(t, b.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM meta.outbox WHERE body LIKE '%' || $1 || '%' OR subject LIKE '%' || $1 || '%')
		     + (SELECT count(*) FROM meta.audit_log WHERE detail::text LIKE '%' || $1 || '%')`, password).Scan(&leaks))
	require.Zero(t, leaks, "the password is in no mail and no audit entry")
}

func auditEntry() audit.Entry { return audit.Entry{Actor: audit.Actor{Login: "enlace.sfia"}} }
