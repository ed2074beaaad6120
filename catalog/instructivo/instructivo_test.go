package instructivo_test

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/instructivo"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
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
