package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/pipeline/schedule"
	"github.com/dgtit-gto/gobdatos/portal/account"
	"github.com/dgtit-gto/gobdatos/schemas"
)

// procedureConfig says where the procedure definitions and the working-day
// calendar come from; serve and dev load and check them at start.
type procedureConfig struct {
	Procedures string `name:"procedures" env:"GOBDATOS_PROCEDURES" type:"path" help:"Folder of procedure definitions (*.yaml) to use instead of the ones built in (schemas/procedures)."`
	Calendar   string `name:"calendar" env:"GOBDATOS_CALENDAR" type:"path" help:"Working-day calendar file (holidays, working hours) to use instead of the built-in schemas/calendar/gto.yaml."`

	engine *procedure.Engine // set by runPortal once loaded
}

// load reads and checks the definitions and the calendar; a bad file stops
// the command with its name and every problem.
func (c procedureConfig) load() (*procedure.Registry, *procedure.Calendar, error) {
	var fsys fs.FS = schemas.Procedures()
	if c.Procedures != "" {
		if st, err := os.Stat(c.Procedures); err != nil || !st.IsDir() {
			return nil, nil, fmt.Errorf("GOBDATOS_PROCEDURES: %q no es una carpeta", c.Procedures)
		}
		fsys = os.DirFS(c.Procedures)
	}
	reg, err := procedure.Load(fsys)
	if err != nil {
		return nil, nil, err
	}
	if len(reg.All()) == 0 {
		return nil, nil, errors.New("no hay definiciones de procedimientos (*.yaml)")
	}
	calName, calBytes := "schemas/calendar/gto.yaml", schemas.Calendar()
	if c.Calendar != "" {
		calName = c.Calendar
		if calBytes, err = os.ReadFile(c.Calendar); err != nil {
			return nil, nil, fmt.Errorf("GOBDATOS_CALENDAR: %w", err)
		}
	}
	cal, err := procedure.ParseCalendar(calName, calBytes)
	if err != nil {
		return nil, nil, err
	}
	return reg, cal, nil
}

// start loads the definitions, records them in the database and returns
// the engine.
func (c procedureConfig) start(ctx context.Context, pool *pgxpool.Pool, baseURL string, platform procedure.Platform) (*procedure.Engine, error) {
	reg, cal, err := c.load()
	if err != nil {
		return nil, err
	}
	eng := procedure.NewEngine(pool, reg, cal)
	eng.BaseURL = baseURL
	eng.UsePlatform(platform)
	if err := eng.Sync(ctx); err != nil {
		return nil, err
	}
	return eng, nil
}

// addProcedureJobs schedules the clocks' 50 % / 100 % notices.
func addProcedureJobs(sched *schedule.Scheduler, eng *procedure.Engine) error {
	return sched.Every("procedure-clocks", 5*time.Minute, func(ctx context.Context) error {
		_, err := eng.CheckClocks(ctx, time.Now())
		return err
	})
}

type procedureCmd struct {
	procedureConfig
	Lint     procedureLintCmd     `cmd:"" help:"Check the procedure definitions and the calendar; exit 1 naming each bad file and problem."`
	List     procedureListCmd     `cmd:"" help:"List the procedures (clave, version, estimated time)."`
	Show     procedureShowCmd     `cmd:"" help:"Show one procedure: activities, states, actions, formats, clocks."`
	Diagram  procedureDiagramCmd  `cmd:"" help:"Print one procedure's flow as a Mermaid diagram."`
	Holidays procedureHolidaysCmd `cmd:"" help:"List the holidays of the working-day calendar."`
	Grant    procedureGrantCmd    `cmd:"" help:"Give a portal user one of the manual's roles (puestos), e.g. coordinador_dm."`
}

func (c *procedureCmd) Help() string {
	return `Procedures are the manual's procedures as data: one YAML file per procedure (built in from
schemas/procedures, or the folder in GOBDATOS_PROCEDURES). serve and dev refuse to start when one is bad.`
}

type procedureLintCmd struct{}

func (procedureLintCmd) Run(parent *procedureCmd) error {
	return lintProcedures(os.Stdout, parent.procedureConfig)
}

func lintProcedures(w io.Writer, cfg procedureConfig) error {
	reg, cal, err := cfg.load()
	if err != nil {
		return err
	}
	// The effects the definitions name must exist; no database is needed
	// to know that.
	eng := procedure.NewEngine(nil, reg, cal)
	eng.UsePlatform(procedure.Platform{})
	if err := eng.Validate(); err != nil {
		return err
	}
	for _, d := range reg.All() {
		fmt.Fprintf(w, "ok  %-8s v%d  %s\n", d.Short, d.Version, d.File)
	}
	fmt.Fprintf(w, "%d procedimientos correctos; calendario con %d días inhábiles.\n", len(reg.All()), len(cal.Holidays))
	return nil
}

type procedureListCmd struct{}

func (procedureListCmd) Run(parent *procedureCmd) error {
	reg, _, err := parent.load()
	if err != nil {
		return err
	}
	t := newTable(os.Stdout, "CLAVE", "VERSIÓN", "TIEMPO ESTIMADO", "ESTADOS", "NOMBRE")
	for _, d := range reg.All() {
		est := d.EstimatedTime
		if est == "" {
			est = "indefinido"
		}
		t.row(d.Clave, d.Version, est, len(d.States), d.Name)
	}
	return t.flush()
}

