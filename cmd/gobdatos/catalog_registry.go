package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/instructivo"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// catalogActor is who a catalog command acts as: a portal user (--as), or
// the platform itself, which may do anything (whoever holds DATABASE_URL
// already can).
type catalogActor struct {
	rulesFlag
	As string `name:"as" env:"GOBDATOS_AS" help:"Act as this portal user (login); their profile's permissions apply. Default: the platform (sistema), with every permission."`
}

// open connects, migrates and returns the registry and the actor.
func (a catalogActor) open(ctx context.Context, g *Globals) (*pgxpool.Pool, *catalog.Store, catalog.Actor, error) {
	rules, err := a.load()
	if err != nil {
		return nil, nil, catalog.Actor{}, err
	}
	pool, err := g.openDB(ctx, "gobdatos-catalog")
	if err != nil {
		return nil, nil, catalog.Actor{}, err
	}
	actor := catalog.System()
	if a.As != "" {
		u, err := account.NewStore(pool).ByLogin(ctx, a.As)
		if err != nil {
			pool.Close()
			if errors.Is(err, account.ErrNotFound) {
				return nil, nil, actor, fmt.Errorf("no existe el usuario %q", a.As)
			}
			return nil, nil, actor, err
		}
		if !u.Active {
			pool.Close()
			return nil, nil, actor, fmt.Errorf("el usuario %q está desactivado", a.As)
		}
		actor = catalog.Actor{UserID: u.ID, Login: u.Login, Profile: u.Profile, DependenciaID: u.DependenciaID}
	}
	return pool, catalog.NewStore(pool, catalog.Nomenclature(rules)), actor, nil
}

// openCatalog is open, then the catalog clave (a Spanish exit error when
// there is none).
func (a catalogActor) openCatalog(ctx context.Context, g *Globals, clave string) (*pgxpool.Pool, *catalog.Store, catalog.Actor, *catalog.Catalog, error) {
	pool, store, actor, err := a.open(ctx, g)
	if err != nil {
		return nil, nil, actor, nil, err
	}
	cat, err := store.ByClave(ctx, clave)
	if err != nil {
		pool.Close()
		return nil, nil, actor, nil, catalogExit(err)
	}
	return pool, store, actor, cat, nil
}

// catalogMeta are the metadata flags of create and register (F-DGTIT-DAID-GGD-4).
type catalogMeta struct {
	Clave        string   `name:"clave" help:"URL slug; default: the table name without cat_, underscores as hyphens."`
	Title        string   `name:"title" help:"Title; default: the definition's."`
	Dependencia  string   `name:"dependencia" help:"Owning dependencia (its clave, e.g. SFIA); default: the --as user's."`
	Steward      string   `name:"steward" help:"Person responsible for the catalog."`
	StewardEmail string   `name:"steward-email" help:"Their e-mail."`
	Keywords     []string `name:"keywords" help:"Keywords, comma-separated."`
	License      string   `name:"license" help:"License of the data, e.g. CC-BY-4.0."`
	Origin       string   `name:"origin" default:"interno" enum:"interno,adoptado" help:"interno or adoptado (from an external entity)."`
	OriginEntity string   `name:"origin-entity" help:"The external entity, when adoptado."`
	Mechanism    string   `name:"mechanism" help:"How it is updated (conector, carga de archivo, acceso directo …)."`
	Periodicity  string   `name:"periodicity" help:"How often (diaria, mensual, anual, irregular …)."`
	ValidRows    bool     `name:"publish-valid-rows" help:"Loads with invalid rows publish the valid ones and report the rest."`
	Publish      bool     `name:"publish" help:"Bootstrap the catalog as published (Super Administrador only; audited)."`
}

