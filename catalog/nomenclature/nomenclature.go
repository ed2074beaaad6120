package nomenclature

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// Severity says whether a finding blocks publication.
type Severity string

// The two severities: an error blocks publication, a warning (aviso) does not.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Label is the severity in Spanish, for people: "error" or "aviso".
func (s Severity) Label() string {
	if s == SeverityWarning {
		return "aviso"
	}
	return string(s)
}

// Finding is one broken rule on one object.
type Finding struct {
	Rule       string   `json:"rule"`
	Severity   Severity `json:"severity"`
	Object     string   `json:"object"`
	Message    string   `json:"message"`
	Suggestion string   `json:"suggestion,omitempty"`
}

// Report is the outcome of a check; Valid means no finding is an error.
type Report struct {
	Valid    bool      `json:"valid"`
	Findings []Finding `json:"findings"`
}

// Errors counts the findings that are errors.
func (r Report) Errors() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			n++
		}
	}
	return n
}

// Table is the neutral description of a live table, as read from
// PostgreSQL's catalogs (see the introspect sub-package).
type Table struct {
	Schema      string       `json:"schema"`
	Name        string       `json:"name"`
	Comment     string       `json:"comment,omitempty"`
	Columns     []Column     `json:"columns"`
	PrimaryKey  []string     `json:"primary_key,omitempty"`
	ForeignKeys []ForeignKey `json:"foreign_keys,omitempty"`
	Unique      [][]string   `json:"unique,omitempty"`
	Checks      []Check      `json:"checks,omitempty"`
}

// Column is one column of a live table.
type Column struct {
	Name string `json:"name"`
	// Type as PostgreSQL writes it (format_type): "character varying(5)".
	Type    string  `json:"type"`
	NotNull bool    `json:"not_null"`
	Default *string `json:"default,omitempty"`
	Comment string  `json:"comment,omitempty"`
}

// ForeignKey is a foreign key of a live table. RefTypes, when known, are the
// types of the referenced columns.
type ForeignKey struct {
	Name       string   `json:"name,omitempty"`
	Columns    []string `json:"columns"`
	RefSchema  string   `json:"ref_schema,omitempty"`
	RefTable   string   `json:"ref_table"`
	RefColumns []string `json:"ref_columns,omitempty"`
	RefTypes   []string `json:"ref_types,omitempty"`
}

// Check is a CHECK constraint and the columns it reads.
type Check struct {
	Name       string   `json:"name,omitempty"`
	Columns    []string `json:"columns"`
	Expression string   `json:"expression"`
}

// subject is what the rules read: a definition or a live table, brought to
// one shape so both give the same findings.
type subject struct {
	schema, name, comment string
	live                  bool
	cols                  []col
	pk                    []string
	fks                   []fk
}

type col struct {
	name, rawType string
	typ           tableschema.SQLType
	typeErr       error
	comment       string
	notNull       bool
	def           *string
	hasPattern    bool
}

type fk struct {
	cols              []string
	refSchema, refTab string
	refCols           []string
	refTypes          []tableschema.SQLType // nil: unknown
}

// CheckResource checks a catalog definition. Control columns may be left
// out of a definition: the platform adds them.
func (r *Rules) CheckResource(res *tableschema.Resource) Report {
	s := subject{schema: r.Schema, name: res.Name, comment: res.Description}
	if i := strings.IndexByte(res.Name, '.'); i >= 0 {
		s.schema, s.name = res.Name[:i], res.Name[i+1:]
	}
	for _, f := range res.Schema.Fields {
		c := col{name: f.Name, rawType: f.Type, comment: f.Description, notNull: f.Constraints.Required,
			hasPattern: f.Constraints.Pattern != ""}
		if c.rawType == "" {
			c.rawType = tableschema.TypeString
		}
		c.typ, c.typeErr = f.SQLType()
		s.cols = append(s.cols, c)
	}
	s.pk = res.Schema.PrimaryKey
	for _, k := range res.Schema.ForeignKeys {
		x := fk{cols: k.Fields, refCols: k.Reference.Fields, refSchema: r.Schema, refTab: k.Reference.Resource}
		if i := strings.IndexByte(x.refTab, '.'); i >= 0 {
			x.refSchema, x.refTab = x.refTab[:i], x.refTab[i+1:]
		}
		if x.refTab == "" { // the same table: the referenced types are known
			x.refSchema, x.refTab = s.schema, s.name
			for _, rc := range x.refCols {
				if f, ok := res.Schema.Field(rc); ok {
					if t, err := f.SQLType(); err == nil {
						x.refTypes = append(x.refTypes, t)
						continue
					}
				}
				x.refTypes = nil
				break
			}
		}
		s.fks = append(s.fks, x)
	}
	return r.check(&s)
}

