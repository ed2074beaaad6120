package catalog

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strings"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// The control columns of NOM-C07: the platform adds them to every table.
const (
	ColActivo            = "activo"
	ColFechaAlta         = "fecha_alta"
	ColFechaModificacion = "fecha_modificacion"
)

// IsControlColumn reports whether name is one of the platform's control
// columns.
func IsControlColumn(name string) bool {
	return name == ColActivo || name == ColFechaAlta || name == ColFechaModificacion
}

var controlDDL = []struct{ name, ddl, comment string }{
	{ColActivo, "boolean NOT NULL DEFAULT true", "Indica si el registro está vigente."},
	{ColFechaAlta, "timestamptz NOT NULL DEFAULT now()", "Fecha y hora en que se dio de alta el registro."},
	{ColFechaModificacion, "timestamptz", "Fecha y hora de la última modificación del registro."},
}

// identRe is what a table or column name must look like before it gets
// near SQL: ASCII lower-case, digits, underscores, starting with a letter
// (so that no definition column can collide with hist's _v_desde …). The
// nomenclature is stricter; this is the floor that keeps DDL safe even
// without it.
var identRe = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

const maxIdentBytes = 63

func checkIdent(what, name string) error {
	if !identRe.MatchString(name) || len(name) > maxIdentBytes {
		return errorf(KindInvalid, "%s «%s» no es un identificador válido: sólo letras minúsculas sin acentos, dígitos y guiones bajos, empezando con letra, hasta 63 bytes", what, name)
	}
	return nil
}

// tableName returns the unqualified table of a definition ("cat.x" → "x").
func tableName(res *tableschema.Resource) (string, error) {
	name := res.Name
	if schema, rest, ok := strings.Cut(name, "."); ok {
		if schema != Schema {
			return "", errorf(KindInvalid, "la tabla «%s» debe estar en el esquema %s", name, Schema)
		}
		name = rest
	}
	if err := checkIdent("el nombre de la tabla", name); err != nil {
		return "", err
	}
	if !strings.HasPrefix(name, "cat_") {
		return "", errorf(KindInvalid, "el nombre de la tabla «%s» debe empezar con cat_", name)
	}
	return name, nil
}

// allowedBases are the types a definition may put into DDL. The
// nomenclature allows fewer; this list only keeps DDL well-formed.
var allowedBases = map[string]bool{
	"text": true, "varchar": true, "char": true, "smallint": true, "integer": true, "bigint": true,
	"numeric": true, "real": true, "double precision": true, "boolean": true, "date": true,
	"timestamptz": true, "timestamp": true, "time": true, "timetz": true, "interval": true,
	"jsonb": true, "json": true, "uuid": true, "point": true, "money": true, "bytea": true,
}

// column is a data column of a catalog: a field with its SQL type.
type column struct {
	Field tableschema.Field
	Type  tableschema.SQLType
}

// dataColumns are the definition's columns without the control columns,
// checked for names and types.
func dataColumns(res *tableschema.Resource) ([]column, error) {
	var cols []column
	seen := map[string]bool{}
	for i, f := range res.Schema.Fields {
		if err := checkIdent(fmt.Sprintf("el campo %d", i+1), f.Name); err != nil {
			return nil, err
		}
		if seen[f.Name] {
			return nil, errorf(KindInvalid, "el campo «%s» está repetido", f.Name)
		}
		seen[f.Name] = true
		if IsControlColumn(f.Name) {
			continue
		}
		t, err := f.SQLType()
		if err != nil {
			return nil, &Error{Kind: KindInvalid, Message: fmt.Sprintf("el campo «%s» tiene un tipo inválido: %v", f.Name, err), Err: err}
		}
		if !allowedBases[t.Base] {
			return nil, errorf(KindInvalid, "el campo «%s» tiene el tipo «%s», que no se admite en un catálogo", f.Name, t)
		}
		cols = append(cols, column{Field: f, Type: t})
	}
	if len(cols) == 0 {
		return nil, errorf(KindInvalid, "la definición no tiene campos")
	}
	return cols, nil
}

// primaryKey returns the definition's key columns, checked.
func primaryKey(res *tableschema.Resource, cols []column) ([]string, error) {
	pk := []string(res.Schema.PrimaryKey)
	if len(pk) == 0 {
		return nil, errorf(KindInvalid, "la definición no tiene llave primaria (primaryKey)")
	}
	for _, k := range pk {
		if !slices.ContainsFunc(cols, func(c column) bool { return c.Field.Name == k }) {
			return nil, errorf(KindInvalid, "la llave primaria nombra el campo «%s», que no está en la definición", k)
		}
	}
	return pk, nil
}

// ddl is the SQL that creates a catalog's table, its history table and
// their comments.
type ddl struct {
	Table      string
	Statements []string
	// Patterns are the regular expressions to try on PostgreSQL before
	// creating the table (an invalid one would only fail at the first
	// insert).
	Patterns map[string]string
	// References are the catalogs the foreign keys point to.
	References []string
}

