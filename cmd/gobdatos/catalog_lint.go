package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature/introspect"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// rulesFlag is the nomenclature rules file shared by the catalog commands.
type rulesFlag struct {
	Rules string `name:"rules" env:"GOBDATOS_NOMENCLATURE_RULES" type:"path" help:"Nomenclature rules file (YAML, the shape of schemas/nomenclature.yaml); default: the rules built in."`
}

func (f rulesFlag) load() (*nomenclature.Rules, error) {
	r, err := nomenclature.LoadRules(f.Rules)
	if err != nil {
		return nil, exitError{code: 2, msg: err.Error()}
	}
	return r, nil
}

type catalogLintCmd struct {
	rulesFlag
	File   string `arg:"" optional:"" help:"Catalog definition: a Frictionless Tabular Data Resource in JSON; - reads standard input."`
	Table  string `name:"table" help:"A live table instead of a file: cat.NAME (or NAME, in the rules' schema), read from DATABASE_URL."`
	All    bool   `name:"all" help:"Every table of the rules' schema (cat) in DATABASE_URL."`
	Format string `name:"format" default:"text" enum:"text,json" help:"Output: text (one finding per line) or json (the API's report)."`
}

func (c *catalogLintCmd) Help() string {
	return `Prints each finding with its rule id, severity (error or aviso), object, Spanish message
and suggested name. Exit status: 0 without errors (avisos allowed), 1 when any finding is an
error, 2 when the definition or table cannot be read.

  gobdatos catalog lint testdata/catalogs/cat_municipio.json
  gobdatos catalog lint --table cat.cat_municipio --format json
  gobdatos catalog lint --all`
}

func (c *catalogLintCmd) Validate() error {
	n := 0
	for _, set := range []bool{c.File != "", c.Table != "", c.All} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("indique exactamente una cosa que revisar: un ARCHIVO (o - para la entrada estándar), --table cat.NOMBRE o --all")
	}
	return nil
}

func (c *catalogLintCmd) Run(ctx context.Context, g *Globals) error {
	rules, err := c.load()
	if err != nil {
		return err
	}
	var rep nomenclature.Report
	switch {
	case c.File != "":
		res, err := readDefinition(c.File)
		if err != nil {
			return exitError{code: 2, msg: err.Error()}
		}
		rep = rules.CheckResource(&res)
	default:
		pool, err := g.openDB(ctx, "gobdatos-catalog-lint")
		if err != nil {
			return exitError{code: 2, msg: err.Error()}
		}
		defer pool.Close()
		var tables []nomenclature.Table
		if c.All {
			names, err := introspect.Names(ctx, pool, rules.Schema)
			if err != nil {
				return err
			}
			progress := isatty.IsTerminal(os.Stderr.Fd())
			for i, n := range names {
				if progress {
					fmt.Fprintf(os.Stderr, "\rRevisando tablas de %s: %d/%d", rules.Schema, i+1, len(names))
				}
				t, err := introspect.Read(ctx, pool, rules.Schema, n)
				if err != nil {
					return err
				}
				tables = append(tables, t)
			}
			if progress && len(names) > 0 {
				fmt.Fprintln(os.Stderr)
			}
		} else {
			schema, name := rules.Schema, c.Table
			if i := strings.IndexByte(c.Table, '.'); i >= 0 {
				schema, name = c.Table[:i], c.Table[i+1:]
			}
			t, err := introspect.Read(ctx, pool, schema, name)
			if errors.Is(err, introspect.ErrNotFound) {
				return exitError{code: 2, msg: fmt.Sprintf("no existe la tabla %s.%s en la base de datos", schema, name)}
			}
			if err != nil {
				return err
			}
			tables = append(tables, t)
		}
		rep = nomenclature.Report{Valid: true, Findings: []nomenclature.Finding{}}
		for _, t := range tables {
			r := rules.CheckTable(t)
			rep.Valid = rep.Valid && r.Valid
			rep.Findings = append(rep.Findings, r.Findings...)
		}
	}
	if err := writeReport(os.Stdout, os.Stderr, rep, c.Format); err != nil {
		return err
	}
	if !rep.Valid {
		return exitError{code: 1}
	}
	return nil
}

func readDefinition(path string) (tableschema.Resource, error) {
	var in io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return tableschema.Resource{}, fmt.Errorf("no se puede abrir la definición %s: %w", path, err)
		}
		defer f.Close()
		in = f
	}
	res, err := tableschema.Parse(in)
	if err != nil {
		return res, fmt.Errorf("%s: %w", path, err)
	}
	return res, nil
}

// writeReport prints the findings: JSON exactly in the API's shape, or one
// line per finding with a summary on summary (stderr), so that the lines
// on out stay one per finding.
func writeReport(out, summary io.Writer, rep nomenclature.Report, format string) error {
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	for _, f := range rep.Findings {
		line := fmt.Sprintf("%s\t%s\t%s\t%s", f.Rule, f.Severity.Label(), printable(f.Object), printable(f.Message))
		if f.Suggestion != "" {
			line += "\tsugerencia: " + printable(f.Suggestion)
		}
		if _, err := fmt.Fprintln(out, line); err != nil {
			return err
		}
	}
	errs := rep.Errors()
	warns := len(rep.Findings) - errs
	_, err := fmt.Fprintf(summary, "%d %s, %d %s\n", errs, plural(errs, "error", "errores"), warns, plural(warns, "aviso", "avisos"))
	return err
}

// printable escapes control characters, so a hostile name cannot break the
// one-finding-per-line output or drive the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '�'
		}
		return r
	}, s)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type catalogRulesCmd struct {
	rulesFlag
	Format string `name:"format" default:"text" enum:"text,json,yaml" help:"text (rules, then parameters), json or yaml (the parameters file)."`
}

func (c *catalogRulesCmd) Run() error {
	rules, err := c.load()
	if err != nil {
		return err
	}
	switch c.Format {
	case "json":
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Rules      []nomenclature.RuleInfo `json:"rules"`
			Parameters *nomenclature.Rules     `json:"parameters"`
		}{rules.Catalog(), rules})
	case "yaml":
		y, err := rules.YAML()
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(y)
		return err
	}
	for _, ri := range rules.Catalog() {
		fmt.Printf("%s\t%s\t%s\t%s\n", ri.ID, ri.Severity.Label(), ri.Applies, ri.Summary)
	}
	src := "incluidos en gobdatos (schemas/nomenclature.yaml)"
	if c.Rules != "" {
		src = c.Rules
	}
	y, err := rules.YAML()
	if err != nil {
		return err
	}
	fmt.Printf("\nParámetros, %s:\n\n%s", src, y)
	return nil
}
