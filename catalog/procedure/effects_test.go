package procedure_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/catalog/procedure/proceduretest"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Effects are checked like the rest of a definition: a field that does
// not exist when the file is read, an effect the engine does not have (or
// given what it does not take) when the engine starts — naming the file.
func TestEffectsCheckedAtStartUp(t *testing.T) {
	t.Parallel()
	const at = "requires: [f1.nombre]}"
	parse := []struct{ name, effects, want string }{
		{"unknown field", "effects: [{effect: catalogo_vincular, field: f1.tabla}]", `el campo del efecto "f1.tabla" no existe`},
		{"unknown field of a parameter", "effects: [{effect: catalogo_borrador, field: f1.nombre, with: {titulo: f1.titulo}}]",
			`el campo "f1.titulo" del parámetro "titulo" del efecto "catalogo_borrador" no existe`},
		{"when without field", "effects: [{effect: conectividad, when: [Sí]}]", `tiene «when» sin «field»`},
		{"nameless effect", "effects: [{field: f1.nombre}]", "falta el nombre del efecto"},
	}
	for _, tc := range parse {
		_, err := procedure.Parse("pru.yaml", []byte(strings.Replace(minimal, at, "requires: [f1.nombre], "+tc.effects+"}", 1)))
		require.ErrorContains(t, err, "pru.yaml", tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}

	_, cal := loadShipped(t)
	start := []struct{ name, effects, want string }{
		{"unknown effect", "effects: [{effect: catalogo_inventar}]", `el efecto "catalogo_inventar" no existe (acceso_entidad, catalogo_adoptar, catalogo_aprobar`},
		{"field missing", "effects: [{effect: catalogo_vincular}]", `el efecto "catalogo_vincular" necesita «field»`},
		{"field not taken", "effects: [{effect: conectividad, field: f1.nombre}]", `el efecto "conectividad" no recibe «field»`},
		{"unknown parameter", "effects: [{effect: catalogo_borrador, field: f1.nombre, with: {color: f1.nombre}}]",
			`el efecto "catalogo_borrador" no tiene el parámetro "color" (titulo, descripcion, campos, periodicidad)`},
	}
	for _, tc := range start {
		d, err := procedure.Parse("pru.yaml", []byte(strings.Replace(minimal, at, "requires: [f1.nombre], "+tc.effects+"}", 1)))
		require.NoError(t, err, tc.name)
		reg, err := procedure.NewRegistry(d)
		require.NoError(t, err)
		eng := procedure.NewEngine(nil, reg, cal)
		eng.UsePlatform(procedure.Platform{})
		err = eng.Validate()
		require.ErrorContains(t, err, "pru.yaml", tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
}

// An effect the platform refuses refuses the whole action: the case, the
// catalog registry and the server's roles stay as they were, even when an
// earlier effect of the same action had already done its part.
func TestFailedEffectChangesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()

	counts := func() map[string]int {
		out := map[string]int{}
		for name, q := range map[string]string{
			"catalogs":    `SELECT count(*) FROM meta.catalog`,
			"transitions": `SELECT count(*) FROM meta.catalog_transition`,
			"links":       `SELECT count(*) FROM meta.procedure_link`,
			"events":      `SELECT count(*) FROM meta.procedure_event`,
			"grants":      `SELECT count(*) FROM meta.entity_access`,
			"connectors":  `SELECT count(*) FROM meta.connector`,
			"outbox":      `SELECT count(*) FROM meta.outbox`,
		} {
			var n int
			require.NoError(t, b.pool.QueryRow(ctx, q).Scan(&n))
			out[name] = n
		}
		return out
	}

	// Alta: the requested table is already a published catalog.
	alc, _ := b.engine.Registry().Latest("ALC-1.4")
	f1, _ := alc.Form("f1")
	data := sample(f1)
	data["tabla_propuesta"] = proceduretest.Table
	c, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "ALC-1.4", Data: data})
	require.NoError(t, err)
	c = walk(t, b, b.steward, c, "informacion_completa", "fuentes_analizadas")
	before := counts()
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "catalogo_creado", LockVersion: c.LockVersion})
	require.Equal(t, procedure.CodeEffectFailed, refusalCode(t, err))
	require.ErrorContains(t, err, "«Catálogo creado para revisión» no pudo hacerse: el catálogo cat.cat_municipio ya existe y está publicado")
	now, err := b.engine.Get(ctx, c.Folio)
	require.NoError(t, err)
	require.Equal(t, c.State, now.State)
	require.Equal(t, c.LockVersion, now.LockVersion)
	require.Equal(t, before, counts())

	// Adopción: the role is granted, then the F-4 connector is refused (no
	// kind of database): the role is not left on the server.
	adc, _ := b.engine.Registry().Latest("ADC-1.3")
	f2, _ := adc.Form("f2")
	f4, _ := adc.Form("f4")
	f5, _ := adc.Form("f5")
	c, err = b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "ADC-1.3", Data: sample(f2)})
	require.NoError(t, err)
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "solicitar_informacion", LockVersion: c.LockVersion, Observations: "Falta el F-4."})
	require.NoError(t, err)
	informe := sample(f4)
	delete(informe, "conector_tipo")
	c, err = b.engine.Act(ctx, b.entity, c.Folio, procedure.ActInput{Action: "entregar_informe", LockVersion: c.LockVersion, Data: informe})
	require.NoError(t, err)
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "informacion_completa", LockVersion: c.LockVersion})
	require.NoError(t, err)
	role := proceduretest.RoleName(t)
	accesos := sample(f5)
	accesos["usuario_bd"] = role
	before = counts()
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "proporcionar_accesos", LockVersion: c.LockVersion, Data: accesos})
	require.Equal(t, procedure.CodeEffectFailed, refusalCode(t, err))
	require.ErrorContains(t, err, "el conector no es válido: el tipo debe ser uno de")
	var roles int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname = $1`, role).Scan(&roles))
	require.Zero(t, roles, "the role granted by the first effect was rolled back")
	require.Equal(t, before, counts())
	now, err = b.engine.Get(ctx, c.Folio)
	require.NoError(t, err)
	require.Equal(t, "accesos", now.State)
	require.NotContains(t, now.Data, "f5", "a refused action stores none of its data")

	// A table that does not exist is refused by the grant itself.
	accesos["tablas"] = []any{"cat_no_existe"}
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "proporcionar_accesos", LockVersion: c.LockVersion, Data: accesos})
	require.Equal(t, procedure.CodeEffectFailed, refusalCode(t, err))
	require.ErrorContains(t, err, "cat.cat_no_existe no existe")
	require.Equal(t, before, counts())
}

// Adopting a catalog not yet registered: the F-5 step registers it as a
// draft adopted from the entity, with its table, and grants the entity's
// role on that table — which the role can write and nothing more; the
// instructivo is that catalog's, and the entity's table passes activity 7.
func TestAdoptingANewCatalog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, _ := b.engine.Registry().Latest("ADC-1.3")
	f2, _ := d.Form("f2")
	f4, _ := d.Form("f4")
	f5, _ := d.Form("f5")
	solicitud := sample(f2)
	solicitud["catalogo"] = "cat_tipo_tramite"
	c, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "ADC-1.3", Data: solicitud})
	require.NoError(t, err)
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "solicitar_informacion", LockVersion: c.LockVersion, Observations: "Falta el F-4."})
	require.NoError(t, err)
	informe := sample(f4)
	informe["mecanismo"] = "Escritura directa en Datosigto"
	c, err = b.engine.Act(ctx, b.entity, c.Folio, procedure.ActInput{Action: "entregar_informe", LockVersion: c.LockVersion, Data: informe})
	require.NoError(t, err)
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "informacion_completa", LockVersion: c.LockVersion})
	require.NoError(t, err)
	require.Equal(t, []any{"cat_tipo_tramite"}, f5.Prefill(c.Data)["tablas"], "the F-5 starts with the F-2's catalog")
	accesos := sample(f5)
	accesos["usuario_bd"], accesos["tablas"] = proceduretest.RoleName(t), f5.Prefill(c.Data)["tablas"]
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "proporcionar_accesos", LockVersion: c.LockVersion, Data: accesos})
	require.NoError(t, err)

	var state, origin, entity string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT state, origin, origin_entity FROM meta.catalog WHERE table_name = 'cat_tipo_tramite'`).
		Scan(&state, &origin, &entity))
	require.Equal(t, []string{"borrador", "adoptado", "Secretaría de Finanzas, Inversión y Administración"}, []string{state, origin, entity})
	_, password, err := b.engine.AccessPassword(ctx, b.entity, c.Folio)
	require.NoError(t, err)
	cfg := b.pool.Config().ConnConfig.Copy()
	cfg.User, cfg.Password = accesos["usuario_bd"].(string), password
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `INSERT INTO cat.cat_tipo_tramite (id_tipo_tramite, nombre) VALUES ('01', 'Licencia de funcionamiento')`)
	require.NoError(t, err, "the entity writes its catalog's table")
	_, err = conn.Exec(ctx, `CREATE TABLE cat.cat_otra (id int)`)
	require.ErrorContains(t, err, "permission denied", "and creates nothing")

	proceduretest.CheckConnectivity(t, b.engine, b.pool, c.Folio)
	c = walk(t, b, b.steward, c, "conectividad_establecida", "nomenclatura_validada", "instructivo_generado")
	links, err := b.engine.Links(ctx, c)
	require.NoError(t, err)
	var kinds []string
	for _, l := range links {
		kinds = append(kinds, l.Kind+" "+l.Label)
	}
	require.Contains(t, kinds, "catalogo Tipo tramite")
	require.Contains(t, kinds, "instructivo instructivo-tipo-tramite.pdf")
	c, err = b.engine.Act(ctx, b.entity, c.Folio, procedure.ActInput{Action: "tabla_publicada", LockVersion: c.LockVersion})
	require.NoError(t, err, "the draft's table is in cat and follows the nomenclature")
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "catalogo_registrado", LockVersion: c.LockVersion})
	require.NoError(t, err)
}

