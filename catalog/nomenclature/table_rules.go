package nomenclature

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tableNameOK is NOM-T02's pattern for the rules' prefix.
func (r *Rules) tableNameOK(name string) bool {
	rest, ok := strings.CutPrefix(name, r.TablePrefix)
	return ok && identRe.MatchString(rest)
}

// proposedTable is the name a table should have: transliterated, prefixed,
// shortened, in singular; "" when no valid name can be made from it.
func (r *Rules) proposedTable(name string) string {
	t := Transliterate(name)
	entity, ok := strings.CutPrefix(t, r.TablePrefix)
	if !ok {
		entity = t
	}
	if entity == "" {
		return ""
	}
	if words := strings.Split(entity, "_"); r.isPlural(words[len(words)-1]) {
		words[len(words)-1] = r.singularOf(words[len(words)-1])
		entity = strings.Join(words, "_")
	}
	p := fitName(r.TablePrefix+entity, r.MaxIdentifierBytes)
	if !r.validTable(p) {
		return ""
	}
	return p
}

// validTable reports whether a table name passes every error rule on names.
func (r *Rules) validTable(name string) bool {
	entity := strings.TrimPrefix(name, r.TablePrefix)
	return r.tableNameOK(name) && len(name) <= r.MaxIdentifierBytes && !r.reserved[entity]
}

// entity is the table's entity: its name without the prefix, from the
// proposed name when the real one is not valid.
func (r *Rules) entity(table string) string {
	if r.tableNameOK(table) {
		return strings.TrimPrefix(table, r.TablePrefix)
	}
	if p := r.proposedTable(table); p != "" {
		return strings.TrimPrefix(p, r.TablePrefix)
	}
	return ""
}

func (r *Rules) checkTable(s *subject, obj string, fs *findings) {
	name := s.name
	suggest := r.proposedTable(name)
	if suggest == name {
		suggest = ""
	}
	// NOM-T01
	if s.schema != r.Schema {
		fs.add("NOM-T01", SeverityError, obj,
			fmt.Sprintf("la tabla está en el esquema «%s»; los catálogos viven en el esquema «%s»", s.schema, r.Schema),
			r.Schema+"."+firstNonEmpty(suggest, name))
	}
	// NOM-T02
	if !r.tableNameOK(name) {
		fs.add("NOM-T02", SeverityError, obj,
			fmt.Sprintf("el nombre «%s» no sigue la forma %s<entidad>: palabras en minúsculas sin acentos unidas por un solo guion bajo", name, r.TablePrefix),
			suggest)
	}
	// NOM-T03
	if len(name) > r.MaxIdentifierBytes {
		fs.add("NOM-T03", SeverityError, obj,
			fmt.Sprintf("el nombre mide %d bytes; PostgreSQL recorta sin aviso los nombres de más de %d", len(name), r.MaxIdentifierBytes),
			suggest)
	}
	// NOM-T04
	if probs := asciiProblems(name); len(probs) > 0 {
		fs.add("NOM-T04", SeverityError, obj,
			fmt.Sprintf("el nombre «%s» %s: sólo se admiten minúsculas ASCII, dígitos y guion bajo", name, strings.Join(probs, ", ")),
			suggest)
	}
	// NOM-T05
	lower := strings.ToLower(name)
	entity, hasPrefix := strings.CutPrefix(lower, r.TablePrefix)
	if !hasPrefix {
		entity = lower
	}
	var t05 []string
	if r.reserved[entity] {
		t05 = append(t05, fmt.Sprintf("la entidad «%s» es una palabra reservada de PostgreSQL", entity))
	}
	if strings.Contains(name, "__") {
		t05 = append(t05, "tiene guiones bajos dobles («__»)")
	}
	if strings.HasSuffix(name, "_") {
		t05 = append(t05, "termina en guion bajo")
	}
	if len(t05) > 0 {
		fs.add("NOM-T05", SeverityError, obj, "el nombre "+strings.Join(t05, " y "), suggest)
	}
	// NOM-T06
	if n := utf8.RuneCountInString(strings.TrimSpace(s.comment)); n < r.MinTableDescription {
		msg := "la tabla no tiene descripción"
		if n > 0 {
			msg = fmt.Sprintf("la descripción de la tabla tiene %d caracteres", n)
		}
		fs.add("NOM-T06", SeverityError, obj,
			fmt.Sprintf("%s; debe tener al menos %d caracteres que digan qué contiene el catálogo", msg, r.MinTableDescription), "")
	}
	// NOM-T07
	base := name
	if !r.tableNameOK(name) {
		base = Transliterate(name)
	}
	if rest, ok := strings.CutPrefix(base, r.TablePrefix); ok && rest != "" {
		words := strings.Split(rest, "_")
		last := words[len(words)-1]
		if r.isPlural(last) {
			words[len(words)-1] = r.singularOf(last)
			sg := fitName(r.TablePrefix+strings.Join(words, "_"), r.MaxIdentifierBytes)
			if !r.validTable(sg) {
				sg = ""
			}
			fs.add("NOM-T07", SeverityWarning, obj,
				fmt.Sprintf("la entidad debe ir en singular: «%s» parece plural de «%s»", last, r.singularOf(last)), sg)
		}
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func isVowel(b byte) bool { return strings.IndexByte("aeiou", b) >= 0 }

// isPlural reports whether a lower-case word looks plural (NOM-T07): it
// ends in s, is not a known singular ending in s, and either its singular
// is a known word or the s follows a vowel.
func (r *Rules) isPlural(w string) bool {
	if len(w) < 3 || !strings.HasSuffix(w, "s") || r.endsInS[w] {
		return false
	}
	if r.singular[r.singularOf(w)] {
		return true
	}
	return isVowel(w[len(w)-2])
}

// singularOf is the singular of a Spanish plural: from the rule data when
// it knows the word, else by dropping "es" after a single consonant that
// Spanish plurals add "es" to (ciudades → ciudad), else dropping "s".
func (r *Rules) singularOf(w string) string {
	if s, ok := r.Plurals[w]; ok {
		return s
	}
	if !strings.HasSuffix(w, "s") {
		return w
	}
	if r.singular[w[:len(w)-1]] {
		return w[:len(w)-1]
	}
	if strings.HasSuffix(w, "es") && len(w) > 3 {
		stem := w[:len(w)-2]
		if r.singular[stem] {
			return stem
		}
		last, prev := stem[len(stem)-1], stem[len(stem)-2]
		if strings.IndexByte("dlnrjy", last) >= 0 && isVowel(prev) {
			return stem
		}
	}
	return w[:len(w)-1]
}