func literal(v any) string {
	switch x := v.(type) {
	case json.Number:
		return pgdb.QuoteLiteral(x.String())
	case string:
		return pgdb.QuoteLiteral(x)
	case bool:
		if x {
			return "'true'"
		}
		return "'false'"
	}
	return pgdb.QuoteLiteral(fmt.Sprint(v))
}

// anchored turns a Table Schema pattern (implicitly anchored) into a
// PostgreSQL regular expression.
func anchored(pattern string) string { return "^(?:" + pattern + ")$" }

// buildDDL writes the DDL of a definition. Every identifier is checked and
// quoted; every value is a quoted literal.
func buildDDL(res *tableschema.Resource) (*ddl, error) {
	table, err := tableName(res)
	if err != nil {
		return nil, err
	}
	cols, err := dataColumns(res)
	if err != nil {
		return nil, err
	}
	pk, err := primaryKey(res, cols)
	if err != nil {
		return nil, err
	}
	q := pgdb.QuoteQualified(Schema, table)
	out := &ddl{Table: table, Patterns: map[string]string{}}
	var lines []string
	for _, c := range cols {
		line, err := columnDef(table, c, pk)
		if err != nil {
			return nil, err
		}
		if p := c.Field.Constraints.Pattern; p != "" {
			out.Patterns[c.Field.Name] = anchored(p)
		}
		lines = append(lines, line)
	}
	for _, cc := range controlDDL {
		lines = append(lines, pgdb.QuoteIdent(cc.name)+" "+cc.ddl)
	}
	lines = append(lines, "CONSTRAINT "+pgdb.QuoteIdent(constraintName(table, "", "pkey"))+" PRIMARY KEY ("+quoteList(pk)+")")
	var fkIndexes []string
	for i, fk := range res.Schema.ForeignKeys {
		ref := fk.Reference.Resource
		if s, rest, ok := strings.Cut(ref, "."); ok {
			if s != Schema {
				return nil, errorf(KindInvalid, "la llave foránea %d apunta a «%s», fuera del esquema %s", i+1, ref, Schema)
			}
			ref = rest
		}
		if ref == "" {
			ref = table
		}
		if err := checkIdent("la tabla referida", ref); err != nil {
			return nil, err
		}
		if len(fk.Fields) == 0 || len(fk.Fields) != len(fk.Reference.Fields) {
			return nil, errorf(KindInvalid, "la llave foránea %d debe nombrar el mismo número de campos en ambos lados", i+1)
		}
		for _, f := range fk.Fields {
			if !slices.ContainsFunc(cols, func(c column) bool { return c.Field.Name == f }) {
				return nil, errorf(KindInvalid, "la llave foránea %d nombra el campo «%s», que no está en la definición", i+1, f)
			}
		}
		for _, f := range fk.Reference.Fields {
			if err := checkIdent("el campo referido", f); err != nil {
				return nil, err
			}
		}
		lines = append(lines, fkDef(table, ref, fk))
		if ref != table && !slices.Contains(out.References, ref) {
			out.References = append(out.References, ref)
		}
		fkIndexes = append(fkIndexes, fmt.Sprintf("CREATE INDEX ON %s (%s)", q, quoteList(fk.Fields)))
	}
	out.Statements = append(out.Statements, "CREATE TABLE "+q+" (\n    "+strings.Join(lines, ",\n    ")+"\n)")
	out.Statements = append(out.Statements, fkIndexes...)
	desc := res.Description
	if desc == "" {
		desc = res.Title
	}
	out.Statements = append(out.Statements, fmt.Sprintf("COMMENT ON TABLE %s IS %s", q, pgdb.QuoteLiteral(desc)))
	for _, c := range cols {
		d := c.Field.Description
		if d == "" {
			d = c.Field.Title
		}
		out.Statements = append(out.Statements, fmt.Sprintf("COMMENT ON COLUMN %s.%s IS %s", q, pgdb.QuoteIdent(c.Field.Name), pgdb.QuoteLiteral(d)))
	}
	for _, cc := range controlDDL {
		out.Statements = append(out.Statements, fmt.Sprintf("COMMENT ON COLUMN %s.%s IS %s", q, pgdb.QuoteIdent(cc.name), pgdb.QuoteLiteral(cc.comment)))
	}
	out.Statements = append(out.Statements, histDDL(table, cols, pk)...)
	return out, nil
}

// The history table's own columns; a leading underscore cannot collide
// with a definition's column (identRe).
const (
	colDesde   = "_v_desde"
	colHasta   = "_v_hasta"
	colAusente = "_ausente"
)