// «Catálogo creado» links the draft the coordinator registered by hand
// with the requested table instead of creating another, and sends it to
// review.
func TestDraftRegisteredByHandIsLinked(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, _ := b.engine.Registry().Latest("ALC-1.4")
	f1, _ := d.Form("f1")
	c, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "ALC-1.4", Data: sample(f1)})
	require.NoError(t, err)
	c = walk(t, b, b.steward, c, "informacion_completa", "fuentes_analizadas")
	platform := proceduretest.Platform(t, b.pool)
	long := 100
	res := tableschema.Resource{Name: "cat_tipo_documento", Title: "Tipos de documento", Description: "Tipos de documento oficiales."}
	res.Schema.Fields = []tableschema.Field{
		{Name: "id_tipo_documento", Type: "string", Description: "Clave del tipo.", Constraints: tableschema.Constraints{Required: true, MaxLength: &long}},
		{Name: "nombre", Type: "string", Description: "Nombre del tipo.", Constraints: tableschema.Constraints{Required: true, MaxLength: &long}},
	}
	res.Schema.PrimaryKey = tableschema.StringList{"id_tipo_documento"}
	byHand, err := platform.Catalogs.Create(ctx, catalog.Actor{Login: b.steward.Login, Profile: account.Admin}, catalog.NewCatalog{Resource: res, DependenciaID: b.sfia})
	require.NoError(t, err)

	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "catalogo_creado", LockVersion: c.LockVersion})
	require.NoError(t, err)
	var n int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM meta.catalog WHERE table_name = 'cat_tipo_documento'`).Scan(&n))
	require.Equal(t, 1, n)
	now, err := platform.Catalogs.ByClave(ctx, byHand.Clave)
	require.NoError(t, err)
	require.Equal(t, catalog.EnRevision, now.State)
	require.Equal(t, "Tipos de documento", now.Title, "the coordinator's catalog, not a generated one")
}

// walk takes the actions on c in turn as actor; each must succeed.
func walk(t *testing.T, b *bundle, actor procedure.Actor, c *procedure.Case, actions ...string) *procedure.Case {
	t.Helper()
	for _, a := range actions {
		var err error
		c, err = b.engine.Act(context.Background(), actor, c.Folio, procedure.ActInput{Action: a, LockVersion: c.LockVersion})
		require.NoError(t, err, a)
	}
	return c
}

// Modificación de catálogo: the revision the case opens is the one the
// coordinator edits; its review follows the case, and «Catálogo
// actualizado en el portal» publishes it — the new column reaches the live
// table. A breaking edit still needs a Super Administrador.
func TestModificationPublishesTheRevision(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, _ := b.engine.Registry().Latest("MCC-1.5")
	f3, _ := d.Form("f3")
	c, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "MCC-1.5", Data: sample(f3)})
	require.NoError(t, err)
	c = walk(t, b, b.steward, c, "informacion_completa")
	require.Equal(t, "municipios#1", linkOf(t, b, c, procedure.LinkRevision).Ref)

	store := proceduretest.Platform(t, b.pool).Catalogs
	admin := catalog.Actor{Login: b.steward.Login, Profile: account.Admin}
	cat, err := store.ByClave(ctx, "municipios")
	require.NoError(t, err)
	require.NotNil(t, cat.Revision)
	long := 200
	res := *cat.Revision.Resource
	res.Schema.Fields = append(slices.Clone(res.Schema.Fields), tableschema.Field{Name: "nombre_corto", Type: "string",
		Description: "Nombre corto del municipio.", Constraints: tableschema.Constraints{MaxLength: &long}})
	_, err = store.Edit(ctx, admin, "municipios", catalog.Edit{Resource: &res})
	require.NoError(t, err)
	breaking := *cat.Revision.Resource
	breaking.Schema.Fields = breaking.Schema.Fields[:len(breaking.Schema.Fields)-1]
	_, err = store.Edit(ctx, admin, "municipios", catalog.Edit{Resource: &breaking, Force: true})
	require.ErrorContains(t, err, "sólo un Super Administrador puede forzar")

	c = walk(t, b, b.steward, c, "modificaciones_realizadas", "catalogo_correcto", "aprobar", "instructivo_actualizado", "tabla_modificada")
	var exists bool
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = 'cat' AND table_name = $1 AND column_name = 'nombre_corto')`, proceduretest.Table).Scan(&exists))
	require.False(t, exists, "the change waits for the revision's publication")
	c = walk(t, b, b.steward, c, "catalogo_actualizado")
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = 'cat' AND table_name = $1 AND column_name = 'nombre_corto')`, proceduretest.Table).Scan(&exists))
	require.True(t, exists, "publishing the revision changed the live table")
	cat, err = store.ByClave(ctx, "municipios")
	require.NoError(t, err)
	require.Nil(t, cat.Revision)
	require.Equal(t, catalog.Publicado, cat.State)
}
