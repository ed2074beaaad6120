package nomenclature

import (
	"fmt"
	"strings"
)

// RuleInfo describes one rule for people: its id, severity and what it asks.
type RuleInfo struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Applies  string   `json:"applies"` // "tabla" or "columna"
	Summary  string   `json:"summary"`
}

// Catalog lists the rules with the parameters they are checked with.
func (r *Rules) Catalog() []RuleInfo {
	ctrl := ""
	for i, c := range r.ControlColumns {
		if i > 0 {
			ctrl += ", "
		}
		ctrl += c.Name + " " + c.Type
		if c.NotNull {
			ctrl += " not null"
		}
		if c.Default != "" {
			ctrl += " default " + c.Default
		}
	}
	e, w := SeverityError, SeverityWarning
	return []RuleInfo{
		{"NOM-T01", e, "tabla", fmt.Sprintf("La tabla vive en el esquema %s.", r.Schema)},
		{"NOM-T02", e, "tabla", fmt.Sprintf("El nombre es %s seguido de la entidad en palabras en minúsculas unidas por un solo guion bajo.", r.TablePrefix)},
		{"NOM-T03", e, "tabla", fmt.Sprintf("A lo más %d bytes (PostgreSQL recorta sin aviso los nombres más largos).", r.MaxIdentifierBytes)},
		{"NOM-T04", e, "tabla", "Sólo ASCII: sin acentos, sin ñ, sin espacios, sin mayúsculas (año → anio)."},
		{"NOM-T05", e, "tabla", "La entidad no es una palabra reservada de PostgreSQL; sin «__» ni «_» al final."},
		{"NOM-T06", e, "tabla", fmt.Sprintf("Tiene una descripción (comentario) de al menos %d caracteres.", r.MinTableDescription)},
		{"NOM-T07", w, "tabla", fmt.Sprintf("La entidad va en singular (%smunicipio, no %smunicipios).", r.TablePrefix, r.TablePrefix)},
		{"NOM-C01", e, "columna", fmt.Sprintf("El nombre son palabras en minúsculas ASCII unidas por un solo guion bajo, de a lo más %d bytes.", r.MaxIdentifierBytes)},
		{"NOM-C02", e, "columna", fmt.Sprintf("Cada columna tiene una descripción de al menos %d caracteres.", r.MinColumnDescription)},
		{"NOM-C03", e, "tabla", fmt.Sprintf("La llave primaria es una sola columna llamada %s<entidad>.", r.KeyPrefix)},
		{"NOM-C04", e, "columna", fmt.Sprintf("Una columna con la llave de otro catálogo se llama %s<entidad referenciada>, tiene llave foránea a ese catálogo y el mismo tipo que su llave; toda columna %s* que no es la llave primaria es una referencia así.", r.KeyPrefix, r.KeyPrefix)},
		{"NOM-C05", e, "columna", fmt.Sprintf("Los prefijos concuerdan con el tipo: %s son fechas; las booleanas son %s o empiezan con %s; %s son texto; %s son números.",
			words(r.DatePrefixes), words(r.BooleanNames), words(r.BooleanPrefixes), words(r.TextPrefixes), words(r.NumberPrefixes))},
		{"NOM-C06", e, "columna", "Sólo los tipos " + words(r.AllowedTypes) + "."},
		{"NOM-C07", e, "tabla", "Existen las columnas de control " + ctrl + " y ninguna otra columna usa sus nombres (en una definición pueden omitirse: la plataforma las agrega)."},
		{"NOM-C08", e, "columna", "Sin palabras reservadas, sin nombres repetidos (sin distinguir mayúsculas), sin «__» ni «_» al final."},
		{"NOM-C09", w, "columna", "Las columnas de texto declaran longitud máxima y las " + words(r.PatternPrefixes) + "* un patrón."},
		{"NOM-C10", w, "columna", "Las abreviaturas de la lista se escriben completas (desc → descripcion, nom → nombre; num_ se permite)."},
	}
}

func words(ws []string) string { return strings.Join(ws, ", ") }
