// Package instructivo writes the instructivo of a catalog as a PDF: what
// the catalog is, who owns it, how it is updated, its data dictionary field
// by field, and how to consume it. Everything comes from the catalog's
// registered metadata and definition, the same source the data dictionary
// API and the DDL read. The text uses the Go fonts, embedded, so Spanish
// accents render on any machine.
package instructivo

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// Info is what the instructivo says beyond the catalog itself.
type Info struct {
	// BaseURL is the portal's public address, for the API and download
	// links ("https://datos.guanajuato.gob.mx"); empty writes paths only.
	BaseURL string
	// Dependencia is the owning dependencia's name.
	Dependencia string
	// Versions are the catalog's versions, newest first (may be empty).
	Versions []catalog.Version
	// Now dates the document; zero means time.Now.
	Now time.Time
}

const (
	font   = "go"
	margin = 20.0
)

type doc struct {
	pdf *fpdf.Fpdf
}

func (d doc) heading(s string) {
	d.pdf.Ln(4)
	d.pdf.SetFont(font, "B", 13)
	d.pdf.MultiCell(0, 7, s, "", "L", false)
	d.pdf.Ln(1)
}

func (d doc) para(s string) {
	d.pdf.SetFont(font, "", 10)
	d.pdf.MultiCell(0, 5, s, "", "L", false)
}

// item writes "label: value", skipping empty values.
func (d doc) item(label, value string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	d.pdf.SetFont(font, "B", 10)
	d.pdf.CellFormat(d.pdf.GetStringWidth(label+": ")+1, 5, label+": ", "", 0, "L", false, 0, "")
	d.pdf.SetFont(font, "", 10)
	d.pdf.MultiCell(0, 5, value, "", "L", false)
}

