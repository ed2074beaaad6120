package procedure_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/catalog/procedure/proceduretest"
)

func refusalCode(t *testing.T, err error) string {
	t.Helper()
	var r *procedure.Refusal
	require.True(t, errors.As(err, &r), "want a *Refusal, got %v", err)
	return r.Code
}

// The adoption request of the issue: an entity files it, the steward asks
// for more information, the entity completes it, the steward attends it,
// and the requester gets the «Correo de respuesta».
func TestAdoptionAskCompleteAttend(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, _ := b.engine.Registry().Latest("ADC-1.3")
	f2, _ := d.Form("f2")
	f4, _ := d.Form("f4")
	f5, _ := d.Form("f5")

	c, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "ADC-1.3", Data: sample(f2)})
	require.NoError(t, err)
	require.Equal(t, "recibida", c.State)
	require.True(t, strings.HasPrefix(c.Folio, "ADC-1.3-"), c.Folio)

	// Information is incomplete (no F-4 yet): "complete" is refused and changes nothing.
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "informacion_completa", LockVersion: c.LockVersion})
	require.Equal(t, procedure.CodeMissingField, refusalCode(t, err))
	require.ErrorContains(t, err, "Mecanismo de actualización")

	// The requester cannot decide for the steward.
	_, err = b.engine.Act(ctx, b.entity, c.Folio, procedure.ActInput{Action: "solicitar_informacion", LockVersion: c.LockVersion, Observations: "x"})
	require.Equal(t, procedure.CodeForbidden, refusalCode(t, err))

	// Asking for more information needs observations.
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "solicitar_informacion", LockVersion: c.LockVersion})
	require.Equal(t, procedure.CodeObservations, refusalCode(t, err))

	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "solicitar_informacion", LockVersion: c.LockVersion,
		Observations: "Falta el informe de mecanismos de actualización (F-4)."})
	require.NoError(t, err)
	require.Equal(t, "informacion_solicitada", c.State)
	require.Equal(t, b.steward.Login, c.AssigneeLogin)
	require.Equal(t, 1, outboxCount(t, b.pool, b.entity.Email, "%información complementaria%"))

	// Bad F-4 data is refused with the field and the value.
	bad := sample(f4)
	bad["correo_responsable"] = "no-es-correo"
	_, err = b.engine.Act(ctx, b.entity, c.Folio, procedure.ActInput{Action: "entregar_informe", LockVersion: c.LockVersion, Data: bad})
	require.Equal(t, procedure.CodeInvalidData, refusalCode(t, err))
	require.ErrorContains(t, err, "Correo del responsable")
	require.ErrorContains(t, err, "no-es-correo")

	informe := sample(f4)
	informe["mecanismo"] = "Servicio web" // no connector to register: the access is a role
	c, err = b.engine.Act(ctx, b.entity, c.Folio, procedure.ActInput{Action: "entregar_informe", LockVersion: c.LockVersion, Data: informe})
	require.NoError(t, err)
	require.Equal(t, "recibida", c.State)
	require.Equal(t, 1, outboxCount(t, b.pool, b.steward.Email, "%completó la información%"))

	accesos := sample(f5)
	accesos["usuario_bd"] = proceduretest.RoleName(t)
	for _, s := range []procedure.ActInput{{Action: "informacion_completa"}, {Action: "proporcionar_accesos", Data: accesos}} {
		s.LockVersion = c.LockVersion
		c, err = b.engine.Act(ctx, b.steward, c.Folio, s)
		require.NoError(t, err, s.Action)
	}
	// The role was never checked: connectivity is not established yet.
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "conectividad_establecida", LockVersion: c.LockVersion})
	require.Equal(t, procedure.CodeEffectFailed, refusalCode(t, err))
	require.ErrorContains(t, err, "aún no tiene una verificación de conectividad")
	proceduretest.CheckConnectivity(t, b.engine, b.pool, c.Folio)
	for _, a := range []string{"conectividad_establecida", "nomenclatura_validada", "instructivo_generado"} {
		c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: a, LockVersion: c.LockVersion})
		require.NoError(t, err, a)
	}
	// Activity 7 is the entity's: the steward (another dependencia) may not.
	_, err = b.engine.Act(ctx, b.outsider, c.Folio, procedure.ActInput{Action: "tabla_publicada", LockVersion: c.LockVersion})
	require.Equal(t, procedure.CodeForbidden, refusalCode(t, err))
	c, err = b.engine.Act(ctx, b.entity, c.Folio, procedure.ActInput{Action: "tabla_publicada", LockVersion: c.LockVersion})
	require.NoError(t, err)
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "catalogo_registrado", LockVersion: c.LockVersion})
	require.NoError(t, err)
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "informar_atendida", LockVersion: c.LockVersion,
		Observations: "El catálogo cat_municipio ya está publicado."})
	require.NoError(t, err)
	require.Equal(t, "atendida", c.State)
	require.NotNil(t, c.ClosedAt)
	require.Equal(t, 1, outboxCount(t, b.pool, b.entity.Email, "Correo de respuesta:%"))

	// A final state admits nothing.
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "informar_atendida", LockVersion: c.LockVersion})
	require.Equal(t, procedure.CodeIllegalAction, refusalCode(t, err))

	hist, err := b.engine.History(ctx, c)
	require.NoError(t, err)
	state, err := procedure.Replay(d, hist)
	require.NoError(t, err)
	require.Equal(t, c.State, state)
	require.Equal(t, "abrir", hist[0].Action)
	require.Equal(t, "Falta el informe de mecanismos de actualización (F-4).", hist[1].Observations)
}

func TestStaleLockVersionIsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, _ := b.engine.Registry().Latest("ADC-1.3")
	f2, _ := d.Form("f2")
	c, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "ADC-1.3", Data: sample(f2)})
	require.NoError(t, err)

	// Two stewards act on what they both saw: exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "solicitar_informacion",
				LockVersion: c.LockVersion, Observations: "Falta el F-4."})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			require.Equal(t, procedure.CodeConflict, refusalCode(t, err))
		}
	}
	require.Equal(t, 1, ok)
	now, err := b.engine.Get(ctx, c.Folio)
	require.NoError(t, err)
	require.Equal(t, c.LockVersion+1, now.LockVersion)
	hist, err := b.engine.History(ctx, now)
	require.NoError(t, err)
	require.Len(t, hist, 2)
}

func TestOpenValidatesTheStartForm(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, _ := b.engine.Registry().Latest("ADC-1.3")
	f2, _ := d.Form("f2")
	tests := []struct {
		name string
		edit func(map[string]any)
		want []string
	}{
		{"missing required", func(m map[string]any) { delete(m, "nombre_solicitante") }, []string{"Nombre de quien solicita", "es obligatorio"}},
		{"table outside the nomenclature", func(m map[string]any) { m["catalogo"] = "Municipios" }, []string{"Catálogo a adoptar", "nomenclatura DAID", `"Municipios"`}},
		{"option not offered", func(m map[string]any) { m["origen"] = "Excel" }, []string{"Origen de la información", "debe ser una de"}},
		{"unknown field", func(m map[string]any) { m["color"] = "rojo" }, []string{"color", "no tiene este campo"}},
		{"wrong type", func(m map[string]any) { m["descripcion"] = 12.0 }, []string{"Descripción del catálogo", "debe ser texto"}},
	}
	for _, tc := range tests {
		data := sample(f2)
		tc.edit(data)
		_, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "ADC-1.3", Data: data})
		require.Equal(t, procedure.CodeInvalidData, refusalCode(t, err), tc.name)
		for _, w := range tc.want {
			require.ErrorContains(t, err, w, tc.name)
		}
	}
	_, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "XYZ-9.9"})
	require.Equal(t, procedure.CodeUnknownProcedure, refusalCode(t, err))
	cases, err := b.engine.List(ctx, procedure.Filter{})
	require.NoError(t, err)
	require.Empty(t, cases, "refused requests leave nothing behind")
}

