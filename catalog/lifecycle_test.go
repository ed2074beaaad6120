package catalog_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// snapshotState is what a refused transition must leave untouched.
func snapshotState(t *testing.T, b *bundle, clave string) [3]any {
	t.Helper()
	var state string
	var transitions, auditLines int
	require.NoError(t, b.pool.QueryRow(b.ctx, `
		SELECT c.state, (SELECT count(*) FROM meta.catalog_transition WHERE catalog_id = c.id),
		       (SELECT count(*) FROM meta.audit_log WHERE object_id = c.clave)
		FROM meta.catalog c WHERE clave = $1`, clave).Scan(&state, &transitions, &auditLines))
	return [3]any{state, transitions, auditLines}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.Create(b.ctx, b.pub, catalog.NewCatalog{Resource: pruebaDef("cat_prueba"), DependenciaID: b.dep})
	require.NoError(t, err)
	otherPub := b.pub
	otherPub.DependenciaID = &b.other

	steps := []struct {
		actor  catalog.Actor
		action catalog.Action
		obs    string
		want   catalog.State // "" = refused
		kind   catalog.ErrorKind
	}{
		{b.query, catalog.Submit, "", "", catalog.KindForbidden},
		{otherPub, catalog.Submit, "", "", catalog.KindForbidden},
		{b.pub, catalog.Approve, "", "", catalog.KindForbidden},
		{b.admin, catalog.Approve, "", "", catalog.KindTransition}, // still a draft
		{b.admin, catalog.Publish, "", "", catalog.KindTransition},
		{b.pub, catalog.Submit, "", catalog.EnRevision, ""},
		{b.pub, catalog.Submit, "", "", catalog.KindTransition},
		{b.admin, catalog.Observe, "", "", catalog.KindInvalid}, // observations required
		{b.pub, catalog.Observe, "falta", "", catalog.KindForbidden},
		{b.admin, catalog.Observe, "Falta la descripción de «valor».", catalog.ConObservaciones, ""},
		{b.admin, catalog.Approve, "", "", catalog.KindTransition},
		{b.pub, catalog.Submit, "Corregido.", catalog.EnRevision, ""},
		{b.admin, catalog.Approve, "", catalog.Aprobado, ""},
		{b.pub, catalog.Publish, "", "", catalog.KindForbidden},
		{b.admin, catalog.Publish, "", catalog.Publicado, ""},
		{b.admin, catalog.Submit, "", "", catalog.KindTransition}, // published: needs a revision
		{b.pub, catalog.Retire, "", "", catalog.KindForbidden},
		{b.super, catalog.Retire, "Sustituido por otro catálogo.", catalog.Retirado, ""},
		{b.super, catalog.Retire, "", "", catalog.KindTransition},
	}
	for i, st := range steps {
		before := snapshotState(t, b, "prueba")
		c, err := b.store.Transition(b.ctx, st.actor, "prueba", st.action, st.obs)
		if st.want == "" {
			require.True(t, catalog.IsKind(err, st.kind), "step %d (%s by %s): %v", i, st.action, st.actor.Login, err)
			require.Equal(t, before, snapshotState(t, b, "prueba"), "step %d changed something", i)
			continue
		}
		require.NoError(t, err, "step %d", i)
		require.Equal(t, st.want, c.State, "step %d", i)
	}
	c, err := b.store.ByClave(b.ctx, "prueba")
	require.NoError(t, err)
	require.NotNil(t, c.PublishedAt)
	hist, err := b.store.History(b.ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, hist, 7) // crear + 6 transitions
	require.Equal(t, catalog.Observe, hist[2].Action)
	require.Equal(t, "Falta la descripción de «valor».", hist[2].Observations)
	require.Equal(t, "admin", hist[2].By)
	require.Equal(t, catalog.Retirado, hist[6].To)

	_, err = b.store.Transition(b.ctx, b.admin, "no-existe", catalog.Submit, "")
	require.True(t, catalog.IsKind(err, catalog.KindNotFound), err)
}