// Write writes the instructivo of c to w.
func Write(w io.Writer, c *catalog.Catalog, info Info) error {
	if info.Now.IsZero() {
		info.Now = time.Now()
	}
	pdf := fpdf.New("P", "mm", "Letter", "")
	pdf.AddUTF8FontFromBytes(font, "", goregular.TTF)
	pdf.AddUTF8FontFromBytes(font, "B", gobold.TTF)
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin)
	pdf.SetTitle("Instructivo del catálogo "+c.Title, true)
	pdf.SetAuthor("gobdatos — Modelo de Gobierno de Datos", true)
	pdf.SetCreationDate(info.Now)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-15)
		pdf.SetFont(font, "", 8)
		pdf.CellFormat(0, 10, fmt.Sprintf("Instructivo del catálogo %s — página %d de {nb}", c.Clave, pdf.PageNo()), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()
	d := doc{pdf: pdf}

	pdf.SetFont(font, "B", 17)
	pdf.MultiCell(0, 9, "Instructivo del catálogo «"+c.Title+"»", "", "L", false)
	pdf.SetFont(font, "", 9)
	pdf.MultiCell(0, 5, "Modelo de Gobierno de Datos — Dirección General de Tecnologías de la Información y Telecomunicaciones. Generado el "+
		info.Now.Format("2006-01-02")+" a partir del registro del catálogo y de su diccionario de datos.", "", "L", false)

	d.heading("1. Qué es")
	d.para(firstNonEmpty(c.Description, c.Resource.Description, c.Title))
	d.item("Clave", c.Clave)
	d.item("Tabla", catalog.Schema+"."+c.Table)
	d.item("Estado", c.State.Name())
	version := "sin datos publicados"
	if c.CurrentVersion > 0 {
		version = fmt.Sprintf("%d", c.CurrentVersion)
		if len(info.Versions) > 0 {
			v := info.Versions[0]
			version += fmt.Sprintf(" (%d registros, publicada el %s)", v.Rows, v.At.Format("2006-01-02"))
		}
	}
	d.item("Versión vigente", version)
	d.item("Palabras clave", strings.Join(c.Keywords, ", "))

	d.heading("2. Quién es responsable")
	d.item("Dependencia", info.Dependencia)
	d.item("Responsable del catálogo", c.Steward)
	d.item("Correo", c.StewardEmail)
	origin := "Interno: lo mantiene la dependencia responsable."
	if c.Origin == catalog.Adoptado {
		origin = "Adoptado de una entidad externa"
		if c.OriginEntity != "" {
			origin += ": " + c.OriginEntity
		}
		origin += "."
	}
	d.item("Origen", origin)

	d.heading("3. Cómo se actualiza")
	d.item("Mecanismo de actualización", firstNonEmpty(c.UpdateMechanism, "no indicado"))
	d.item("Periodicidad", firstNonEmpty(c.Periodicity, "no indicada"))
	d.item("Licencia", c.License)
	d.para("Cada carga se valida contra este diccionario y contra la nomenclatura DAID; una carga aceptada se publica como una nueva versión numerada, con el número de registros agregados, modificados y dados de baja. Las versiones anteriores siguen disponibles.")

	d.heading("4. Diccionario de datos")
	d.para(fmt.Sprintf("La tabla %s.%s tiene %d campos de datos, más las columnas de control activo, fecha_alta y fecha_modificacion que la plataforma administra.",
		catalog.Schema, c.Table, len(dataFields(c.Resource))))
	for _, f := range dataFields(c.Resource) {
		pdf.Ln(2)
		pdf.SetFont(font, "B", 11)
		pdf.MultiCell(0, 6, f.Name, "", "L", false)
		d.para(firstNonEmpty(f.Description, f.Title, "(sin descripción)"))
		d.item("Tipo", typeOf(f))
		d.item("Restricciones", constraintsOf(c.Resource, f))
	}

	d.heading("5. Cómo consumirlo")
	base := strings.TrimRight(info.BaseURL, "/")
	api := base + "/api/v1/catalogs/" + c.Clave
	d.para("Por la API (JSON, sin autenticación cuando el catálogo está publicado):")
	d.item("Metadatos", api)
	d.item("Diccionario de datos (Table Schema)", api+"/schema")
	d.item("Versiones", api+"/versions")
	d.item("Documentación de la API", base+"/api/v1/openapi.json")
	d.para("Desde la base de datos Datosigto, con un acceso otorgado por la DAID:")
	d.item("Consulta", fmt.Sprintf("SELECT %s FROM %s.%s WHERE activo", fieldList(c.Resource), catalog.Schema, c.Table))
	d.para("Los datos también se descargan desde la página del catálogo en el portal, en la versión vigente o en cualquiera anterior.")

	if err := pdf.Error(); err != nil {
		return fmt.Errorf("instructivo %s: %w", c.Clave, err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return fmt.Errorf("instructivo %s: %w", c.Clave, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func dataFields(r *tableschema.Resource) []tableschema.Field {
	var out []tableschema.Field
	for _, f := range r.Schema.Fields {
		if !catalog.IsControlColumn(f.Name) {
			out = append(out, f)
		}
	}
	return out
}

func fieldList(r *tableschema.Resource) string {
	var names []string
	for _, f := range dataFields(r) {
		names = append(names, f.Name)
	}
	return strings.Join(names, ", ")
}

func typeOf(f tableschema.Field) string {
	t, err := f.SQLType()
	if err != nil {
		return f.Type
	}
	return fmt.Sprintf("%s (PostgreSQL %s)", t.FrictionlessType(), t)
}

func constraintsOf(r *tableschema.Resource, f tableschema.Field) string {
	var out []string
	for _, k := range r.Schema.PrimaryKey {
		if k == f.Name {
			out = append(out, "llave primaria")
		}
	}
	c := f.Constraints
	if c.Required {
		out = append(out, "obligatorio")
	}
	if c.Unique {
		out = append(out, "único")
	}
	if c.MinLength != nil {
		out = append(out, fmt.Sprintf("al menos %d caracteres", *c.MinLength))
	}
	if c.MaxLength != nil {
		out = append(out, fmt.Sprintf("a lo más %d caracteres", *c.MaxLength))
	}
	if c.Pattern != "" {
		out = append(out, "patrón "+c.Pattern)
	}
	if c.Minimum != nil {
		out = append(out, fmt.Sprintf("mínimo %v", c.Minimum))
	}
	if c.Maximum != nil {
		out = append(out, fmt.Sprintf("máximo %v", c.Maximum))
	}
	if len(c.Enum) > 0 {
		vals := make([]string, len(c.Enum))
		for i, v := range c.Enum {
			vals[i] = fmt.Sprint(v)
		}
		out = append(out, "uno de: "+strings.Join(vals, ", "))
	}
	for _, fk := range r.Schema.ForeignKeys {
		for i, name := range fk.Fields {
			if name == f.Name && i < len(fk.Reference.Fields) {
				out = append(out, fmt.Sprintf("se refiere a %s.%s", strings.TrimPrefix(fk.Reference.Resource, catalog.Schema+"."), fk.Reference.Fields[i]))
			}
		}
	}
	return strings.Join(out, "; ")
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
