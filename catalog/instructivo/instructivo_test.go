package instructivo_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/instructivo"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// pdfText extracts the text of a PDF with pdftotext (poppler-utils).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext (poppler-utils) is needed: apt-get install -y poppler-utils")
		}
		t.Skip("pdftotext not installed (apt-get install -y poppler-utils)")
	}
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	require.NoError(t, err)
	return string(out)
}

var spaces = regexp.MustCompile(`\s+`)

// TestMunicipioInstructivo: the instructivo of the municipalities catalog
// contains every field's name and description, accents intact.
func TestMunicipioInstructivo(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../testdata/catalogs/cat_municipio.json")
	require.NoError(t, err)
	defer f.Close()
	res, err := tableschema.Parse(f)
	require.NoError(t, err)
	c := &catalog.Catalog{Clave: "municipio", Title: res.Title, Description: res.Description, Table: "cat_municipio",
		State: catalog.Publicado, Resource: &res, CurrentVersion: 3,
		Metadata: catalog.Metadata{Steward: "Coordinación de Datos Maestros", StewardEmail: "datos@guanajuato.gob.mx",
			Keywords: []string{"municipios", "geografía"}, License: "CC-BY-4.0", Origin: catalog.Adoptado,
			OriginEntity: "Instituto Nacional de Estadística y Geografía", UpdateMechanism: "Carga de archivo del INEGI", Periodicity: "anual"}}
	var buf bytes.Buffer
	require.NoError(t, instructivo.Write(&buf, c, instructivo.Info{BaseURL: "https://datos.example.mx", Dependencia: "Secretaría de Finanzas, Inversión y Administración",
		Versions: []catalog.Version{{Number: 3, Rows: 2469, At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}}}))
	require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")))
	text := spaces.ReplaceAllString(pdfText(t, buf.Bytes()), " ")
	for _, f := range res.Schema.Fields {
		require.Contains(t, text, f.Name)
		require.Contains(t, text, spaces.ReplaceAllString(f.Description, " "), f.Name)
	}
	for _, want := range []string{
		"Instructivo del catálogo «Municipios de México»", "Coordinación de Datos Maestros", "Secretaría de Finanzas, Inversión y Administración",
		"Instituto Nacional de Estadística y Geografía", "anual", "https://datos.example.mx/api/v1/catalogs/municipio/schema",
		"llave primaria", "se refiere a cat_entidad.id_entidad", "2469 registros", "geografía",
	} {
		require.Contains(t, text, want)
	}
	require.False(t, strings.ContainsRune(text, '\uFFFD'), "no replacement characters")
}

// TestCreatedMunicipioInstructivo: the catalog created from the definition
// file through the registry gives an instructivo with every field's name
// and description, read back from the PDF.
func TestCreatedMunicipioInstructivo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	var dep int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('IPLANEG', 'Instituto de Planeación, Estadística y Geografía') RETURNING id`).Scan(&dep))
	rules, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	store := catalog.NewStore(pool, catalog.Nomenclature(rules))
	two, hundred := 2, 100
	_, err = store.Create(ctx, catalog.System(), catalog.NewCatalog{DependenciaID: dep, Publish: true, Resource: tableschema.Resource{
		Name: "cat_entidad", Title: "Entidades federativas", Description: "Entidades federativas de México según el INEGI.",
		Schema: tableschema.Schema{Fields: []tableschema.Field{
			{Name: "id_entidad", Type: "string", Description: "Clave INEGI de la entidad.", Constraints: tableschema.Constraints{Required: true, MaxLength: &two, Pattern: "[0-9]{2}"}},
			{Name: "nombre", Type: "string", Description: "Nombre oficial de la entidad.", Constraints: tableschema.Constraints{Required: true, MaxLength: &hundred}},
		}, PrimaryKey: tableschema.StringList{"id_entidad"}}}})
	require.NoError(t, err)
	f, err := os.Open("../../testdata/catalogs/cat_municipio.json")
	require.NoError(t, err)
	defer f.Close()
	def, err := tableschema.Parse(f)
	require.NoError(t, err)
	c, err := store.Create(ctx, catalog.System(), catalog.NewCatalog{Resource: def, DependenciaID: dep})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, instructivo.Write(&buf, c, instructivo.Info{Dependencia: "Instituto de Planeación, Estadística y Geografía"}))
	text := spaces.ReplaceAllString(pdfText(t, buf.Bytes()), " ")
	for _, f := range def.Schema.Fields {
		require.Contains(t, text, f.Name)
		require.Contains(t, text, spaces.ReplaceAllString(f.Description, " "), f.Name)
	}
	require.Contains(t, text, "Instituto de Planeación, Estadística y Geografía")
	require.Contains(t, text, "cat.cat_municipio")
}