func (m catalogMeta) newCatalog(ctx context.Context, pool *pgxpool.Pool, actor catalog.Actor) (catalog.NewCatalog, error) {
	nc := catalog.NewCatalog{Clave: m.Clave, Title: m.Title, PublishValidRows: m.ValidRows, Publish: m.Publish,
		Metadata: catalog.Metadata{Steward: m.Steward, StewardEmail: m.StewardEmail, Keywords: m.Keywords, License: m.License,
			Origin: catalog.Origin(m.Origin), OriginEntity: m.OriginEntity, UpdateMechanism: m.Mechanism, Periodicity: m.Periodicity}}
	switch {
	case m.Dependencia != "":
		if err := pool.QueryRow(ctx, `SELECT id FROM meta.dependencia WHERE clave = $1`, m.Dependencia).Scan(&nc.DependenciaID); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return nc, fmt.Errorf("no existe la dependencia %q", m.Dependencia)
			}
			return nc, err
		}
	case actor.DependenciaID != nil:
		nc.DependenciaID = *actor.DependenciaID
	default:
		return nc, errors.New("indique la dependencia responsable con --dependencia CLAVE")
	}
	return nc, nil
}

type catalogCreateCmd struct {
	catalogActor
	catalogMeta
	File string `arg:"" help:"Catalog definition (Frictionless Tabular Data Resource, JSON); - reads standard input."`
}

func (c *catalogCreateCmd) Help() string {
	return `Creates the catalog's table in schema cat (control columns, keys, constraints, comments)
and registers it as a draft (borrador), after checking the definition against the nomenclature.

  gobdatos catalog create testdata/catalogs/cat_municipio.json --dependencia SFIA
  gobdatos catalog create cat_entidad.json --dependencia INEGI --publish --as admin`
}

func (c *catalogCreateCmd) Run(ctx context.Context, g *Globals) error {
	res, err := readDefinition(c.File)
	if err != nil {
		return exitError{code: 2, msg: err.Error()}
	}
	pool, store, actor, err := c.open(ctx, g)
	if err != nil {
		return err
	}
	defer pool.Close()
	nc, err := c.newCatalog(ctx, pool, actor)
	if err != nil {
		return err
	}
	nc.Resource = res
	cat, err := store.Create(ctx, actor, nc)
	if err != nil {
		return catalogExit(err)
	}
	fmt.Printf("Catálogo «%s» creado: tabla %s.%s, estado %s.\n", cat.Clave, catalog.Schema, cat.Table, cat.State.Name())
	return nil
}

type catalogRegisterCmd struct {
	catalogActor
	catalogMeta
	Table string `name:"table" required:"" help:"The existing table: cat.NAME."`
}

func (c *catalogRegisterCmd) Run(ctx context.Context, g *Globals) error {
	pool, store, actor, err := c.open(ctx, g)
	if err != nil {
		return err
	}
	defer pool.Close()
	nc, err := c.newCatalog(ctx, pool, actor)
	if err != nil {
		return err
	}
	cat, err := store.Register(ctx, actor, c.Table, nc)
	if err != nil {
		return catalogExit(err)
	}
	fmt.Printf("Tabla %s.%s registrada como el catálogo «%s», estado %s, versión %d.\n", catalog.Schema, cat.Table, cat.Clave, cat.State.Name(), cat.CurrentVersion)
	return nil
}

type catalogListCmd struct {
	catalogActor
	State  string `name:"state" help:"Only catalogs in this state."`
	Search string `name:"search" short:"q" help:"Text in clave, title, description or keywords."`
	Format string `name:"format" default:"text" enum:"text,json" help:"text or json."`
}

func (c *catalogListCmd) Run(ctx context.Context, g *Globals) error {
	pool, store, _, err := c.open(ctx, g)
	if err != nil {
		return err
	}
	defer pool.Close()
	list, err := store.List(ctx, catalog.ListFilter{State: catalog.State(c.State), Search: c.Search})
	if err != nil {
		return err
	}
	if c.Format == "json" {
		return writeJSON(os.Stdout, list)
	}
	t := newTable(os.Stdout, "CLAVE", "ESTADO", "VERSIÓN", "TABLA", "TÍTULO")
	for _, cat := range list {
		t.row(cat.Clave, cat.State.Name(), cat.CurrentVersion, catalog.Schema+"."+cat.Table, cat.Title)
	}
	return t.flush()
}

