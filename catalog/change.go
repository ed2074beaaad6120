package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Change is one structural change of a catalog's table that a new
// definition implies, applied as a migration of the cat table (and of its
// history table).
type Change struct {
	Column      string `json:"column,omitempty"`
	Description string `json:"description"` // Spanish
	// Breaking changes (drop or narrow a column, tighten a constraint,
	// change the key) are refused unless a Super Administrador forces them.
	Breaking bool     `json:"breaking"`
	SQL      []string `json:"-"`
}

// widens reports whether a value of type from always fits type to.
func widens(from, to tableschema.SQLType) bool {
	if from == to {
		return true
	}
	rank := map[string]int{"smallint": 1, "integer": 2, "bigint": 3}
	switch {
	case from.IsText() && to.Base == "text":
		return from.Base != "char"
	case from.Base == "varchar" && to.Base == "varchar":
		return to.Length >= from.Length
	case from.IsInteger() && to.IsInteger():
		return rank[to.Base] >= rank[from.Base]
	case from.IsInteger() && to.Base == "numeric":
		digits := map[string]int{"smallint": 5, "integer": 10, "bigint": 19}[from.Base]
		return to.Precision == 0 || to.Precision-to.Scale >= digits
	case from.Base == "numeric" && to.Base == "numeric":
		if to.Precision == 0 {
			return true
		}
		return from.Precision > 0 && to.Scale >= from.Scale && to.Precision-to.Scale >= from.Precision-from.Scale
	case from.Base == "date" && to.Base == "timestamptz":
		return true
	}
	return false
}