// TestRevision: a published catalog changes through a revision reviewed
// again while the published definition keeps serving; breaking changes
// need a Super Administrador's force.
func TestRevision(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: pruebaDef("cat_prueba"), DependenciaID: b.dep, Publish: true})
	require.NoError(t, err)
	_, err = b.pool.Exec(b.ctx, `INSERT INTO cat.cat_prueba (id_prueba, nombre, valor) VALUES ('a', 'uno', 1)`)
	require.NoError(t, err)

	// add a column, widen a type, change a description
	def := pruebaDef("cat_prueba")
	def.Schema.Fields[1].Description = "Nombre del registro, puede faltar."
	def.Schema.Fields[2].Type = "bigint"
	def.Schema.Fields = append(def.Schema.Fields, tableschema.Field{Name: "es_visible", Type: "boolean", Description: "Si el registro se muestra."})
	c, err = b.store.Edit(b.ctx, b.pub, "prueba", catalog.Edit{Resource: &def, Title: "Catálogo de prueba revisado"})
	require.NoError(t, err)
	require.Equal(t, catalog.Publicado, c.State)
	require.NotNil(t, c.Revision)
	require.Equal(t, catalog.Borrador, c.Revision.State)
	require.Len(t, c.Revision.Changes, 3)
	require.Len(t, c.Resource.Schema.Fields, 3, "the published definition keeps serving")
	require.Equal(t, "Catálogo de prueba", c.Title)
	requireColumns(t, b, "cat_prueba", "id_prueba", "nombre", "valor", "activo", "fecha_alta", "fecha_modificacion")

	_, err = b.store.Transition(b.ctx, b.pub, "prueba", catalog.Submit, "")
	require.NoError(t, err)
	_, err = b.store.Edit(b.ctx, b.pub, "prueba", catalog.Edit{Title: "Otro título"})
	require.True(t, catalog.IsKind(err, catalog.KindConflict), err)
	_, err = b.store.Transition(b.ctx, b.admin, "prueba", catalog.Approve, "")
	require.NoError(t, err)
	c, err = b.store.Transition(b.ctx, b.admin, "prueba", catalog.Publish, "")
	require.NoError(t, err)
	require.Nil(t, c.Revision)
	require.Equal(t, "Catálogo de prueba revisado", c.Title)
	require.Len(t, c.Resource.Schema.Fields, 4)
	requireColumns(t, b, "cat_prueba", "id_prueba", "nombre", "valor", "activo", "fecha_alta", "fecha_modificacion", "es_visible")
	var typ, comment string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT format_type(atttypid, atttypmod), col_description(attrelid, attnum) FROM pg_attribute
		WHERE attrelid = 'cat.cat_prueba'::regclass AND attname = 'valor'`).Scan(&typ, &comment))
	require.Equal(t, "bigint", typ)
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT col_description('cat.cat_prueba'::regclass, 2)`).Scan(&comment))
	require.Equal(t, "Nombre del registro, puede faltar.", comment)
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = 'hist.cat_prueba'::regclass AND attname = 'es_visible'`).Scan(&typ))
	require.Equal(t, "boolean", typ)

	// breaking: drop a column and narrow a type
	def2 := def
	def2.Schema.Fields = []tableschema.Field{def.Schema.Fields[0], def.Schema.Fields[2]}
	def2.Schema.Fields[1].Type = "smallint"
	for _, actor := range []catalog.Actor{b.admin, b.super} {
		_, err = b.store.Edit(b.ctx, actor, "prueba", catalog.Edit{Resource: &def2})
		require.True(t, catalog.IsKind(err, catalog.KindBreaking), err)
		require.Len(t, err.(*catalog.Error).Details, 3)
	}
	_, err = b.store.Edit(b.ctx, b.admin, "prueba", catalog.Edit{Resource: &def2, Force: true})
	require.True(t, catalog.IsKind(err, catalog.KindForbidden), err)
	c, err = b.store.Edit(b.ctx, b.super, "prueba", catalog.Edit{Resource: &def2, Force: true})
	require.NoError(t, err)
	require.True(t, c.Revision.Forced)
	for _, a := range []catalog.Action{catalog.Submit, catalog.Approve, catalog.Publish} {
		_, err = b.store.Transition(b.ctx, b.super, "prueba", a, "")
		require.NoError(t, err)
	}
	requireColumns(t, b, "cat_prueba", "id_prueba", "valor", "activo", "fecha_alta", "fecha_modificacion")
	var forced bool
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT (detail->>'forced')::boolean FROM meta.audit_log WHERE action = 'catalog.revise' ORDER BY id DESC LIMIT 1`).Scan(&forced))
	require.True(t, forced)

	// a draft changes at once
	_, err = b.store.Create(b.ctx, b.pub, catalog.NewCatalog{Resource: pruebaDef("cat_borrador"), DependenciaID: b.dep})
	require.NoError(t, err)
	d := pruebaDef("cat_borrador")
	d.Schema.Fields = append(d.Schema.Fields, tableschema.Field{Name: "num_total", Type: "integer", Description: "Un total."})
	c, err = b.store.Edit(b.ctx, b.pub, "borrador", catalog.Edit{Resource: &d})
	require.NoError(t, err)
	require.Nil(t, c.Revision)
	require.Len(t, c.Resource.Schema.Fields, 4)
	requireColumns(t, b, "cat_borrador", "id_prueba", "nombre", "valor", "activo", "fecha_alta", "fecha_modificacion", "num_total")
	d.Name = "cat_otro"
	_, err = b.store.Edit(b.ctx, b.pub, "borrador", catalog.Edit{Resource: &d})
	require.True(t, catalog.IsKind(err, catalog.KindInvalid), err)
	_, err = b.store.Edit(b.ctx, b.query, "borrador", catalog.Edit{Title: "Nuevo título"})
	require.True(t, catalog.IsKind(err, catalog.KindForbidden), err)
}

func requireColumns(t *testing.T, b *bundle, table string, want ...string) {
	t.Helper()
	var got []string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
		WHERE attrelid = ('cat.' || $1)::regclass AND attnum > 0 AND NOT attisdropped`, table).Scan(&got))
	require.Equal(t, want, got)
}

func TestNomenclatureRefusesBadDefinitions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rules, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	store := catalog.NewStore(b.pool, catalog.Nomenclature(rules))
	_, err = store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: entidadDef(), DependenciaID: b.dep, Publish: true})
	require.NoError(t, err)
	_, err = store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: readDef(t, "../testdata/catalogs/cat_municipio.json"), DependenciaID: b.dep})
	require.NoError(t, err)

	bad := pruebaDef("cat_pruebas")
	bad.Schema.Fields[1].Name = "fecha_nombre" // a text named fecha_*
	_, err = store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: bad, DependenciaID: b.dep})
	require.True(t, catalog.IsKind(err, catalog.KindInvalid), err)
	require.NotEmpty(t, err.(*catalog.Error).Details)
	require.Contains(t, err.Error(), "NOM-C")
	assertNoTable(t, b, "cat_pruebas")
}
