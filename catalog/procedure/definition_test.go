package procedure_test

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
)

const minimal = `
clave: MP-PRUEBA-1.0
short: PRU-1.0
version: 1
name: Prueba
roles:
  - {id: steward, name: Responsable, kind: granted, profiles: [admin]}
  - {id: solicitante, name: Solicitante, kind: requester}
initial: abierta
start_form: f1
states:
  - {id: abierta, label: Abierta}
  - {id: cerrada, label: Cerrada, final: true}
transitions:
  - {action: cerrar, label: Cerrar, from: [abierta], to: cerrada, roles: [steward], requires: [f1.nombre]}
forms:
  - id: f1
    clave: F-1
    name: Formato
    fields:
      - {id: nombre, label: Nombre, type: text, required: true}
`

func TestParseChecksTheDefinition(t *testing.T) {
	t.Parallel()
	_, err := procedure.Parse("ok.yaml", []byte(minimal))
	require.NoError(t, err)

	tests := []struct {
		name, old, new, want string
	}{
		{"unreachable state", "  - {id: cerrada, label: Cerrada, final: true}",
			"  - {id: cerrada, label: Cerrada, final: true}\n  - {id: huerfana, label: Huérfana, final: true}",
			`el estado "huerfana" no se alcanza desde el inicial "abierta"`},
		{"dead end", "  - {id: cerrada, label: Cerrada, final: true}",
			"  - {id: cerrada, label: Cerrada, final: true}\n  - {id: atorada, label: Atorada}\n",
			`el estado "atorada" no es final y no tiene salida`},
		{"unknown role", "roles: [steward], requires", "roles: [jefe], requires", `el rol "jefe" no existe`},
		{"unknown field", "requires: [f1.nombre]", "requires: [f1.apellido]", `el campo requerido "f1.apellido" no existe`},
		{"unknown target", "to: cerrada", "to: archivada", `el estado destino "archivada" no existe`},
		{"unknown key", "name: Prueba", "nombre: Prueba\nname: Prueba", "field nombre not found"},
		{"final initial", "initial: abierta", "initial: cerrada", `«initial»: el estado "cerrada" es final`},
		{"bad pattern", "type: text, required: true}", "type: text, required: true, pattern: \"([a-z\"}", "no es una expresión regular válida"},
		{"bad profile", "profiles: [admin]", "profiles: [jefe]", `el perfil "jefe" no existe`},
		{"no final state", "{id: cerrada, label: Cerrada, final: true}", "{id: cerrada, label: Cerrada}", "no hay ningún estado final"},
	}
	for _, tc := range tests {
		src := strings.Replace(minimal, tc.old, tc.new, 1)
		require.NotEqual(t, minimal, src, tc.name)
		_, err := procedure.Parse("malo.yaml", []byte(src))
		require.Error(t, err, tc.name)
		require.ErrorContains(t, err, "malo.yaml", tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
}

func TestLoadNamesTheBadFile(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"bien.yaml": {Data: []byte(minimal)},
		"mal.yaml":  {Data: []byte(strings.Replace(minimal, "short: PRU-1.0", "short: PRU-2.0\ninitial: nada", 1))},
	}
	_, err := procedure.Load(fsys)
	require.Error(t, err)
	require.ErrorContains(t, err, "mal.yaml")
	require.NotContains(t, err.Error(), "bien.yaml")

	dup := fstest.MapFS{"a.yaml": {Data: []byte(minimal)}, "b.yaml": {Data: []byte(minimal)}}
	_, err = procedure.Load(dup)
	require.ErrorContains(t, err, "PRU-1.0 versión 1 ya está definido en a.yaml")
}

func TestShippedDefinitions(t *testing.T) {
	t.Parallel()
	reg, _ := loadShipped(t)
	for _, d := range reg.All() {
		require.NotEmpty(t, d.Activities, d.Short)
		m := d.Mermaid(d.Initial)
		require.Contains(t, m, "flowchart TD", d.Short)
		require.Contains(t, m, "class "+d.Initial+" current", d.Short)
		for _, s := range d.States {
			require.Contains(t, m, "  "+s.ID, d.Short)
		}
	}
	adc, ok := reg.Latest("ADC-1.3")
	require.True(t, ok)
	m := adc.Mermaid("")
	require.Contains(t, m, `{"¿Está completa la información?"}`)
	require.Contains(t, m, `-- "Sí" --> accesos`)
	require.Contains(t, m, `-- "No" --> informacion_solicitada`)
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	day := 8 * time.Hour
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"1d", day, false},
		{"2d4h", 2*day + 4*time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"", 0, true},
		{"1y", 0, true},
		{"d", 0, true},
		{"0h", 0, true},
	}
	for _, tc := range tests {
		got, err := procedure.ParseDuration(tc.in, day)
		if tc.err {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestFormValidate(t *testing.T) {
	t.Parallel()
	min, max := 1.0, 10.0
	f := procedure.Form{ID: "f", Clave: "F-X", Fields: []procedure.Field{
		{ID: "n", Label: "Cantidad", Type: procedure.Number, Min: &min, Max: &max},
		{ID: "d", Label: "Fecha", Type: procedure.Date},
		{ID: "l", Label: "Lista", Type: procedure.List, MaxLength: 2},
		{ID: "u", Label: "Liga", Type: procedure.URL},
		{ID: "b", Label: "Activo", Type: procedure.Boolean},
	}}
	tests := []struct {
		data map[string]any
		want string
	}{
		{map[string]any{"n": 5.0, "d": "2026-02-02", "l": []any{"a"}, "u": "https://x.gob.mx/a", "b": true}, ""},
		{map[string]any{"n": 11.0}, "debe ser a lo más 10"},
		{map[string]any{"n": "5"}, "debe ser un número"},
		{map[string]any{"d": "02/02/2026"}, "AAAA-MM-DD"},
		{map[string]any{"l": []any{"a", "b", "c"}}, "debe tener a lo más 2 elementos"},
		{map[string]any{"l": []any{"a", ""}}, "el elemento 2"},
		{map[string]any{"u": "no es liga"}, "dirección web"},
		{map[string]any{"b": "sí"}, "debe ser sí o no"},
	}
	for _, tc := range tests {
		err := f.Validate(tc.data)
		if tc.want == "" {
			require.NoError(t, err)
			continue
		}
		require.ErrorContains(t, err, tc.want)
	}
}
