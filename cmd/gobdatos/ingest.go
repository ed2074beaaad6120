package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"runtime/pprof"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/file"
	httpsrc "github.com/dgtit-gto/gobdatos/connectors/http"
	"github.com/dgtit-gto/gobdatos/connectors/mysql"
	"github.com/dgtit-gto/gobdatos/connectors/postgres"
	"github.com/dgtit-gto/gobdatos/pipeline"
)

type ingestCmd struct {
	Catalog   string `name:"catalog" required:"" help:"Clave of the catalog to load (e.g. municipio)."`
	Source    string `name:"source" required:"" help:"What to load: a file path, an http(s) URL, a postgres:// URL, or mysql:// followed by a MySQL DSN (user:pass@tcp(host:3306)/db); databases with --table or --query."`
	Table     string `name:"table" help:"Table (schema.name) to read from a database source."`
	Query     string `name:"query" help:"SELECT to read from a database source, instead of --table."`
	Format    string `name:"format" enum:",csv,json,ndjson,arrow,parquet" default:"" help:"Format of the source: csv, json, ndjson, arrow, parquet (detected when not given)."`
	Encoding  string `name:"encoding" help:"Text encoding of a CSV: utf-8, iso-8859-1, windows-1252 (detected when not given)."`
	Delimiter string `name:"delimiter" help:"CSV delimiter: , ; | or tab (detected when not given)."`
	NoHeader  bool   `name:"no-header" help:"The CSV has no header row; its columns are the catalog's fields in order."`
	Token     string `name:"token" env:"GOBDATOS_SOURCE_TOKEN" help:"Bearer token for an http(s) source."`
	MaxRows   int64  `name:"max-rows" help:"Refuse a source with more rows than this. 0: ten times the rows of the published version (at least 100,000); --max-rows=-1: no limit."`
	DryRun    bool   `name:"dry-run" help:"Validate and report without publishing."`
	JSON      bool   `name:"json" help:"Print the run, with its validation report, as JSON."`
	// CPUProfile is for measuring the load pipeline (see BenchmarkLoad).
	CPUProfile string `name:"cpuprofile" hidden:"" type:"path" help:"Write a CPU profile of the load to this file."`
}

func (c *ingestCmd) Help() string {
	return `Loads a catalog from a file or a URL: every row is converted and checked against the catalog's
definition, staged, compared with the published rows and published as a new version in one
transaction. A load with errors is rejected whole and publishes nothing, unless the catalog's
steward chose to publish valid rows.

On a terminal a progress bar shows rows, megabytes and rate. Exit status: 0 published (or
unchanged, or a clean --dry-run), 2 rejected (see the report), 1 failed.`
}

func (c *ingestCmd) Run(ctx context.Context, g *Globals, logger *slog.Logger) error {
	if c.CPUProfile != "" {
		stop, err := startCPUProfile(c.CPUProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	pool, err := g.openDB(ctx, "gobdatos-ingest")
	if err != nil {
		return err
	}
	defer pool.Close()
	cat, err := catalog.NewStore(pool, nil).ByClave(ctx, c.Catalog)
	if err != nil {
		return err
	}
	src, desc, err := c.source()
	if err != nil {
		return err
	}
	opt, err := c.options()
	if err != nil {
		return err
	}
	bar := newIngestBar(os.Stderr)
	loader := &pipeline.Loader{Pool: pool, Logger: logger}
	run, err := loader.Run(ctx, pipeline.Request{
		Catalog: cat, Source: desc, Trigger: pipeline.Manual, Actor: catalog.System(), DryRun: c.DryRun,
		MaxRows: c.MaxRows, RowBase: c.rowBase(),
		Open:       func(ctx context.Context) (pipeline.Stream, error) { return src.Open(ctx, opt) },
		OnProgress: bar.update,
	})
	bar.finish()
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(run); err != nil {
			return err
		}
	} else {
		printSummary(os.Stdout, run)
	}
	switch run.State {
	case pipeline.Succeeded:
		return nil
	case pipeline.Rejected:
		return exitError{code: 2}
	}
	return exitError{code: 1}
}

func (c *ingestCmd) source() (connectors.Source, string, error) {
	s := c.Source
	switch {
	case strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		return httpsrc.Source{URL: s, Token: c.Token}, httpsrc.Redact(s), nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		if (c.Table == "") == (c.Query == "") {
			return nil, "", fmt.Errorf("un origen PostgreSQL necesita --table o --query (sólo uno)")
		}
		src := postgres.Source{URL: s, Table: c.Table, Query: c.Query}
		return src, src.String(), nil
	case strings.HasPrefix(s, "mysql://"):
		if (c.Table == "") == (c.Query == "") {
			return nil, "", fmt.Errorf("un origen MySQL/MariaDB necesita --table o --query (sólo uno)")
		}
		src := mysql.Source{DSN: strings.TrimPrefix(s, "mysql://"), Table: c.Table, Query: c.Query}
		return src, src.String(), nil
	case strings.Contains(s, "://"):
		return nil, "", fmt.Errorf("origen «%s» no reconocido: use una ruta de archivo, un URL http(s), postgres:// o mysql://", strings.SplitN(s, "://", 2)[0]+"://…")
	}
	if _, err := os.Stat(s); err != nil {
		return nil, "", fmt.Errorf("el archivo «%s» no se puede leer: %w", s, err)
	}
	return file.Source{Path: s}, path.Base(s), nil
}

func (c *ingestCmd) options() (connectors.Options, error) {
	opt := connectors.Options{Format: c.Format, Encoding: c.Encoding}
	switch c.Delimiter {
	case "":
	case "tab", `\t`:
		opt.Delimiter = '\t'
	default:
		r, n := utf8.DecodeRuneInString(c.Delimiter)
		if n != len(c.Delimiter) {
			return opt, fmt.Errorf("--delimiter debe ser un solo carácter (, ; | o tab), no «%s»", c.Delimiter)
		}
		opt.Delimiter = r
	}
	if c.NoHeader {
		no := false
		opt.Header = &no
	}
	return opt, nil
}

// startCPUProfile profiles the process until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// rowBase is the row number of the first data row: CSV counts its header
// as row 1, as spreadsheets and Frictionless do.
func (c *ingestCmd) rowBase() int64 {
	if strings.Contains(c.Source, "://") && !strings.HasPrefix(c.Source, "http") {
		return 1 // a database: rows from 1
	}
	format := c.Format
	if format == "" {
		format = strings.TrimPrefix(path.Ext(strings.SplitN(c.Source, "?", 2)[0]), ".")
	}
	switch strings.ToLower(format) {
	case "json", "ndjson", "jsonl", "arrow", "ipc", "feather", "parquet":
		return 1
	}
	if c.NoHeader {
		return 1
	}
	return 2
}

// ingestBar is the progress bar of a load on a terminal; elsewhere it does
// nothing.
type ingestBar struct {
	bar   *progressbar.ProgressBar
	total int64
}

func newIngestBar(w *os.File) *ingestBar {
	if !isatty.IsTerminal(w.Fd()) {
		return &ingestBar{}
	}
	return &ingestBar{bar: progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetDescription("abriendo el origen…"),
	)}
}

