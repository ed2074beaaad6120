package nomenclature

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// proposedColumn is the name a column should have: transliterated and
// shortened; "" when no valid name can be made from it.
func (r *Rules) proposedColumn(name string) string {
	p := fitName(Transliterate(name), r.MaxIdentifierBytes)
	if !r.validColumn(p) {
		return ""
	}
	return p
}

func (r *Rules) validColumn(name string) bool {
	return identRe.MatchString(name) && len(name) <= r.MaxIdentifierBytes && !r.reserved[name]
}

func (r *Rules) control(name string) (ControlColumn, bool) {
	for _, c := range r.ControlColumns {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return ControlColumn{}, false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func (r *Rules) checkColumns(s *subject, tableObj string, fs *findings) {
	entity := r.entity(s.name)
	pkName := ""
	if len(s.pk) == 1 {
		pkName = s.pk[0]
	}
	byName := map[string]col{}
	seen := map[string]string{}
	for _, c := range s.cols {
		obj := tableObj + "." + c.name
		lower := strings.ToLower(c.name)
		byName[c.name] = c
		ctrl, isCtrl := r.control(c.name)

		// NOM-C01
		var c01 []string
		if !identRe.MatchString(c.name) {
			c01 = append(c01, "no sigue la forma de palabras en minúsculas unidas por un solo guion bajo, empezando con letra")
		}
		if len(c.name) > r.MaxIdentifierBytes {
			c01 = append(c01, fmt.Sprintf("mide %d bytes (máximo %d)", len(c.name), r.MaxIdentifierBytes))
		}
		c01 = append(c01, asciiProblems(c.name)...)
		if len(c01) > 0 {
			fs.add("NOM-C01", SeverityError, obj,
				fmt.Sprintf("el nombre de la columna «%s» %s", c.name, strings.Join(c01, ", ")), r.proposedColumn(c.name))
		}

		// NOM-C02
		if n := utf8.RuneCountInString(strings.TrimSpace(c.comment)); n < r.MinColumnDescription {
			msg := fmt.Sprintf("la columna «%s» no tiene descripción", c.name)
			if n > 0 {
				msg = fmt.Sprintf("la descripción de la columna «%s» tiene %d caracteres", c.name, n)
			}
			fs.add("NOM-C02", SeverityError, obj, fmt.Sprintf("%s; debe tener al menos %d", msg, r.MinColumnDescription), "")
		}

		// NOM-C05: prefixes agree with types (control columns are NOM-C07's).
		if c.typeErr == nil && !isCtrl {
			r.checkTypePrefixes(c, lower, obj, fs)
		}

		// NOM-C06
		if c.typeErr != nil {
			fs.add("NOM-C06", SeverityError, obj,
				fmt.Sprintf("el tipo «%s» de la columna «%s» no se reconoce; use uno de: %s", c.rawType, c.name, strings.Join(r.AllowedTypes, ", ")), "")
		} else if !r.allowedTypes[c.typ.Base] {
			fs.add("NOM-C06", SeverityError, obj,
				fmt.Sprintf("el tipo %s de la columna «%s» no está permitido; use uno de: %s", describeType(c), c.name, strings.Join(r.AllowedTypes, ", ")),
				r.replacementType(c.typ))
		}

		// NOM-C07: a column with a control column's name is that column.
		if isCtrl && c.typeErr == nil {
			var bad []string
			if c.typ.Base != ctrl.sqlType.Base {
				bad = append(bad, fmt.Sprintf("debe ser %s, no %s", ctrl.Type, describeType(c)))
			}
			if s.live && ctrl.NotNull && !c.notNull {
				bad = append(bad, "debe ser NOT NULL")
			}
			if s.live && ctrl.Default != "" && (c.def == nil || normalizeDefault(*c.def) != normalizeDefault(ctrl.Default)) {
				bad = append(bad, "debe tener DEFAULT "+ctrl.Default)
			}
			if len(bad) > 0 {
				fs.add("NOM-C07", SeverityError, obj,
					fmt.Sprintf("«%s» es una columna de control: %s", c.name, strings.Join(bad, ", ")), "")
			}
		}

		// NOM-C08
		var c08 []string
		if r.reserved[lower] {
			c08 = append(c08, "es una palabra reservada de PostgreSQL")
		}
		if strings.Contains(c.name, "__") {
			c08 = append(c08, "tiene guiones bajos dobles («__»)")
		}
		if strings.HasSuffix(c.name, "_") {
			c08 = append(c08, "termina en guion bajo")
		}
		if first, dup := seen[lower]; dup {
			c08 = append(c08, fmt.Sprintf("repite el nombre de la columna «%s» (sin distinguir mayúsculas)", first))
		} else {
			seen[lower] = c.name
		}
		if len(c08) > 0 {
			fs.add("NOM-C08", SeverityError, obj,
				fmt.Sprintf("el nombre de la columna «%s» %s", c.name, strings.Join(c08, " y ")), r.proposedColumn(c.name))
		}

		// NOM-C09
		if c.typeErr == nil {
			var c09 []string
			if (c.typ.Base == "text" || c.typ.Base == "varchar") && c.typ.Length == 0 {
				c09 = append(c09, fmt.Sprintf("la columna de texto «%s» no declara longitud máxima (maxLength o varchar(n))", c.name))
			}
			if hasAnyPrefix(lower, r.PatternPrefixes) && !c.hasPattern {
				c09 = append(c09, fmt.Sprintf("la columna de clave «%s» no declara un patrón (pattern)", c.name))
			}
			if len(c09) > 0 {
				fs.add("NOM-C09", SeverityWarning, obj, strings.Join(c09, "; "), "")
			}
		}

		// NOM-C10
		words := strings.Split(Transliterate(c.name), "_")
		var abbrs []string
		for i, w := range words {
			full, ok := r.Abbreviations[w]
			if !ok || (i == 0 && r.prefixAbbrs[w]) {
				continue
			}
			abbrs = append(abbrs, fmt.Sprintf("«%s» (%s)", w, full))
			words[i] = full
		}
		if len(abbrs) > 0 {
			sg := fitName(strings.Join(words, "_"), r.MaxIdentifierBytes)
			if !r.validColumn(sg) {
				sg = ""
			}
			fs.add("NOM-C10", SeverityWarning, obj,
				fmt.Sprintf("el nombre de la columna «%s» usa abreviaturas que deben escribirse completas: %s", c.name, strings.Join(abbrs, ", ")), sg)
		}
	}

	r.checkPrimaryKey(s, tableObj, entity, fs)
	r.checkReferences(s, tableObj, pkName, byName, fs)

	// NOM-C07: missing control columns (a definition may leave them out).
	if s.live {
		var missing []string
		for _, ctrl := range r.ControlColumns {
			found := false
			for _, c := range s.cols {
				if strings.EqualFold(c.name, ctrl.Name) {
					found = true
					break
				}
			}
			if !found {
				d := ctrl.Name + " " + ctrl.Type
				if ctrl.NotNull {
					d += " not null"
				}
				if ctrl.Default != "" {
					d += " default " + ctrl.Default
				}
				missing = append(missing, d)
			}
		}
		if len(missing) > 0 {
			fs.add("NOM-C07", SeverityError, tableObj,
				"faltan las columnas de control: "+strings.Join(missing, ", "), "")
		}
	}
}

// normalizeDefault makes "true", "TRUE" and "true::boolean" compare equal.
func normalizeDefault(d string) string {
	d = strings.ToLower(strings.TrimSpace(d))
	if i := strings.Index(d, "::"); i >= 0 {
		d = d[:i]
	}
	return strings.Trim(d, "()' ")
}

func (r *Rules) replacementType(t tableschema.SQLType) string {
	if t.Base == "char" && t.Length > 0 {
		return fmt.Sprintf("varchar(%d)", t.Length)
	}
	if rep, ok := r.TypeReplacements[t.Base]; ok {
		return rep
	}
	if strings.HasSuffix(t.Base, "[]") {
		return "text"
	}
	return ""
}

// checkTypePrefixes is NOM-C05.
func (r *Rules) checkTypePrefixes(c col, lower, obj string, fs *findings) {
	t := c.typ
	add := func(msg, suggestion string) { fs.add("NOM-C05", SeverityError, obj, msg, suggestion) }
	isDateish := t.IsDate() || t.IsTimestamp()
	switch {
	case hasAnyPrefix(lower, r.DatePrefixes) && !isDateish:
		add(fmt.Sprintf("la columna «%s» empieza con %s y debe ser date o timestamptz, no %s", c.name, strings.Join(r.DatePrefixes, "/"), describeType(c)), "")
	case isDateish && !hasAnyPrefix(lower, r.DatePrefixes) && len(r.DatePrefixes) > 0:
		add(fmt.Sprintf("la columna «%s» es de tipo %s y su nombre debe empezar con %s", c.name, describeType(c), r.DatePrefixes[0]),
			r.prefixedSuggestion(c.name, r.DatePrefixes[0]))
	}
	isBoolName := hasAnyPrefix(lower, r.BooleanPrefixes)
	for _, n := range r.BooleanNames {
		if lower == n {
			isBoolName = true
		}
	}
	switch {
	case t.IsBoolean() && !isBoolName && len(r.BooleanPrefixes) > 0:
		add(fmt.Sprintf("la columna booleana «%s» debe llamarse %s o empezar con %s", c.name,
			strings.Join(r.BooleanNames, "/"), strings.Join(r.BooleanPrefixes, ", ")), r.prefixedSuggestion(c.name, r.BooleanPrefixes[0]))
	case hasAnyPrefix(lower, r.BooleanPrefixes) && !t.IsBoolean():
		add(fmt.Sprintf("la columna «%s» tiene nombre de booleana (%s) y debe ser boolean, no %s", c.name,
			strings.Join(r.BooleanPrefixes, ", "), describeType(c)), "")
	}
	if hasAnyPrefix(lower, r.TextPrefixes) && !t.IsText() {
		add(fmt.Sprintf("la columna «%s» es una clave y debe ser de texto (varchar o text, para conservar los ceros a la izquierda), no %s", c.name, describeType(c)), "")
	}
	if hasAnyPrefix(lower, r.NumberPrefixes) && !t.IsNumeric() {
		add(fmt.Sprintf("la columna «%s» empieza con %s y debe ser entera o numeric, no %s", c.name, strings.Join(r.NumberPrefixes, ", "), describeType(c)), "")
	}
}

// prefixedSuggestion is the column's proposed name with a type prefix, or
// "" when that would clash with a control column or not be valid.
func (r *Rules) prefixedSuggestion(name, prefix string) string {
	base := Transliterate(name)
	if !strings.HasPrefix(base+"_", prefix) {
		base = prefix + base
	}
	base = fitName(base, r.MaxIdentifierBytes)
	if _, ctrl := r.control(base); ctrl || !r.validColumn(base) || base == strings.TrimSuffix(prefix, "_") {
		return ""
	}
	return base
}

// checkPrimaryKey is NOM-C03.
func (r *Rules) checkPrimaryKey(s *subject, tableObj, entity string, fs *findings) {
	want := ""
	if entity != "" {
		want = r.KeyPrefix + entity
		if !r.validColumn(want) {
			want = ""
		}
	}
	wantText := "id_<entidad>"
	if want != "" {
		wantText = "«" + want + "»"
	}
	switch len(s.pk) {
	case 0:
		fs.add("NOM-C03", SeverityError, tableObj,
			fmt.Sprintf("la tabla no tiene llave primaria; debe tener una de una sola columna llamada %s", wantText), want)
	case 1:
		if want == "" || s.pk[0] != want {
			if want != "" || !strings.HasPrefix(s.pk[0], r.KeyPrefix) {
				fs.add("NOM-C03", SeverityError, tableObj+"."+s.pk[0],
					fmt.Sprintf("la llave primaria «%s» debe llamarse %s", s.pk[0], wantText), want)
			}
		}
	default:
		fs.add("NOM-C03", SeverityError, tableObj,
			fmt.Sprintf("la llave primaria tiene %d columnas (%s); debe ser una sola columna llamada %s", len(s.pk), quoteList(s.pk), wantText), want)
	}
}

// checkReferences is NOM-C04.
func (r *Rules) checkReferences(s *subject, tableObj, pkName string, byName map[string]col, fs *findings) {
	referenced := map[string]bool{}
	ownKey := ""
	if e := r.entity(s.name); e != "" {
		ownKey = r.KeyPrefix + e
	}
	for _, k := range s.fks {
		if len(k.cols) != 1 {
			fs.add("NOM-C04", SeverityError, tableObj,
				fmt.Sprintf("la llave foránea (%s) hacia «%s» tiene varias columnas; un catálogo se referencia por su llave de una columna", quoteList(k.cols), k.refTab), "")
			continue
		}
		name := k.cols[0]
		referenced[name] = true
		obj := tableObj + "." + name
		refEntity, isCatalog := strings.CutPrefix(k.refTab, r.TablePrefix)
		if !isCatalog {
			refEntity = Transliterate(k.refTab)
		}
		want := r.KeyPrefix + refEntity
		if name == pkName && k.refTab == s.name {
			continue
		}
		if name != want && !strings.HasPrefix(name, want+"_") {
			sg := want
			if !r.validColumn(sg) {
				sg = ""
			}
			fs.add("NOM-C04", SeverityError, obj,
				fmt.Sprintf("la columna «%s» guarda la llave de «%s» y debe llamarse «%s»", name, k.refTab, want), sg)
		}
		if isCatalog && len(k.refCols) == 1 && k.refCols[0] != want {
			fs.add("NOM-C04", SeverityError, obj,
				fmt.Sprintf("la llave foránea apunta a «%s» de «%s», que no es su llave «%s»", k.refCols[0], k.refTab, want), "")
		}
		if c, ok := byName[name]; ok && c.typeErr == nil && len(k.refTypes) == 1 && c.typ.String() != k.refTypes[0].String() {
			fs.add("NOM-C04", SeverityError, obj,
				fmt.Sprintf("la columna «%s» es %s y la llave que referencia es %s; deben ser del mismo tipo", name, describeType(c), k.refTypes[0]), "")
		}
	}
	for _, c := range s.cols {
		lower := strings.ToLower(c.name)
		if !strings.HasPrefix(lower, r.KeyPrefix) || c.name == pkName || referenced[c.name] {
			continue
		}
		if len(s.pk) != 1 && ownKey != "" && c.name == ownKey {
			continue // the table's own key, not (yet) declared: NOM-C03 says so
		}
		target := r.TablePrefix + strings.TrimPrefix(Transliterate(c.name), r.KeyPrefix)
		fs.add("NOM-C04", SeverityError, tableObj+"."+c.name,
			fmt.Sprintf("la columna «%s» se llama como una llave pero no es la llave primaria ni tiene llave foránea (por ejemplo hacia «%s.%s»)", c.name, r.Schema, target), "")
	}
}
