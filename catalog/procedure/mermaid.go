package procedure

import (
	"fmt"
	"strings"
)

// Mermaid renders the definition as a Mermaid flowchart: states as boxes
// (finals rounded), the manual's decisions as diamonds, actions as labelled
// arrows. current, when not empty, is highlighted.
func (d *Definition) Mermaid(current string) string {
	var b strings.Builder
	b.WriteString("flowchart TD\n")
	for _, s := range d.States {
		label := s.Label
		if len(s.Activities) > 0 {
			nums := make([]string, len(s.Activities))
			for i, n := range s.Activities {
				nums[i] = fmt.Sprint(n)
			}
			label = "(" + strings.Join(nums, ", ") + ") " + label
		}
		if s.Final {
			fmt.Fprintf(&b, "  %s([\"%s\"])\n", s.ID, mermaidText(label))
		} else {
			fmt.Fprintf(&b, "  %s[\"%s\"]\n", s.ID, mermaidText(label))
		}
	}
	fmt.Fprintf(&b, "  inicio((\"Inicio\")) --> %s\n", d.Initial)
	decisions := map[string]string{} // state+question → node id
	for _, t := range d.Transitions {
		for _, from := range t.From {
			label := t.Label
			if t.Decision == "" {
				fmt.Fprintf(&b, "  %s -- \"%s\" --> %s\n", from, mermaidText(label), t.To)
				continue
			}
			key := from + "\x00" + t.Decision
			node, ok := decisions[key]
			if !ok {
				node = fmt.Sprintf("d%d_%s", len(decisions)+1, from)
				decisions[key] = node
				fmt.Fprintf(&b, "  %s{\"%s\"}\n", node, mermaidText(t.Decision))
				fmt.Fprintf(&b, "  %s --> %s\n", from, node)
			}
			answer := t.Answer
			if answer == "" {
				answer = label
			}
			fmt.Fprintf(&b, "  %s -- \"%s\" --> %s\n", node, mermaidText(answer), t.To)
		}
	}
	b.WriteString("  classDef final fill:#e8f3ea,stroke:#2e7d32\n")
	b.WriteString("  classDef current fill:#fff3c4,stroke:#b26a00,stroke-width:3px\n")
	for _, s := range d.States {
		if s.Final && s.ID != current {
			fmt.Fprintf(&b, "  class %s final\n", s.ID)
		}
	}
	if _, ok := d.State(current); ok {
		fmt.Fprintf(&b, "  class %s current\n", current)
	}
	return b.String()
}

// mermaidText escapes a label for a quoted Mermaid string.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;", "\n", " ", "<", "#lt;", ">", "#gt;").Replace(s)
}