// planChanges lists what turns the table of definition old into that of
// definition new. Each change carries its SQL; nothing is run here.
func planChanges(old, updated *tableschema.Resource) ([]Change, error) {
	table, err := tableName(old)
	if err != nil {
		return nil, err
	}
	newTable, err := tableName(updated)
	if err != nil {
		return nil, err
	}
	if newTable != table {
		return nil, errorf(KindInvalid, "no se puede cambiar el nombre de la tabla (%s → %s): registre un catálogo nuevo", table, newTable)
	}
	oldCols, err := dataColumns(old)
	if err != nil {
		return nil, err
	}
	newCols, err := dataColumns(updated)
	if err != nil {
		return nil, err
	}
	oldPK, err := primaryKey(old, oldCols)
	if err != nil {
		return nil, err
	}
	newPK, err := primaryKey(updated, newCols)
	if err != nil {
		return nil, err
	}
	live := pgdb.QuoteQualified(Schema, table)
	hist := pgdb.QuoteQualified(HistSchema, table)
	find := func(cols []column, name string) (column, bool) {
		i := slices.IndexFunc(cols, func(c column) bool { return c.Field.Name == name })
		if i < 0 {
			return column{}, false
		}
		return cols[i], true
	}
	var out []Change
	if d := firstNonEmpty(updated.Description, updated.Title); d != firstNonEmpty(old.Description, old.Title) {
		out = append(out, Change{Description: "cambia la descripción de la tabla",
			SQL: []string{fmt.Sprintf("COMMENT ON TABLE %s IS %s", live, pgdb.QuoteLiteral(d))}})
	}
	for _, oc := range oldCols {
		if _, ok := find(newCols, oc.Field.Name); !ok {
			out = append(out, Change{Column: oc.Field.Name, Breaking: true,
				Description: fmt.Sprintf("elimina la columna «%s» (la historia conserva sus valores)", oc.Field.Name),
				SQL:         []string{fmt.Sprintf("ALTER TABLE %s DROP COLUMN %s", live, pgdb.QuoteIdent(oc.Field.Name))}})
		}
	}
	for _, nc := range newCols {
		name := nc.Field.Name
		qn := pgdb.QuoteIdent(name)
		comment := fmt.Sprintf("COMMENT ON COLUMN %s.%s IS %s", live, qn, pgdb.QuoteLiteral(firstNonEmpty(nc.Field.Description, nc.Field.Title)))
		oc, ok := find(oldCols, name)
		if !ok {
			def, err := columnDef(table, nc, newPK)
			if err != nil {
				return nil, err
			}
			out = append(out, Change{Column: name, Description: fmt.Sprintf("agrega la columna «%s» (%s)", name, nc.Type),
				SQL: []string{
					fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s", live, def),
					fmt.Sprintf("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", hist, qn, nc.Type),
					comment,
				}})
			continue
		}
		if oc.Type != nc.Type {
			ch := Change{Column: name, Description: fmt.Sprintf("cambia el tipo de «%s» de %s a %s", name, oc.Type, nc.Type)}
			if widens(oc.Type, nc.Type) {
				ch.Description = fmt.Sprintf("amplía el tipo de «%s» de %s a %s", name, oc.Type, nc.Type)
			} else {
				ch.Breaking = true
			}
			using := fmt.Sprintf(" USING %s::%s", qn, nc.Type)
			ch.SQL = []string{
				fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s%s", live, qn, nc.Type, using),
				fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s TYPE %s%s", hist, qn, nc.Type, using),
			}
			out = append(out, ch)
		}
		if firstNonEmpty(oc.Field.Description, oc.Field.Title) != firstNonEmpty(nc.Field.Description, nc.Field.Title) {
			out = append(out, Change{Column: name, Description: fmt.Sprintf("cambia la descripción de «%s»", name), SQL: []string{comment}})
		}
		oldReq := oc.Field.Constraints.Required || slices.Contains(oldPK, name)
		newReq := nc.Field.Constraints.Required || slices.Contains(newPK, name)
		switch {
		case newReq && !oldReq:
			out = append(out, Change{Column: name, Breaking: true, Description: fmt.Sprintf("vuelve obligatoria la columna «%s»", name),
				SQL: []string{fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", live, qn)}})
		case oldReq && !newReq:
			out = append(out, Change{Column: name, Description: fmt.Sprintf("vuelve opcional la columna «%s»", name),
				SQL: []string{fmt.Sprintf("ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL", live, qn)}})
		}
		uname := pgdb.QuoteIdent(constraintName(table, name, "key"))
		oldU := oc.Field.Constraints.Unique && !(len(oldPK) == 1 && oldPK[0] == name)
		newU := nc.Field.Constraints.Unique && !(len(newPK) == 1 && newPK[0] == name)
		switch {
		case newU && !oldU:
			out = append(out, Change{Column: name, Breaking: true, Description: fmt.Sprintf("vuelve única la columna «%s»", name),
				SQL: []string{fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s UNIQUE (%s)", live, uname, qn)}})
		case oldU && !newU:
			out = append(out, Change{Column: name, Description: fmt.Sprintf("deja de exigir valores únicos en «%s»", name),
				SQL: []string{fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", live, uname)}})
		}
		oldCheck, err := columnCheck(oc)
		if err != nil {
			return nil, err
		}
		newCheck, err := columnCheck(nc)
		if err != nil {
			return nil, err
		}
		if oldCheck != newCheck {
			cname := pgdb.QuoteIdent(constraintName(table, name, "check"))
			ch := Change{Column: name, SQL: []string{fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", live, cname)}}
			if newCheck == "" {
				ch.Description = fmt.Sprintf("quita las restricciones de valor de «%s»", name)
			} else {
				ch.Breaking = true
				ch.Description = fmt.Sprintf("cambia las restricciones de valor de «%s» (enum, patrón, mínimo, máximo o longitud)", name)
				ch.SQL = append(ch.SQL, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s)", live, cname, newCheck))
			}
			out = append(out, ch)
		}
	}
	if !slices.Equal(oldPK, newPK) {
		pkey := pgdb.QuoteIdent(constraintName(table, "", "pkey"))
		out = append(out, Change{Breaking: true,
			Description: fmt.Sprintf("cambia la llave primaria de (%s) a (%s)", strings.Join(oldPK, ", "), strings.Join(newPK, ", ")),
			SQL: []string{
				fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", live, pkey),
				fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s PRIMARY KEY (%s)", live, pkey, quoteList(newPK)),
				fmt.Sprintf("CREATE INDEX ON %s (%s, %s)", hist, quoteList(newPK), pgdb.QuoteIdent(colHasta)),
			}})
	}
	fkKey := func(fk tableschema.ForeignKey) string {
		return strings.Join(fk.Fields, ",") + "→" + strings.TrimPrefix(fk.Reference.Resource, Schema+".") + "(" + strings.Join(fk.Reference.Fields, ",") + ")"
	}
	oldFK := map[string]tableschema.ForeignKey{}
	for _, fk := range old.Schema.ForeignKeys {
		oldFK[fkKey(fk)] = fk
	}
	newFK := map[string]bool{}
	for _, fk := range updated.Schema.ForeignKeys {
		k := fkKey(fk)
		newFK[k] = true
		if _, ok := oldFK[k]; ok {
			continue
		}
		ref := strings.TrimPrefix(fk.Reference.Resource, Schema+".")
		if ref == "" {
			ref = table
		}
		if err := checkIdent("la tabla referida", ref); err != nil {
			return nil, err
		}
		for _, f := range append(slices.Clone(fk.Fields), fk.Reference.Fields...) {
			if err := checkIdent("el campo de la llave foránea", f); err != nil {
				return nil, err
			}
		}
		out = append(out, Change{Breaking: true, Description: fmt.Sprintf("agrega la llave foránea %s", k),
			SQL: []string{fmt.Sprintf("ALTER TABLE %s ADD %s", live, fkDef(table, ref, fk))}})
	}
	for k, fk := range oldFK {
		if !newFK[k] {
			out = append(out, Change{Description: fmt.Sprintf("quita la llave foránea %s", k),
				SQL: []string{fmt.Sprintf("ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s", live,
					pgdb.QuoteIdent(constraintName(table, strings.Join(fk.Fields, "_"), "fkey")))}})
		}
	}
	return out, nil
}
