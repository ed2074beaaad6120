package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

const entidadJSON = `{"name": "cat_entidad", "title": "Entidades federativas", "description": "Entidades federativas de México según el INEGI.",
	"schema": {"fields": [
		{"name": "id_entidad", "type": "string", "description": "Clave INEGI de la entidad.", "constraints": {"required": true, "maxLength": 2, "pattern": "[0-9]{2}"}},
		{"name": "nombre", "type": "string", "description": "Nombre oficial de la entidad.", "constraints": {"required": true, "maxLength": 100}}],
	"primaryKey": "id_entidad"}}`

// The steward's path on the command line: create, review, publish, look.
func TestCatalogCommands(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewURL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		INSERT INTO meta.dependencia (clave, nombre) VALUES ('SFIA', 'Secretaría de Finanzas'), ('SEG', 'Secretaría de Educación');
		INSERT INTO meta.app_user (login, email, full_name, profile, dependencia_id)
		VALUES ('publica', 'publica@example.mx', 'Publicadora', 'publicador', (SELECT id FROM meta.dependencia WHERE clave = 'SFIA')),
		       ('revisa', 'revisa@example.mx', 'Administradora', 'admin', NULL)`)
	require.NoError(t, err)
	env := cleanEnv("DATABASE_URL=" + dbURL)
	dir := t.TempDir()

	steps := []struct {
		args     []string
		stdin    string
		code     int
		contains string
	}{
		{[]string{"catalog", "create", "-", "--dependencia", "SFIA", "--as", "publica", "--publish"}, entidadJSON, 1, "Super Administrador"},
		{[]string{"catalog", "create", "-", "--dependencia", "SFIA", "--publish", "--steward", "Datos Maestros"}, entidadJSON, 0, "estado publicado"},
		{[]string{"catalog", "create", "../../testdata/catalogs/cat_municipio.json", "--as", "publica", "--keywords", "municipios,inegi"}, "", 0, "Catálogo «municipio» creado: tabla cat.cat_municipio, estado borrador"},
		{[]string{"catalog", "create", "../../testdata/catalogs/cat_municipio.json", "--dependencia", "SFIA"}, "", 1, "ya existe"},
		{[]string{"catalog", "create", "-", "--dependencia", "SFIA"}, strings.Replace(entidadJSON, "cat_entidad", "cat_Entidades", 1), 1, "NOM-T0"},
		{[]string{"catalog", "transition", "municipio", "aprobar", "--as", "publica"}, "", 1, "Publicador no puede aprobar"},
		{[]string{"catalog", "transition", "municipio", "enviar", "--as", "publica"}, "", 0, "en revisión"},
		{[]string{"catalog", "transition", "municipio", "observar", "--as", "revisa", "-m", "Falta la licencia."}, "", 0, "con observaciones"},
		{[]string{"catalog", "transition", "municipio", "enviar", "--as", "publica"}, "", 0, "en revisión"},
		{[]string{"catalog", "transition", "municipio", "aprobar", "--as", "revisa"}, "", 0, "aprobado"},
		{[]string{"catalog", "transition", "municipio", "publicar", "--as", "revisa"}, "", 0, "publicado"},
		{[]string{"catalog", "list"}, "", 0, "municipio"},
		{[]string{"catalog", "show", "municipio"}, "", 0, "Falta la licencia."},
		{[]string{"catalog", "schema", "municipio"}, "", 0, `"description": "Clave geoestadística completa: entidad (2 dígitos) y municipio (3 dígitos)."`},
		{[]string{"catalog", "instructivo", "municipio", "-o", filepath.Join(dir, "m.pdf")}, "", 0, "escrito en"},
		{[]string{"catalog", "show", "no-existe"}, "", 1, "no existe el catálogo «no-existe»"},
	}
	for _, st := range steps {
		res := runCLI(t, env, st.stdin, st.args...)
		require.Equal(t, st.code, res.code, "%v: %s%s", st.args, res.stdout, res.stderr)
		require.Contains(t, res.stdout+res.stderr, st.contains, st.args)
	}
	pdf, err := os.ReadFile(filepath.Join(dir, "m.pdf"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(pdf), "%PDF-"))

	// an existing table becomes a catalog; its rows are version 1
	_, err = conn.Exec(ctx, `
		CREATE TABLE cat.cat_sexo (id_sexo varchar(1) PRIMARY KEY, nombre varchar(20) NOT NULL, activo boolean NOT NULL DEFAULT true,
			fecha_alta timestamptz NOT NULL DEFAULT now(), fecha_modificacion timestamptz);
		COMMENT ON TABLE cat.cat_sexo IS 'Sexo de las personas según el INEGI.';
		COMMENT ON COLUMN cat.cat_sexo.id_sexo IS 'Clave del sexo.';
		COMMENT ON COLUMN cat.cat_sexo.nombre IS 'Nombre del sexo.';
		COMMENT ON COLUMN cat.cat_sexo.activo IS 'Registro vigente.';
		COMMENT ON COLUMN cat.cat_sexo.fecha_alta IS 'Alta del registro.';
		COMMENT ON COLUMN cat.cat_sexo.fecha_modificacion IS 'Última modificación.';
		INSERT INTO cat.cat_sexo (id_sexo, nombre) VALUES ('H', 'Hombre'), ('M', 'Mujer');`)
	require.NoError(t, err)
	res := runCLI(t, env, "", "catalog", "register", "--table", "cat.cat_sexo", "--dependencia", "SFIA")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "catálogo «sexo», estado borrador, versión 1")
	res = runCLI(t, env, "", "catalog", "versions", "sexo")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "1        2      2")
	res = runCLI(t, env, "", "catalog", "versions", "sexo", "--rows", "1")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "id_sexo,nombre\nH,Hombre\nM,Mujer\n", res.stdout)
	res = runCLI(t, env, "", "catalog", "diff", "sexo", "0", "1")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "cambio,id_sexo,nombre\nalta,H,Hombre\nalta,M,Mujer\n", res.stdout)
}
