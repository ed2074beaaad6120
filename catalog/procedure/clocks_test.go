package procedure_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
)

func TestCheckClocksQueuesOnceAtHalfAndFull(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cal := b.engine.Calendar()
	now := at(cal, "2026-11-23 09:00")
	b.engine.Now = func() time.Time { return now }
	d, _ := b.engine.Registry().Latest("GUP-1.6")
	f6, _ := d.Form("f6")
	c, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "GUP-1.6", Data: sample(f6)})
	require.NoError(t, err)
	now = at(cal, "2026-11-23 09:30")
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "informacion_completa", LockVersion: c.LockVersion})
	require.NoError(t, err)

	n, err := b.engine.CheckClocks(ctx, at(cal, "2026-11-23 12:59"))
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = b.engine.CheckClocks(ctx, at(cal, "2026-11-23 13:00"))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 1, outboxCount(t, b.pool, b.steward.Email, "%la mitad del tiempo%"))
	n, err = b.engine.CheckClocks(ctx, at(cal, "2026-11-23 14:00"))
	require.NoError(t, err)
	require.Zero(t, n, "each threshold is announced once")

	// 8 business hours are reached the next morning at 09:00.
	n, err = b.engine.CheckClocks(ctx, at(cal, "2026-11-24 09:30"))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, 1, outboxCount(t, b.pool, b.steward.Email, "%tiempo de atención vencido%"))

	clocks, err := b.engine.CaseClocks(ctx, c, at(cal, "2026-11-24 09:30"))
	require.NoError(t, err)
	require.Equal(t, 8*time.Hour+30*time.Minute, clocks[0].Elapsed)
}

func TestIndicators(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	cal := b.engine.Calendar()
	now := at(cal, "2026-11-23 09:00")
	b.engine.Now = func() time.Time { return now }

	byID := func() map[string]procedure.IndicatorValue {
		vals, err := b.engine.Indicators(ctx, now)
		require.NoError(t, err)
		out := map[string]procedure.IndicatorValue{}
		for _, v := range vals {
			out[v.ID] = v
		}
		return out
	}
	v := byID()
	require.Equal(t, "No", v["AAM-1.2.modelo"].Value)
	require.False(t, *v["AAM-1.2.modelo"].Met)
	require.Equal(t, "1", v["ADC-1.3.catalogos"].Value, "the fixture's cat_municipio")
	_, dup := v["ALC-1.4.catalogos"]
	require.False(t, dup, "the same indicator is computed once")
	require.Equal(t, "—", v["GUP-1.6.tiempo"].Value)

	// Publish a model: walk AAM-1.2 to «publicar».
	d, _ := b.engine.Registry().Latest("AAM-1.2")
	modelo, _ := d.Form("modelo")
	pub, _ := d.Form("publicacion")
	c, err := b.engine.Open(ctx, b.steward, procedure.OpenInput{Short: "AAM-1.2", Data: sample(modelo)})
	require.NoError(t, err)
	for _, in := range []procedure.ActInput{{Action: "enviar_a_revision"}, {Action: "documentos_correctos"}, {Action: "aprobar"}, {Action: "publicar", Data: sample(pub)}} {
		in.LockVersion = c.LockVersion
		c, err = b.engine.Act(ctx, b.steward, c.Folio, in)
		require.NoError(t, err, in.Action)
	}
	// A second published catalog, without its data dictionary.
	_, err = b.pool.Exec(ctx, `CREATE TABLE cat.cat_sin_doc (id int);
		INSERT INTO meta.catalog (clave, table_name, title, state, definition, dependencia_id, created_by)
		SELECT 'sin-doc', 'cat_sin_doc', 'Sin documentar', 'publicado', '{}', id, 'prueba' FROM meta.dependencia LIMIT 1`)
	require.NoError(t, err)
	// A GUP-1.6 request attended in 2 business hours.
	g, _ := b.engine.Registry().Latest("GUP-1.6")
	f6, _ := g.Form("f6")
	gc, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "GUP-1.6", Data: sample(f6)})
	require.NoError(t, err)
	for i, a := range []string{"informacion_completa", "usuarios_gestionados", "informar_atendida"} {
		now = now.Add(time.Duration(i+1) * 20 * time.Minute)
		in := procedure.ActInput{Action: a, LockVersion: gc.LockVersion}
		if a == "usuarios_gestionados" {
			in.Data = map[string]any{"aplicados": []any{"Alta de nuevo usuario: ana.perez"}}
		}
		gc, err = b.engine.Act(ctx, b.steward, gc.Folio, in)
		require.NoError(t, err)
	}

	v = byID()
	require.Equal(t, "Sí", v["AAM-1.2.modelo"].Value)
	require.True(t, *v["AAM-1.2.modelo"].Met)
	require.Contains(t, v["AAM-1.2.modelo"].Detail, c.Folio)
	require.Equal(t, "1", v["ADC-1.3.catalogos"].Value)
	require.Contains(t, v["ADC-1.3.catalogos"].Detail, "2 catálogos publicados en el portal; 1 de ellos")
	require.Equal(t, "2 h", v["GUP-1.6.tiempo"].Value)
	require.True(t, *v["GUP-1.6.tiempo"].Met)

	now = now.AddDate(1, 0, 1)
	v = byID()
	require.Equal(t, "No", v["AAM-1.2.modelo"].Value, "a year later the model is due for review")
}