type catalogShowCmd struct {
	catalogActor
	Clave string `arg:"" help:"The catalog's clave."`
}

func (c *catalogShowCmd) Run(ctx context.Context, g *Globals) error {
	pool, store, actor, cat, err := c.openCatalog(ctx, g, c.Clave)
	if err != nil {
		return err
	}
	defer pool.Close()
	fields := newTable(os.Stdout)
	row := func(k, v string) {
		if v != "" {
			fields.row(k, v)
		}
	}
	row("Clave", cat.Clave)
	row("Título", cat.Title)
	row("Descripción", cat.Description)
	row("Tabla", catalog.Schema+"."+cat.Table)
	row("Estado", cat.State.Name())
	row("Versión vigente", fmt.Sprint(cat.CurrentVersion))
	row("Responsable", cat.Steward)
	row("Correo", cat.StewardEmail)
	row("Palabras clave", strings.Join(cat.Keywords, ", "))
	row("Licencia", cat.License)
	row("Origen", strings.TrimSpace(string(cat.Origin)+" "+cat.OriginEntity))
	row("Mecanismo", cat.UpdateMechanism)
	row("Periodicidad", cat.Periodicity)
	if cat.Revision != nil {
		row("Revisión pendiente", fmt.Sprintf("%d (%s)", cat.Revision.Number, cat.Revision.State.Name()))
		for _, ch := range cat.Revision.Changes {
			mark := ""
			if ch.Breaking {
				mark = " [rompe compatibilidad]"
			}
			row("  cambio", ch.Description+mark)
		}
	}
	var actions []string
	for _, a := range catalog.Allowed(actor, cat) {
		actions = append(actions, string(a))
	}
	row("Acciones posibles", strings.Join(actions, ", "))
	hist, err := store.History(ctx, cat.ID)
	if err != nil {
		return err
	}
	for _, t := range hist {
		line := fmt.Sprintf("%s %s: %s → %s", t.At.Format("2006-01-02 15:04"), t.By, t.From, t.To)
		if t.Observations != "" {
			line += " — " + t.Observations
		}
		row("Historia", line)
	}
	return fields.flush()
}

type catalogEditCmd struct {
	catalogActor
	Clave       string `arg:"" help:"The catalog's clave."`
	File        string `name:"file" help:"The new definition (JSON; - reads standard input)."`
	Title       string `name:"title" help:"New title."`
	Description string `name:"description" help:"New description."`
	Force       bool   `name:"force" help:"Apply breaking changes (drop or narrow a column, change the key): Super Administrador only; recorded."`
}

func (c *catalogEditCmd) Help() string {
	return `A draft changes at once; a published catalog gets a revision that must be reviewed
and published again (gobdatos catalog transition CLAVE enviar|aprobar|publicar) while the
published one keeps serving.`
}

func (c *catalogEditCmd) Run(ctx context.Context, g *Globals) error {
	e := catalog.Edit{Title: c.Title, Description: c.Description, Force: c.Force}
	if c.File != "" {
		res, err := readDefinition(c.File)
		if err != nil {
			return exitError{code: 2, msg: err.Error()}
		}
		e.Resource = &res
	}
	pool, store, actor, err := c.open(ctx, g)
	if err != nil {
		return err
	}
	defer pool.Close()
	cat, err := store.Edit(ctx, actor, c.Clave, e)
	if err != nil {
		return catalogExit(err)
	}
	if cat.Revision != nil {
		fmt.Printf("Revisión %d de «%s» en estado %s; el catálogo publicado sigue vigente.\n", cat.Revision.Number, cat.Clave, cat.Revision.State.Name())
		for _, ch := range cat.Revision.Changes {
			fmt.Println("  -", ch.Description)
		}
		return nil
	}
	fmt.Printf("Catálogo «%s» modificado.\n", cat.Clave)
	return nil
}

