package nomenclature_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

var shape = regexp.MustCompile(`^([a-z0-9]+(_[a-z0-9]+)*)?$`)

var seeds = []string{
	"Tipo de Vialidad", "cat_año", "AÑO", "fechaAlta", "IDMunicipio", "cat_municipiо", "ｃａｔ",
	`x"; DROP TABLE y; --`, "a\x00b", "\xff\xfe", "__", "cat__x_", "Ǆemal", "ﬁn", "İstanbul", "ǅ", "ß",
	strings.Repeat("ñ", 40), "1abc", "/* comentario */", "ǈ", "𝐀𝐁𝐂",
}

// Transliterate always gives the nomenclature's shape, and applying it
// again changes nothing.
func FuzzTransliterate(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := nomenclature.Transliterate(s)
		if !shape.MatchString(out) {
			t.Fatalf("Transliterate(%q) = %q: not lower-case ASCII words joined by single underscores", s, out)
		}
		if again := nomenclature.Transliterate(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", s, out, again)
		}
	})
}

// Any table or column name gives a report without panicking; a suggestion,
// when given, is a name that passes the name rules it was given for; a
// name that passes them gives no name finding.
func FuzzNames(f *testing.F) {
	for _, s := range seeds {
		f.Add(s, s)
	}
	f.Add("cat_municipio", "nombre")
	rules, err := nomenclature.DefaultRules()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, table, column string) {
		tb := nomenclature.Table{Schema: "cat", Name: table, Comment: "Una tabla para probar nombres.",
			Columns: []nomenclature.Column{{Name: column, Type: "integer", Comment: "Una columna."}}}
		rep := rules.CheckTable(tb)
		for _, fd := range rep.Findings {
			if !utf8.ValidString(fd.Message) && utf8.ValidString(table) && utf8.ValidString(column) {
				t.Fatalf("message is not UTF-8: %q", fd.Message)
			}
			switch fd.Rule {
			case "NOM-T02", "NOM-T03", "NOM-T04", "NOM-T05":
				if fd.Suggestion != "" {
					check := rules.CheckTable(nomenclature.Table{Schema: "cat", Name: fd.Suggestion})
					for _, g := range check.Findings {
						if g.Object == "cat."+fd.Suggestion && strings.HasPrefix(g.Rule, "NOM-T0") && g.Rule != "NOM-T06" && g.Rule != "NOM-T07" {
							t.Fatalf("suggestion %q for table %q fails %s: %s", fd.Suggestion, table, g.Rule, g.Message)
						}
					}
				}
			case "NOM-C01", "NOM-C08":
				if fd.Suggestion != "" && !regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`).MatchString(fd.Suggestion) {
					t.Fatalf("suggestion %q for column %q is not a valid name", fd.Suggestion, column)
				}
			}
		}
		if regexp.MustCompile(`^cat_[a-z][a-z0-9]*(_[a-z0-9]+)*$`).MatchString(table) && len(table) <= 63 && !rules.IsReserved(strings.TrimPrefix(table, "cat_")) {
			for _, fd := range rep.Findings {
				if fd.Object == "cat."+table && (fd.Rule == "NOM-T02" || fd.Rule == "NOM-T04" || fd.Rule == "NOM-T05") {
					t.Fatalf("valid name %q got %s", table, fd.Rule)
				}
			}
		}
	})
}

// Any definition that parses gives a report without panicking, sorted, with
// Valid true exactly when no finding is an error.
func FuzzCheckResource(f *testing.F) {
	files, _ := filepath.Glob("../../testdata/nomenclature/definitions/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil && !strings.HasSuffix(p, ".findings.json") {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"name":"cat.cat_x","schema":{"fields":[{"name":"id_x","type":"varchar(0)"}],"primaryKey":["id_x","id_x"],
		"foreignKeys":[{"fields":[],"reference":{"resource":"","fields":[]}}]}}`))
	rules, err := nomenclature.DefaultRules()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := tableschema.Parse(bytes.NewReader(b))
		if err != nil {
			return
		}
		rep := rules.CheckResource(&res)
		errs := 0
		for i, fd := range rep.Findings {
			if fd.Rule == "" || fd.Message == "" || fd.Object == "" {
				t.Fatalf("incomplete finding %+v", fd)
			}
			if fd.Severity == nomenclature.SeverityError {
				errs++
			}
			if i > 0 {
				p := rep.Findings[i-1]
				if p.Object > fd.Object || (p.Object == fd.Object && p.Rule >= fd.Rule) {
					t.Fatalf("not sorted or repeated: %+v then %+v", p, fd)
				}
			}
		}
		if rep.Valid != (errs == 0) {
			t.Fatalf("valid=%v with %d errors", rep.Valid, errs)
		}
	})
}