// CheckTable checks a live table.
func (r *Rules) CheckTable(t Table) Report {
	s := subject{schema: t.Schema, name: t.Name, comment: t.Comment, live: true, pk: t.PrimaryKey}
	patterned := map[string]bool{}
	for _, ch := range t.Checks {
		if isPatternCheck(ch.Expression) {
			for _, c := range ch.Columns {
				patterned[c] = true
			}
		}
	}
	for _, c := range t.Columns {
		x := col{name: c.Name, rawType: c.Type, comment: c.Comment, notNull: c.NotNull, def: c.Default,
			hasPattern: patterned[c.Name]}
		x.typ, x.typeErr = tableschema.ParseSQLType(c.Type)
		s.cols = append(s.cols, x)
	}
	for _, k := range t.ForeignKeys {
		x := fk{cols: k.Columns, refSchema: k.RefSchema, refTab: k.RefTable, refCols: k.RefColumns}
		if len(k.RefTypes) > 0 {
			for _, rt := range k.RefTypes {
				pt, err := tableschema.ParseSQLType(rt)
				if err != nil {
					x.refTypes = nil
					break
				}
				x.refTypes = append(x.refTypes, pt)
			}
		}
		s.fks = append(s.fks, x)
	}
	return r.check(&s)
}

// isPatternCheck reports whether a CHECK expression constrains a column by
// a regular expression (what a Table Schema pattern becomes).
func isPatternCheck(expr string) bool {
	e := strings.ToLower(expr)
	return strings.Contains(e, "~") || strings.Contains(e, "similar to")
}

// findings collects findings, at most one per (object, rule): several
// problems of one rule on one object are one finding with their messages
// joined.
type findings struct {
	list  []Finding
	index map[[2]string]int
}

func (fs *findings) add(rule string, sev Severity, object, msg, suggestion string) {
	if fs.index == nil {
		fs.index = map[[2]string]int{}
	}
	key := [2]string{object, rule}
	if i, ok := fs.index[key]; ok {
		f := &fs.list[i]
		if !strings.Contains(f.Message, msg) {
			f.Message += "; " + msg
		}
		if f.Suggestion == "" {
			f.Suggestion = suggestion
		}
		return
	}
	fs.index[key] = len(fs.list)
	fs.list = append(fs.list, Finding{Rule: rule, Severity: sev, Object: object, Message: msg, Suggestion: suggestion})
}

func (fs *findings) report() Report {
	out := fs.list
	if out == nil {
		out = []Finding{}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Object != out[j].Object {
			return out[i].Object < out[j].Object
		}
		return out[i].Rule < out[j].Rule
	})
	rep := Report{Valid: true, Findings: out}
	for _, f := range out {
		if f.Severity == SeverityError {
			rep.Valid = false
		}
	}
	return rep
}

func (r *Rules) check(s *subject) Report {
	var fs findings
	tableObj := s.schema + "." + s.name
	r.checkTable(s, tableObj, &fs)
	r.checkColumns(s, tableObj, &fs)
	return fs.report()
}

// quoteList writes names as «a», «b».
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "«" + n + "»"
	}
	return strings.Join(q, ", ")
}

func describeType(c col) string {
	canon := c.typ.String()
	if strings.EqualFold(strings.TrimSpace(c.rawType), canon) {
		return canon
	}
	return fmt.Sprintf("%s (%s)", c.rawType, canon)
}
