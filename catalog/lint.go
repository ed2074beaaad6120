package catalog

import (
	"fmt"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// Nomenclature is the Linter of the DAID naming rules: a definition with an
// error finding is refused, each finding written as a Spanish line.
func Nomenclature(rules *nomenclature.Rules) Linter {
	return func(res *tableschema.Resource) (bool, []string) {
		rep := rules.CheckResource(res)
		var lines []string
		for _, f := range rep.Findings {
			if f.Severity != nomenclature.SeverityError {
				continue
			}
			line := fmt.Sprintf("%s %s: %s", f.Rule, f.Object, f.Message)
			if f.Suggestion != "" {
				line += fmt.Sprintf(" (sugerencia: %s)", f.Suggestion)
			}
			lines = append(lines, line)
		}
		return rep.Valid, lines
	}
}
