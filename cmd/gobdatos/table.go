package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// table prints the CLI's listings: a header and rows of cells in columns
// aligned with spaces, two between columns.
type table struct{ w *tabwriter.Writer }

// newTable starts a table on out with its header (none: no header line).
func newTable(out io.Writer, header ...string) *table {
	t := &table{w: tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		fmt.Fprintln(t.w, strings.Join(header, "\t"))
	}
	return t
}

// row adds a row; each cell prints as fmt.Sprint does.
func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			io.WriteString(t.w, "\t")
		}
		fmt.Fprint(t.w, c)
	}
	io.WriteString(t.w, "\n")
}

// flush writes the aligned table.
func (t *table) flush() error { return t.w.Flush() }
