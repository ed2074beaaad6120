package catalog

import (
	"fmt"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// Nomenclature is the Linter of the DAID naming rules: a definition or a
// table with an error finding is refused, each finding written as a Spanish
// line.
func Nomenclature(rules *nomenclature.Rules) Linter { return nomenclatureLinter{rules} }

type nomenclatureLinter struct{ rules *nomenclature.Rules }

func (l nomenclatureLinter) CheckDefinition(res *tableschema.Resource) (bool, []string) {
	return reportLines(l.rules.CheckResource(res))
}

func (l nomenclatureLinter) CheckTable(t nomenclature.Table) (bool, []string) {
	return reportLines(l.rules.CheckTable(t))
}

func reportLines(rep nomenclature.Report) (bool, []string) {
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
