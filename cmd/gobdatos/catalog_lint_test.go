package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

type cliResult struct {
	stdout, stderr string
	code           int
}

func runCLI(t *testing.T, env []string, stdin string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return cliResult{out.String(), errOut.String(), code}
}

const badDefinition = `{"name":"Cat_Tipos Vialidad","schema":{"fields":[{"name":"ID","type":"string"},{"name":"desc","type":"float"}]}}`

// The steward's path: lint a definition file, standard input, JSON output.
func TestCatalogLintDefinitions(t *testing.T) {
	t.Parallel()
	env := cleanEnv()
	tests := []struct {
		name     string
		args     []string
		stdin    string
		code     int
		contains []string
	}{
		{"clean file", []string{"catalog", "lint", "../../testdata/catalogs/cat_municipio.json"}, "", 0, nil},
		{"bad definition on stdin", []string{"catalog", "lint", "-"}, badDefinition, 1,
			[]string{"NOM-T02\terror\tcat.Cat_Tipos Vialidad\t", "sugerencia: cat_tipos_vialidad", "NOM-C10\taviso\tcat.Cat_Tipos Vialidad.desc\t", "sugerencia: descripcion"}},
		{"not JSON", []string{"catalog", "lint", "-"}, `{"name":`, 2, nil},
		{"missing file", []string{"catalog", "lint", "no-existe.json"}, "", 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runCLI(t, env, tt.stdin, tt.args...)
			require.Equal(t, tt.code, res.code, "stdout:\n%s\nstderr:\n%s", res.stdout, res.stderr)
			for _, c := range tt.contains {
				require.Contains(t, res.stdout, c)
			}
			if tt.code == 2 {
				require.Contains(t, res.stderr, "la definición")
			}
		})
	}

	res := runCLI(t, env, badDefinition, "catalog", "lint", "-", "--format", "json")
	require.Equal(t, 1, res.code)
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &raw))
	require.Len(t, raw, 2, "exactly valid and findings")
	require.JSONEq(t, "false", string(raw["valid"]))
	var findings []map[string]string
	require.NoError(t, json.Unmarshal(raw["findings"], &findings))
	require.Len(t, findings, 11)
	for _, f := range findings {
		for k := range f {
			require.Contains(t, []string{"rule", "severity", "object", "message", "suggestion"}, k)
		}
		require.Contains(t, []string{"error", "warning"}, f["severity"])
	}
	// Text gives one line per finding.
	res = runCLI(t, env, badDefinition, "catalog", "lint", "-")
	require.Len(t, strings.Split(strings.TrimSpace(res.stdout), "\n"), 11)
	require.Contains(t, res.stderr, "9 errores, 2 avisos")
}

// Live tables from DATABASE_URL, and another rules file.
func TestCatalogLintTables(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE cat."Cat_Municipios"("ID" text PRIMARY KEY, "Nombre_Municipio" text, "fechaAlta" date, vigente char(1));
		CREATE TABLE cat.cat_sexo (id_sexo varchar(1) PRIMARY KEY, fecha_alta timestamptz NOT NULL,
		  fecha_modificacion timestamptz, activo boolean NOT NULL DEFAULT true);
		COMMENT ON TABLE cat.cat_sexo IS 'Sexo de las personas según el INEGI.';
		COMMENT ON COLUMN cat.cat_sexo.id_sexo IS 'Clave del sexo.';
		COMMENT ON COLUMN cat.cat_sexo.fecha_alta IS 'Alta del registro.';
		COMMENT ON COLUMN cat.cat_sexo.fecha_modificacion IS 'Última modificación.';
		COMMENT ON COLUMN cat.cat_sexo.activo IS 'Registro vigente.';`)
	require.NoError(t, err)
	env := cleanEnv("DATABASE_URL=" + dbURL)

	res := runCLI(t, env, "", "catalog", "lint", "--table", "cat.cat_sexo")
	require.Equal(t, 0, res.code, res.stdout+res.stderr)
	require.Empty(t, res.stdout)

	res = runCLI(t, env, "", "catalog", "lint", "--table", "cat.Cat_Municipios", "--format", "json")
	require.Equal(t, 1, res.code, res.stderr)
	var rep struct {
		Valid    bool `json:"valid"`
		Findings []struct{ Rule, Severity string }
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &rep))
	got := map[string]int{}
	for _, f := range rep.Findings {
		got[f.Rule]++
	}
	require.Equal(t, map[string]int{"NOM-T02": 1, "NOM-T04": 1, "NOM-T06": 1, "NOM-C01": 3, "NOM-C02": 4, "NOM-C03": 1,
		"NOM-C05": 1, "NOM-C06": 1, "NOM-C07": 1, "NOM-T07": 1, "NOM-C09": 2}, got)

	res = runCLI(t, env, "", "catalog", "lint", "--all")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stdout, "cat.Cat_Municipios")
	require.NotContains(t, res.stdout, "cat.cat_sexo")

	res = runCLI(t, env, "", "catalog", "lint", "--table", "cat_no_existe")
	require.Equal(t, 2, res.code)
	require.Contains(t, res.stderr, "no existe la tabla cat.cat_no_existe")

	// Another rules file: descriptions of 50 characters make cat_sexo fail.
	rules := runCLI(t, env, "", "catalog", "rules", "--format", "yaml")
	require.Equal(t, 0, rules.code)
	file := filepath.Join(t.TempDir(), "reglas.yaml")
	require.NoError(t, os.WriteFile(file, []byte(strings.Replace(rules.stdout, "min_table_description: 20", "min_table_description: 50", 1)), 0o600))
	res = runCLI(t, append(env, "GOBDATOS_NOMENCLATURE_RULES="+file), "", "catalog", "lint", "--table", "cat.cat_sexo")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stdout, "NOM-T06\terror\tcat.cat_sexo\t")

	require.NoError(t, os.WriteFile(file, []byte("schema: [\n"), 0o600))
	res = runCLI(t, env, "", "catalog", "lint", "--rules", file, "--table", "cat.cat_sexo")
	require.Equal(t, 2, res.code, "a broken rules file is not a lint result")
}

func TestCatalogRules(t *testing.T) {
	t.Parallel()
	res := runCLI(t, cleanEnv(), "", "catalog", "rules")
	require.Equal(t, 0, res.code)
	require.Equal(t, 17, strings.Count(res.stdout, "\nNOM-")+1)
	require.Contains(t, res.stdout, "reserved_words:")
	res = runCLI(t, cleanEnv(), "", "catalog", "rules", "--format", "json")
	var doc struct {
		Rules      []map[string]any `json:"rules"`
		Parameters map[string]any   `json:"parameters"`
	}
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &doc))
	require.Len(t, doc.Rules, 17)
	require.Equal(t, "cat_", doc.Parameters["table_prefix"])
}
