package procedure_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/schemas"
)

// Loading and checking the six shipped definitions (what serve does at start).
func BenchmarkLoadDefinitions(b *testing.B) {
	for b.Loop() {
		if _, err := procedure.Load(schemas.Procedures()); err != nil {
			b.Fatal(err)
		}
	}
}

// Business time over a whole year of the calendar (the yearly clock of AAM-1.2).
func BenchmarkCalendarYear(b *testing.B) {
	_, cal := loadShipped(b)
	from, to := at(cal, "2026-01-01 00:00"), at(cal, "2027-01-01 00:00")
	var d time.Duration
	for b.Loop() {
		d = cal.Between(from, to)
	}
	b.ReportMetric(d.Hours(), "business-h")
}

// One transition on PostgreSQL: lock the case, check, update, history,
// bitácora, outbox — what a steward's click costs.
func BenchmarkAct(b *testing.B) {
	bu := setup(b)
	ctx := context.Background()
	d, _ := bu.engine.Registry().Latest("ARR-1.1")
	start, _ := d.Form("solicitud")
	f8, _ := d.Form("f8")
	c, err := bu.engine.Open(ctx, bu.entity, procedure.OpenInput{Short: "ARR-1.1", Data: sample(start)})
	require.NoError(b, err)
	c, err = bu.engine.Act(ctx, bu.steward, c.Folio, procedure.ActInput{Action: "iniciar_analisis", LockVersion: c.LockVersion})
	require.NoError(b, err)
	data := sample(f8)
	for b.Loop() {
		// registrar_minuta loops on «reuniones», so every iteration is one real transition.
		c, err = bu.engine.Act(ctx, bu.steward, c.Folio, procedure.ActInput{Action: "registrar_minuta", LockVersion: c.LockVersion, Data: data})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// One transition whose effect moves the case's catalog revision through its
// lifecycle in the same transaction (MCC-1.5's observations loop: observe,
// then send back to review) — BenchmarkAct plus the catalog's transition.
func BenchmarkActWithEffect(b *testing.B) {
	bu := setup(b)
	ctx := context.Background()
	d, _ := bu.engine.Registry().Latest("MCC-1.5")
	f3, _ := d.Form("f3")
	c, err := bu.engine.Open(ctx, bu.entity, procedure.OpenInput{Short: "MCC-1.5", Data: sample(f3)})
	require.NoError(b, err)
	for _, a := range []string{"informacion_completa", "modificaciones_realizadas"} {
		c, err = bu.engine.Act(ctx, bu.steward, c.Folio, procedure.ActInput{Action: a, LockVersion: c.LockVersion})
		require.NoError(b, err)
	}
	loop := []procedure.ActInput{{Action: "catalogo_con_observaciones", Observations: "Falta la descripción."}, {Action: "observaciones_atendidas"}}
	i := 0
	for b.Loop() {
		in := loop[i%2]
		in.LockVersion = c.LockVersion
		if c, err = bu.engine.Act(ctx, bu.steward, c.Folio, in); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
