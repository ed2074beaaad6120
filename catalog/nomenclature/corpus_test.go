package nomenclature_test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

var update = flag.Bool("update", false, "rewrite the expected findings of testdata/nomenclature")

// expected is a finding as the corpus keeps it: without the message, whose
// wording may improve without changing what the rules decide.
type expected struct {
	Rule       string                `json:"rule"`
	Severity   nomenclature.Severity `json:"severity"`
	Object     string                `json:"object"`
	Suggestion string                `json:"suggestion,omitempty"`
}

// CompareCorpus checks a report against a .findings.json file, rule id by
// rule id (or rewrites it with -update).
func compareCorpus(t *testing.T, path string, rep nomenclature.Report) {
	t.Helper()
	got := []expected{}
	for _, f := range rep.Findings {
		require.NotEmpty(t, f.Message, "%s: %s on %s has no message", path, f.Rule, f.Object)
		got = append(got, expected{f.Rule, f.Severity, f.Object, f.Suggestion})
	}
	if *update {
		b, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
		return
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err, "run go test -update to write it, then review it")
	var want []expected
	require.NoError(t, json.Unmarshal(b, &want))
	if want == nil {
		want = []expected{}
	}
	require.Equal(t, want, got, path)
}

// The corpus of definitions: each file breaks one rule (its name says
// which) or none, and gives exactly the findings kept next to it.
func TestCorpusDefinitions(t *testing.T) {
	t.Parallel()
	r := rules(t)
	files, err := filepath.Glob("../../testdata/nomenclature/definitions/*.json")
	require.NoError(t, err)
	var defs []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".findings.json") {
			defs = append(defs, f)
		}
	}
	require.GreaterOrEqual(t, len(defs), 18)
	seen := map[string]bool{}
	for _, path := range defs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			res, err := tableschema.Parse(strings.NewReader(string(b)))
			require.NoError(t, err)
			rep := r.CheckResource(&res)
			compareCorpus(t, strings.TrimSuffix(path, ".json")+".findings.json", rep)
			base := filepath.Base(path)
			if strings.HasPrefix(base, "nom-") {
				rule := strings.ToUpper(base[:7])
				found := false
				for _, f := range rep.Findings {
					found = found || f.Rule == rule
				}
				require.True(t, found, "%s must break %s", base, rule)
				seen[rule] = true
			} else {
				require.True(t, rep.Valid, "%s is clean: %+v", base, rep.Findings)
			}
		})
	}
	for _, ri := range r.Catalog() {
		require.True(t, seen[ri.ID], "the corpus has no definition breaking %s", ri.ID)
	}
}