func histDDL(table string, cols []column, pk []string) []string {
	h := pgdb.QuoteQualified(HistSchema, table)
	var lines []string
	for _, c := range cols {
		lines = append(lines, pgdb.QuoteIdent(c.Field.Name)+" "+c.Type.String())
	}
	lines = append(lines,
		pgdb.QuoteIdent(colDesde)+" integer NOT NULL",
		pgdb.QuoteIdent(colHasta)+" integer NOT NULL",
		pgdb.QuoteIdent(colAusente)+" boolean NOT NULL DEFAULT false")
	return []string{
		"CREATE TABLE " + h + " (\n    " + strings.Join(lines, ",\n    ") + "\n)",
		fmt.Sprintf("CREATE INDEX ON %s (%s, %s)", h, quoteList(pk), pgdb.QuoteIdent(colHasta)),
		fmt.Sprintf("CREATE INDEX ON %s (%s)", h, pgdb.QuoteIdent(colHasta)),
		fmt.Sprintf("COMMENT ON TABLE %s IS %s", h, pgdb.QuoteLiteral(
			"Historia de "+Schema+"."+table+": cada valor anterior de cada registro, válido de la versión _v_desde a la _v_hasta (sin incluirla); _ausente marca los periodos en que la llave no existía.")),
	}
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = pgdb.QuoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// DefaultClave is the clave of a table: without cat_, underscores as
// hyphens (cat_tipo_vialidad → tipo-vialidad).
func DefaultClave(table string) string {
	return strings.ReplaceAll(strings.TrimPrefix(table, "cat_"), "_", "-")
}

var claveRe = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// columnDef is a column's definition in CREATE TABLE or ADD COLUMN: type,
// NOT NULL, and its UNIQUE and CHECK constraints under names of our own,
// so that a later change of the definition can find them.
func columnDef(table string, c column, pk []string) (string, error) {
	f := c.Field
	line := pgdb.QuoteIdent(f.Name) + " " + c.Type.String()
	if f.Constraints.Required || slices.Contains(pk, f.Name) {
		line += " NOT NULL"
	}
	if f.Constraints.Unique && !(len(pk) == 1 && pk[0] == f.Name) {
		line += " CONSTRAINT " + pgdb.QuoteIdent(constraintName(table, f.Name, "key")) + " UNIQUE"
	}
	check, err := columnCheck(c)
	if err != nil {
		return "", err
	}
	if check != "" {
		line += " CONSTRAINT " + pgdb.QuoteIdent(constraintName(table, f.Name, "check")) + " CHECK (" + check + ")"
	}
	return line, nil
}

// columnCheck is the CHECK expression of a field's constraints ("" when
// none): enum, pattern, minimum, maximum, minLength, and maxLength where
// the type does not already bound it.
func columnCheck(c column) (string, error) {
	f := c.Field
	qc := pgdb.QuoteIdent(f.Name)
	var checks []string
	if len(f.Constraints.Enum) > 0 {
		vals := make([]string, len(f.Constraints.Enum))
		for i, v := range f.Constraints.Enum {
			vals[i] = literal(v)
		}
		checks = append(checks, fmt.Sprintf("%s IN (%s)", qc, strings.Join(vals, ", ")))
	}
	if p := f.Constraints.Pattern; p != "" {
		if !c.Type.IsText() {
			return "", errorf(KindInvalid, "el campo «%s» tiene un patrón (pattern) pero no es de texto", f.Name)
		}
		checks = append(checks, fmt.Sprintf("%s ~ %s", qc, pgdb.QuoteLiteral(anchored(p))))
	}
	if v := f.Constraints.Minimum; v != nil {
		checks = append(checks, fmt.Sprintf("%s >= %s", qc, literal(v)))
	}
	if v := f.Constraints.Maximum; v != nil {
		checks = append(checks, fmt.Sprintf("%s <= %s", qc, literal(v)))
	}
	if n := f.Constraints.MinLength; n != nil && *n > 0 {
		checks = append(checks, fmt.Sprintf("char_length(%s) >= %d", qc, *n))
	}
	if n := f.Constraints.MaxLength; n != nil && c.Type.IsText() && (c.Type.Length == 0 || *n < c.Type.Length) {
		checks = append(checks, fmt.Sprintf("char_length(%s) <= %d", qc, *n))
	}
	return strings.Join(checks, " AND "), nil
}

func fkDef(table, ref string, fk tableschema.ForeignKey) string {
	return fmt.Sprintf("CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (%s)",
		pgdb.QuoteIdent(constraintName(table, strings.Join(fk.Fields, "_"), "fkey")),
		quoteList(fk.Fields), pgdb.QuoteQualified(Schema, ref), quoteList(fk.Reference.Fields))
}

// constraintName is table_column_suffix, shortened with a hash when it
// would pass PostgreSQL's 63 bytes.
func constraintName(table, column, suffix string) string {
	name := table
	if column != "" {
		name += "_" + column
	}
	name += "_" + suffix
	if len(name) <= maxIdentBytes {
		return name
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return fmt.Sprintf("%s_%08x_%s", name[:maxIdentBytes-len(suffix)-10], h.Sum32(), suffix)
}