type procedureShowCmd struct {
	Short string `arg:"" help:"Short key of the procedure, e.g. ADC-1.3."`
}

func (c procedureShowCmd) Run(parent *procedureCmd) error {
	reg, _, err := parent.load()
	if err != nil {
		return err
	}
	d, ok := reg.Latest(c.Short)
	if !ok {
		return fmt.Errorf("no existe el procedimiento %q (vea `gobdatos procedure list`)", c.Short)
	}
	showProcedure(os.Stdout, d)
	return nil
}

func showProcedure(w io.Writer, d *procedure.Definition) {
	fmt.Fprintf(w, "%s — %s (versión %d)\n\n%s\n\n", d.Clave, d.Name, d.Version, d.Objective)
	fmt.Fprintln(w, "Actividades:")
	for _, a := range d.Activities {
		fmt.Fprintf(w, "  %2d. %s [%s]\n", a.N, a.Text, strings.Join(a.Roles, ", "))
		if a.Decision != "" {
			fmt.Fprintf(w, "      %s\n", a.Decision)
		}
	}
	fmt.Fprintln(w, "\nAcciones:")
	for _, t := range d.Transitions {
		extra := ""
		if t.Form != "" {
			extra += " formato " + t.Form
		}
		if len(t.Requires) > 0 {
			extra += " requiere " + strings.Join(t.Requires, ", ")
		}
		fmt.Fprintf(w, "  %s → %s: %s (%s) [%s]%s\n", strings.Join(t.From, "|"), t.To, t.Action, t.Label, strings.Join(t.Roles, ", "), extra)
		for _, ck := range t.Checks {
			fmt.Fprintf(w, "      verifica %s(%s)\n", ck.Check, ck.Field)
		}
		for _, ef := range t.Effects {
			fmt.Fprintf(w, "      hace %s%s\n", ef.Effect, effectArgs(ef))
		}
	}
	fmt.Fprintln(w, "\nFormatos:")
	for _, f := range d.Forms {
		fmt.Fprintf(w, "  %s %s: %d campos\n", f.Clave, f.Name, len(f.Fields))
	}
	for _, ck := range d.Clocks {
		fmt.Fprintf(w, "\nReloj %s: %s, objetivo %s en %s\n", ck.ID, ck.Label, ck.Target, strings.Join(ck.Running, ", "))
	}
	for _, n := range d.Notes {
		fmt.Fprintf(w, "\nNota: %s\n", n)
	}
}

// effectArgs is what an effect acts on, as the definition says it.
func effectArgs(ef procedure.EffectRef) string {
	var args []string
	if ef.Field != "" {
		args = append(args, ef.Field)
	}
	for _, k := range slices.Sorted(maps.Keys(ef.With)) {
		args = append(args, k+"="+ef.With[k])
	}
	out := "(" + strings.Join(args, ", ") + ")"
	if len(ef.When) > 0 {
		out += " si es " + strings.Join(ef.When, " o ")
	}
	return out
}

type procedureDiagramCmd struct {
	Short string `arg:"" help:"Short key of the procedure, e.g. ADC-1.3."`
	State string `name:"state" help:"Highlight this state."`
}

func (c procedureDiagramCmd) Run(parent *procedureCmd) error {
	reg, _, err := parent.load()
	if err != nil {
		return err
	}
	d, ok := reg.Latest(c.Short)
	if !ok {
		return fmt.Errorf("no existe el procedimiento %q (vea `gobdatos procedure list`)", c.Short)
	}
	fmt.Print(d.Mermaid(c.State))
	return nil
}

type procedureHolidaysCmd struct {
	Year int `name:"year" help:"Only this year."`
}

func (c procedureHolidaysCmd) Run(parent *procedureCmd) error {
	_, cal, err := parent.load()
	if err != nil {
		return err
	}
	for _, h := range cal.HolidayList() {
		if c.Year != 0 && !strings.HasPrefix(h[0], strconv.Itoa(c.Year)+"-") {
			continue
		}
		fmt.Printf("%s  %s\n", h[0], h[1])
	}
	return nil
}

type procedureGrantCmd struct {
	Login string `arg:"" help:"The user's login."`
	Role  string `arg:"" help:"Role id, e.g. director_daid or coordinador_dm."`
}

func (c procedureGrantCmd) Run(ctx context.Context, g *Globals, parent *procedureCmd) error {
	reg, cal, err := parent.load()
	if err != nil {
		return err
	}
	pool, err := g.openDB(ctx, "gobdatos-procedure")
	if err != nil {
		return err
	}
	defer pool.Close()
	u, err := account.NewStore(pool).ByLogin(ctx, c.Login)
	if errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("no existe el usuario %q", c.Login)
	}
	if err != nil {
		return err
	}
	if err := procedure.NewEngine(pool, reg, cal).Grant(ctx, consoleActor(), u.ID, c.Role); err != nil {
		return err
	}
	fmt.Printf("%s tiene ahora el puesto %s.\n", c.Login, c.Role)
	return nil
}
