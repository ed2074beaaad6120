package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/schemas"
)

func TestProcedureLint(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, lintProcedures(&out, procedureConfig{}))
	require.Contains(t, out.String(), "6 procedimientos correctos")

	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join("..", "..", "schemas", "procedures", "gup-1.6.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gup-1.6.yaml"), good, 0o644))
	bad := bytes.Replace(good, []byte("to: por_informar, roles: [coordinador_dm]"), []byte("to: archivo, roles: [coordinador_dm]"), 1)
	require.NotEqual(t, good, bad)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "gup-1.6.yaml"), bad, 0o644))
	err = lintProcedures(&out, procedureConfig{Procedures: dir})
	require.ErrorContains(t, err, "gup-1.6.yaml")
	require.ErrorContains(t, err, `el estado destino "archivo" no existe`)
	require.NotNil(t, schemas.Procedures())
}

// A bad definition stops serve at start, naming the file and the problem.
func TestServeRefusesBadProcedure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join("..", "..", "schemas", "procedures", "adc-1.3.yaml"))
	require.NoError(t, err)
	bad := bytes.Replace(good, []byte("roles: [entidad, solicitante], activity: 7"), []byte("roles: [jefa], activity: 7"), 1)
	require.NotEqual(t, good, bad)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "adc-1.3.yaml"), bad, 0o644))

	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir(), "--no-scheduler")
	cmd.Env = cleanEnv("DATABASE_URL="+pgtest.NewURL(t), "GOBDATOS_PROCEDURES="+dir)
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "%s", out)
	require.Contains(t, string(out), "adc-1.3.yaml")
	require.Contains(t, string(out), `el rol "jefa" no existe`)

	out, err = exec.Command(binary, "procedure", "diagram", "ADC-1.3", "--state", "accesos").CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "class accesos current")
}

// show lists what each action checks and does on the platform, as the
// definition says it.
func TestProcedureShowListsChecksAndEffects(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "procedure", "show", "ADC-1.3").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, want := range []string{
		"      hace acceso_entidad(f5.tipo_acceso, rol=f5.usuario_bd, tablas=f5.tablas) si es Rol en Datosigto\n",
		"      verifica tabla_en_cat(f2.catalogo)\n",
		"      hace instructivo()\n",
	} {
		require.Contains(t, string(out), want)
	}
}
