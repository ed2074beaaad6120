package procedure_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/catalog/procedure/proceduretest"
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
		{"unknown effect", "effects: [{effect: catalogo_inventar}]", `el efecto "catalogo_inventar" no existe (acceso_entidad, catalogo_aprobar`},
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
	for _, a := range []string{"informacion_completa", "fuentes_analizadas"} {
		c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: a, LockVersion: c.LockVersion})
		require.NoError(t, err, a)
	}
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
