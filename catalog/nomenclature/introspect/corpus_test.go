package introspect_test

import (
	"bufio"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature/introspect"
)

var update = flag.Bool("update", false, "rewrite the expected findings of testdata/nomenclature/tables")

type expected struct {
	Rule       string                `json:"rule"`
	Severity   nomenclature.Severity `json:"severity"`
	Object     string                `json:"object"`
	Suggestion string                `json:"suggestion,omitempty"`
}

// The corpus of live tables: each .sql file creates tables in a fresh
// database; the table named on its first line ("-- table: cat.NAME") gives
// exactly the findings kept next to it.
func TestCorpusTables(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../../testdata/nomenclature/tables/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			sql, err := os.ReadFile(path)
			require.NoError(t, err)
			first, _, _ := strings.Cut(string(sql), "\n")
			qualified, ok := strings.CutPrefix(first, "-- table: ")
			require.True(t, ok, "%s: the first line names the table: -- table: cat.NAME", path)
			schema, table, _ := strings.Cut(strings.TrimSpace(qualified), ".")
			b.exec(t, string(sql))
			tb, err := introspect.Read(b.ctx, b.db, schema, table)
			require.NoError(t, err)
			rep := b.rules.CheckTable(tb)
			got := []expected{}
			for _, f := range rep.Findings {
				require.NotEmpty(t, f.Message)
				got = append(got, expected{f.Rule, f.Severity, f.Object, f.Suggestion})
			}
			want := strings.TrimSuffix(path, ".sql") + ".findings.json"
			if *update {
				out, err := json.MarshalIndent(got, "", "  ")
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(want, append(out, '\n'), 0o644))
				return
			}
			f, err := os.Open(want)
			require.NoError(t, err, "run go test -update to write it, then review it")
			defer f.Close()
			var exp []expected
			require.NoError(t, json.NewDecoder(bufio.NewReader(f)).Decode(&exp))
			if exp == nil {
				exp = []expected{}
			}
			require.Equal(t, exp, got)
		})
	}
}