type catalogTransitionCmd struct {
	catalogActor
	Clave        string `arg:"" help:"The catalog's clave."`
	Action       string `arg:"" enum:"enviar,observar,aprobar,publicar,retirar" help:"enviar, observar, aprobar, publicar or retirar."`
	Observations string `name:"observations" short:"m" help:"Observations (required to observar)."`
}

func (c *catalogTransitionCmd) Run(ctx context.Context, g *Globals) error {
	pool, store, actor, err := c.open(ctx, g)
	if err != nil {
		return err
	}
	defer pool.Close()
	cat, err := store.Transition(ctx, actor, c.Clave, catalog.Action(c.Action), c.Observations)
	if err != nil {
		return catalogExit(err)
	}
	fmt.Printf("Catálogo «%s»: %s.\n", cat.Clave, cat.State.Name())
	return nil
}

type catalogSchemaCmd struct {
	catalogActor
	Clave string `arg:"" help:"The catalog's clave."`
}

func (c *catalogSchemaCmd) Run(ctx context.Context, g *Globals) error {
	pool, _, _, cat, err := c.openCatalog(ctx, g, c.Clave)
	if err != nil {
		return err
	}
	defer pool.Close()
	return writeJSON(os.Stdout, cat.Resource)
}

type catalogVersionsCmd struct {
	catalogActor
	Clave string `arg:"" help:"The catalog's clave."`
	Rows  int    `name:"rows" help:"Print the rows of this version (CSV) instead of the list of versions."`
}

func (c *catalogVersionsCmd) Run(ctx context.Context, g *Globals) error {
	pool, store, _, cat, err := c.openCatalog(ctx, g, c.Clave)
	if err != nil {
		return err
	}
	defer pool.Close()
	if c.Rows > 0 {
		w := newCSV(os.Stdout, cat)
		if err := store.ScanVersion(ctx, cat, c.Rows, func(row []any) error { return w.row("", row) }); err != nil {
			return catalogExit(err)
		}
		return w.flush()
	}
	vs, err := store.Versions(ctx, cat.ID)
	if err != nil {
		return err
	}
	t := newTable(os.Stdout, "VERSIÓN", "FILAS", "ALTAS", "CAMBIOS", "BAJAS", "SUMA", "QUIÉN", "CUÁNDO")
	for _, v := range vs {
		t.row(v.Number, v.Rows, v.Added, v.Changed, v.Removed, v.Checksum, v.By, v.At.Format("2006-01-02 15:04"))
	}
	return t.flush()
}

type catalogDiffCmd struct {
	catalogActor
	Clave string `arg:"" help:"The catalog's clave."`
	From  int    `arg:"" help:"Earlier version (0: nothing)."`
	To    int    `arg:"" help:"Later version."`
}

func (c *catalogDiffCmd) Run(ctx context.Context, g *Globals) error {
	pool, store, _, cat, err := c.openCatalog(ctx, g, c.Clave)
	if err != nil {
		return err
	}
	defer pool.Close()
	w := newCSV(os.Stdout, cat)
	kinds := map[catalog.DiffKind]string{catalog.Added: "alta", catalog.Changed: "cambio", catalog.Removed: "baja"}
	err = store.Diff(ctx, cat, c.From, c.To, func(d catalog.DiffRow) error {
		row := d.New
		if row == nil {
			row = d.Old
		}
		return w.row(kinds[d.Kind], row)
	})
	if err != nil {
		return catalogExit(err)
	}
	return w.flush()
}

type catalogInstructivoCmd struct {
	catalogActor
	Clave   string `arg:"" help:"The catalog's clave."`
	Output  string `name:"output" short:"o" help:"Write the PDF here (default: instructivo-CLAVE.pdf)."`
	Upload  string `name:"upload" type:"existingfile" help:"Store this hand-made PDF as the instructivo instead of the generated one."`
	Remove  bool   `name:"remove" help:"Remove the hand-made instructivo (the generated one is served again)."`
	BaseURL string `name:"base-url" env:"GOBDATOS_BASE_URL" help:"Public URL of the portal, for the links in the PDF."`
}