// Steps that claim work on the platform are checked against it: the
// table must exist in cat and follow the nomenclature, the catalog must be
// registered.
func TestChecksAgainstThePlatform(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, _ := b.engine.Registry().Latest("ALC-1.4")
	f1, _ := d.Form("f1")
	c, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "ALC-1.4", Data: sample(f1)})
	require.NoError(t, err)
	for _, a := range []string{"informacion_completa", "fuentes_analizadas", "catalogo_creado", "catalogo_correcto", "aprobar"} {
		c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: a, LockVersion: c.LockVersion})
		require.NoError(t, err, a)
	}
	// «Catálogo creado» made cat.cat_tipo_documento; take it away, then
	// put a table outside the nomenclature in its place.
	_, err = b.pool.Exec(ctx, `ALTER TABLE cat.cat_tipo_documento RENAME TO cat_tipo_documento_aparte`)
	require.NoError(t, err)
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "tabla_creada", LockVersion: c.LockVersion})
	require.Equal(t, procedure.CodeCheckFailed, refusalCode(t, err))
	require.ErrorContains(t, err, "la tabla cat.cat_tipo_documento no existe en Datosigto")
	_, err = b.pool.Exec(ctx, `CREATE TABLE cat.cat_tipo_documento (id int)`)
	require.NoError(t, err)
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "tabla_creada", LockVersion: c.LockVersion})
	require.Equal(t, procedure.CodeCheckFailed, refusalCode(t, err))
	require.ErrorContains(t, err, "no cumple la nomenclatura DAID")
	now, err := b.engine.Get(ctx, c.Folio)
	require.NoError(t, err)
	require.Equal(t, "alta_datosigto", now.State)
	require.Equal(t, c.LockVersion, now.LockVersion, "a refused action changes nothing")

	_, err = b.pool.Exec(ctx, `DROP TABLE cat.cat_tipo_documento; ALTER TABLE cat.cat_tipo_documento_aparte RENAME TO cat_tipo_documento`)
	require.NoError(t, err)
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "tabla_creada", LockVersion: c.LockVersion})
	require.NoError(t, err)
	c, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "instructivo_generado", LockVersion: c.LockVersion})
	require.NoError(t, err)
	_, err = b.pool.Exec(ctx, `UPDATE meta.catalog SET table_name = 'cat_otra' WHERE table_name = 'cat_tipo_documento'`)
	require.NoError(t, err)
	_, err = b.engine.Act(ctx, b.steward, c.Folio, procedure.ActInput{Action: "catalogo_registrado", LockVersion: c.LockVersion})
	require.ErrorContains(t, err, "no está registrada como catálogo")
}

func TestAttachments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	d, _ := b.engine.Registry().Latest("ARR-1.1")
	f, _ := d.Form("solicitud")
	c, err := b.engine.Open(ctx, b.entity, procedure.OpenInput{Short: "ARR-1.1", Data: sample(f)})
	require.NoError(t, err)

	pdf := []byte("%PDF-1.4\nminuta de la reunión\n%%EOF")
	a, err := b.engine.Attach(ctx, b.steward, c.Folio, `C:\actas\minuta 1.pdf`, pdf)
	require.NoError(t, err)
	require.Equal(t, "minuta 1.pdf", a.Name)
	require.Equal(t, "application/pdf", a.ContentType)

	_, err = b.engine.Attach(ctx, b.outsider, c.Folio, "x.txt", []byte("hola"))
	require.Equal(t, procedure.CodeForbidden, refusalCode(t, err))
	_, err = b.engine.Attach(ctx, b.entity, c.Folio, "vacio.txt", nil)
	require.Equal(t, procedure.CodeInvalidData, refusalCode(t, err))

	list, err := b.engine.Attachments(ctx, c)
	require.NoError(t, err)
	require.Len(t, list, 1)
	got, content, err := b.engine.AttachmentContent(ctx, c, a.ID)
	require.NoError(t, err)
	require.Equal(t, pdf, content)
	require.Equal(t, a.SHA256, got.SHA256)
	_, _, err = b.engine.AttachmentContent(ctx, c, a.ID+1000)
	require.ErrorIs(t, err, procedure.ErrNotFound)
}