func (b *ingestBar) update(p pipeline.Progress) {
	if b.bar == nil {
		return
	}
	if p.TotalBytes > 0 && b.total != p.TotalBytes {
		b.total = p.TotalBytes
		b.bar.ChangeMax64(p.TotalBytes)
	}
	rate := 0.0
	if p.Seconds > 0 {
		rate = float64(p.Rows) / p.Seconds
	}
	b.bar.Describe(fmt.Sprintf("%s · %s filas (%s rechazadas) · %s filas/s", stageName(p.Stage), thousands(p.Rows), thousands(p.Rejected), thousands(int64(rate))))
	_ = b.bar.Set64(p.Bytes)
}

func (b *ingestBar) finish() {
	if b.bar != nil {
		_ = b.bar.Finish()
		fmt.Fprintln(os.Stderr)
	}
}

func stageName(s string) string {
	switch s {
	case pipeline.StageOpen:
		return "abriendo"
	case pipeline.StageValidate:
		return "leyendo y validando"
	case pipeline.StageKeys:
		return "revisando llaves"
	case pipeline.StagePublish:
		return "publicando"
	}
	return s
}

// printSummary tells in Spanish how the load ended.
func printSummary(w io.Writer, r *pipeline.Run) {
	outcome := r.State.Spanish()
	switch {
	case r.State == pipeline.Succeeded && r.DryRun:
		outcome = "validada (prueba en seco: no se publicó)"
	case r.State == pipeline.Succeeded && r.ErrorCode == "unchanged":
		outcome = fmt.Sprintf("sin cambios (sigue la versión %d)", *r.Version)
	case r.State == pipeline.Succeeded && r.Version != nil:
		outcome = fmt.Sprintf("publicada como versión %d", *r.Version)
	}
	fmt.Fprintf(w, "Carga %d del catálogo «%s»: %s\n", r.ID, r.CatalogClave, outcome)
	fmt.Fprintf(w, "  filas: %s leídas, %s válidas, %s rechazadas\n", thousands(r.RowsRead), thousands(r.RowsValid), thousands(r.RowsRejected))
	if r.State == pipeline.Succeeded && !r.DryRun {
		fmt.Fprintf(w, "  cambios: %s altas, %s modificaciones, %s bajas\n", thousands(r.RowsAdded), thousands(r.RowsChanged), thousands(r.RowsRemoved))
	}
	secs := 0.0
	for _, s := range r.Timings {
		secs += s
	}
	if secs > 0 {
		fmt.Fprintf(w, "  %.1f MB en %.1f s (%s filas/s)\n", float64(r.BytesRead)/1e6, secs, thousands(int64(float64(r.RowsRead)/secs)))
	}
	if r.Error != "" && r.ErrorCode != "unchanged" {
		fmt.Fprintf(w, "  motivo: %s\n", r.Error)
	}
	if r.Report != nil && len(r.Report.Errors) > 0 {
		const show = 10
		fmt.Fprintf(w, "  errores (%s en total):\n", thousands(r.Report.Stats.Errors))
		for i, e := range r.Report.Errors {
			if i == show {
				fmt.Fprintf(w, "    … y %s más; el reporte completo: gobdatos ingest … --json, o la carga %d en el portal\n", thousands(r.Report.Stats.Errors-show), r.ID)
				break
			}
			fmt.Fprintf(w, "    - %s\n", e.Message)
		}
	}
}

// thousands writes n with thousands separators, as es-MX does (1,234,567).
func thousands(n int64) string {
	return message.NewPrinter(language.MustParse("es-MX")).Sprint(n)
}