func (c *catalogInstructivoCmd) Run(ctx context.Context, g *Globals) error {
	pool, store, actor, err := c.open(ctx, g)
	if err != nil {
		return err
	}
	defer pool.Close()
	switch {
	case c.Upload != "":
		pdf, err := os.ReadFile(c.Upload)
		if err != nil {
			return err
		}
		if err := store.SetInstructivo(ctx, actor, c.Clave, baseName(c.Upload), pdf); err != nil {
			return catalogExit(err)
		}
		fmt.Printf("Instructivo de «%s»: %s.\n", c.Clave, baseName(c.Upload))
		return nil
	case c.Remove:
		if err := store.SetInstructivo(ctx, actor, c.Clave, "", nil); err != nil {
			return catalogExit(err)
		}
		fmt.Printf("Instructivo de «%s»: se genera a partir del diccionario.\n", c.Clave)
		return nil
	}
	cat, err := store.ByClave(ctx, c.Clave)
	if err != nil {
		return catalogExit(err)
	}
	out := c.Output
	if out == "" {
		out = "instructivo-" + cat.Clave + ".pdf"
	}
	_, pdf, err := store.UploadedInstructivo(ctx, cat)
	if err != nil {
		return err
	}
	if pdf == nil {
		var dep string
		if err := pool.QueryRow(ctx, `SELECT nombre FROM meta.dependencia WHERE id = $1`, cat.DependenciaID).Scan(&dep); err != nil {
			return err
		}
		vs, err := store.Versions(ctx, cat.ID)
		if err != nil {
			return err
		}
		var sb strings.Builder
		if err := instructivo.Write(&sb, cat, instructivo.Info{BaseURL: c.BaseURL, Dependencia: dep, Versions: vs}); err != nil {
			return err
		}
		pdf = []byte(sb.String())
	}
	if err := os.WriteFile(out, pdf, 0o644); err != nil {
		return err
	}
	fmt.Printf("Instructivo de «%s» escrito en %s (%d bytes).\n", cat.Clave, out, len(pdf))
	return nil
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// catalogExit prints a refusal in Spanish with its details and exits 1.
func catalogExit(err error) error {
	var ce *catalog.Error
	if !errors.As(err, &ce) {
		return err
	}
	msg := ce.Message
	for _, d := range ce.Details {
		msg += "\n  - " + d
	}
	return exitError{code: 1, msg: msg}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// csvRows writes a catalog's rows as CSV, a header of its fields first.
type csvRows struct {
	w      *csv.Writer
	dates  []bool // the columns of type date
	header []string
	kind   bool
	wrote  bool
}

func newCSV(out io.Writer, c *catalog.Catalog) *csvRows {
	w := &csvRows{w: csv.NewWriter(out)}
	for _, f := range c.Resource.Schema.Fields {
		if catalog.IsControlColumn(f.Name) {
			continue
		}
		t, _ := f.SQLType()
		w.header = append(w.header, f.Name)
		w.dates = append(w.dates, t.IsDate())
	}
	return w
}

// row writes one row; kind, when not empty, goes first (diffs).
func (w *csvRows) row(kind string, row []any) error {
	if !w.wrote {
		h := w.header
		if kind != "" {
			h = append([]string{"cambio"}, h...)
			w.kind = true
		}
		if err := w.w.Write(h); err != nil {
			return err
		}
		w.wrote = true
	}
	rec := make([]string, 0, len(row)+1)
	if w.kind {
		rec = append(rec, kind)
	}
	for i, v := range row {
		rec = append(rec, formatValue(v, i < len(w.dates) && w.dates[i]))
	}
	return w.w.Write(rec)
}

func (w *csvRows) flush() error {
	w.w.Flush()
	return w.w.Error()
}

func formatValue(v any, date bool) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		if date {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339Nano)
	case pgtype.Numeric:
		b, err := x.MarshalJSON()
		if err != nil {
			return ""
		}
		return strings.Trim(string(b), `"`)
	}
	return fmt.Sprint(v)
}
