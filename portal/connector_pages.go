package portal

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"golang.org/x/sync/errgroup"

	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// The connectors' pages: /conectores (the list, with uptime and charts),
// /conectores/{id} (details, check history, the catalog's runs, «Verificar
// ahora»), and the form to register or change one. They are scoped like
// the API (connectorScope) and share its validation and permission code.

// connectorSummary is one connector with its health, for the pages.
type connectorSummary struct {
	registry.Connector
	Checked bool     // there is a check in the history
	Result  string   // the last check's status
	Status  string   // Spanish meaning of the last check's status
	Message string   // the last check's message
	Latency string   // the last check's latency
	Uptime  []string // 24 h, 7 d, 30 d
	Charts  []template.HTML
}

// OK reports whether the last check succeeded.
func (c connectorSummary) OK() bool { return c.Result == health.StatusOK }

type dependenciaSummary struct {
	Dependencia string
	Uptime      []string
}

type connectorsPage struct {
	Connectors   []connectorSummary
	Dependencias []dependenciaSummary
	Windows      []string
	CanManage    bool
	Deleted      bool
}

type connectorPage struct {
	connectorSummary
	Checks     []health.Check
	Runs       []pipeline.Run
	CanManage  bool
	CheckedNow bool
	Saved      bool
}

// StatusText is the Spanish meaning of a check's status.
func (connectorPage) StatusText(status string) string { return health.Message(status) }

func (s *Server) bindConnectorPages() {
	if s.opts.Keys == nil {
		return
	}
	if s.opts.Checker == nil {
		s.opts.Checker = health.NewChecker(health.Checker{DB: s.opts.Pool, Connectors: s.connectorStore(),
			Probe: health.SourceProbe, Logger: s.log}, 4)
	}
	read := s.requirePermission(account.ReadInternal)
	manage := s.requirePermission(account.ManageConnectors)
	s.echo.GET("/conectores", s.connectorsList, read)
	s.echo.GET("/conectores/nuevo", s.connectorNew, manage)
	s.echo.POST("/conectores/nuevo", s.connectorCreate, manage)
	s.echo.GET("/conectores/:id", s.connectorDetail, read)
	s.echo.GET("/conectores/:id/editar", s.connectorEdit, manage)
	s.echo.POST("/conectores/:id/editar", s.connectorSave, manage)
	s.echo.POST("/conectores/:id/verificar", s.connectorCheckNow, manage)
	s.echo.POST("/conectores/:id/eliminar", s.connectorDeletePage, manage)
}

func uptimeText(u health.Uptime) string {
	if u.Ratio == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f %%", *u.Ratio*100)
}

// summarize reads the connectors' last checks, uptimes and charts, a few
// queries for all of them.
func (s *Server) summarize(c *echo.Context, list []registry.Connector) ([]connectorSummary, error) {
	ctx := c.Request().Context()
	ids := make([]int64, len(list))
	for i, conn := range list {
		ids[i] = conn.ID
	}
	// Four queries, side by side: the last checks, the uptimes and the two
	// charts, whose last bar is the hour under way.
	var last map[int64]health.Check
	var ups map[int64][]health.Uptime
	end := health.HourEnd(time.Now())
	charts := make([]map[int64][]health.Bucket, len(chartSpans))
	grp, gctx := errgroup.WithContext(ctx)
	grp.Go(func() (err error) {
		last, err = health.LatestOf(gctx, s.opts.Pool, health.KindConnector, ids)
		return err
	})
	grp.Go(func() (err error) {
		ups, err = health.UptimesOf(gctx, s.opts.Pool, health.KindConnector, ids)
		return err
	})
	for i, span := range chartSpans {
		grp.Go(func() (err error) {
			charts[i], err = health.BucketsOf(gctx, s.opts.Pool, health.KindConnector, ids, end, span.Step, span.N)
			return err
		})
	}
	if err := grp.Wait(); err != nil {
		return nil, err
	}
	out := make([]connectorSummary, len(list))
	for i, conn := range list {
		sum := connectorSummary{Connector: conn, Status: "Sin revisiones", Latency: "—"}
		if lc, ok := last[conn.ID]; ok {
			sum.Checked, sum.Result = true, lc.Status
			sum.Status = health.Message(lc.Status)
			sum.Message = lc.Message
			sum.Latency = fmt.Sprintf("%.0f ms", lc.LatencyMS)
		}
		for _, u := range ups[conn.ID] {
			sum.Uptime = append(sum.Uptime, uptimeText(u))
		}
		for j, span := range chartSpans {
			sum.Charts = append(sum.Charts, uptimeSVG(fmt.Sprintf("grafica-%d-%s", conn.ID, span.Name),
				fmt.Sprintf("Disponibilidad de «%s», últimas %d barras de %s", conn.Name, span.N, spanName(span.Step)),
				charts[j][conn.ID], span.Layout))
		}
		out[i] = sum
	}
	return out, nil
}

func spanName(d time.Duration) string {
	if d == time.Hour {
		return "una hora"
	}
	return "un día"
}

func (s *Server) connectorsList(c *echo.Context) error {
	noStore(c)
	ctx := c.Request().Context()
	list, err := s.connectorStore().List(ctx, registry.Filter{DependenciaID: connectorScope(s.caller(c))})
	if err != nil {
		return err
	}
	u := s.caller(c)
	page := connectorsPage{Windows: []string{"24 h", "7 d", "30 d"}, CanManage: u.Holds(account.ManageConnectors),
		Deleted: c.QueryParam("eliminado") == "1"}
	// The two read a month of hourly roll-ups each: side by side.
	var deps []health.DependenciaUptime
	var grp errgroup.Group
	grp.Go(func() (err error) {
		page.Connectors, err = s.summarize(c, list)
		return err
	})
	grp.Go(func() (err error) {
		deps, err = s.visibleDependenciaUptime(c)
		return err
	})
	if err := grp.Wait(); err != nil {
		return err
	}
	for _, d := range deps {
		ds := dependenciaSummary{Dependencia: d.Dependencia}
		for _, up := range d.Uptime {
			ds.Uptime = append(ds.Uptime, uptimeText(up))
		}
		page.Dependencias = append(page.Dependencias, ds)
	}
	return s.render(c, http.StatusOK, "conectores.html", page)
}

func (s *Server) connectorDetail(c *echo.Context) error {
	noStore(c)
	conn, err := s.visibleConnector(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	sums, err := s.summarize(c, []registry.Connector{conn})
	if err != nil {
		return err
	}
	u := s.caller(c)
	page := connectorPage{connectorSummary: sums[0], CanManage: u.Can(account.ManageConnectors, &conn.DependenciaID),
		CheckedNow: c.QueryParam("verificado") == "1", Saved: c.QueryParam("guardado") == "1"}
	if page.Checks, err = health.History(ctx, s.opts.Pool, health.KindConnector, conn.ID, 100); err != nil {
		return err
	}
	if conn.TargetCatalog != "" {
		cat, err := s.catalogs().ByClave(ctx, conn.TargetCatalog)
		if err == nil && mayReadRuns(u, cat.DependenciaID) {
			if page.Runs, err = pipeline.ListRuns(ctx, s.opts.Pool, cat.ID, 0, 20); err != nil {
				return err
			}
		}
	}
	return s.render(c, http.StatusOK, "conector.html", page)
}

// managedConnector is connector :id if the caller may change it.
func (s *Server) managedConnector(c *echo.Context) (registry.Connector, error) {
	conn, err := s.visibleConnector(c)
	if err != nil {
		return conn, err
	}
	if !s.caller(c).Can(account.ManageConnectors, &conn.DependenciaID) {
		return conn, forbidden(account.ManageConnectors)
	}
	return conn, nil
}

func (s *Server) connectorCheckNow(c *echo.Context) error {
	conn, err := s.managedConnector(c)
	if err != nil {
		return err
	}
	if _, err := s.opts.Checker.Connector(c.Request().Context(), conn.ID, true); err != nil && !errors.Is(err, health.ErrSkipped) {
		return fmt.Errorf("portal: check connector %d: %w", conn.ID, err)
	}
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/conectores/%d?verificado=1", conn.ID))
}

func (s *Server) connectorDeletePage(c *echo.Context) error {
	conn, err := s.managedConnector(c)
	if err != nil {
		return err
	}
	if err := s.connectorStore().Delete(c.Request().Context(), conn.ID, s.withRequest(c)); err != nil {
		return connectorProblem(err)
	}
	return c.Redirect(http.StatusSeeOther, "/conectores?eliminado=1")
}

// connectorForm is the form to register or change a connector. The
// credentials are never filled in: an empty field keeps what is stored.
type connectorForm struct {
	New          bool
	ID           int64
	Name         string
	Kind         string
	Address      string
	Object       string
	Catalog      string
	Columns      string
	Cron         string
	Interval     string
	Enabled      bool
	Dependencia  string
	HasCreds     bool
	Kinds        []string
	Deps         []dependenciaOption
	ChooseDep    bool // administrators choose the dependencia
	Errors       map[string]string
	ErrorSummary []string
}

// formFields maps the API's field names to the form's.
var formFields = map[string]string{
	"name": "nombre", "kind": "tipo", "address": "direccion", "credentials": "credenciales",
	"object": "objeto", "target_catalog": "catalogo", "expected_columns": "columnas",
	"load_cron": "cron", "check_interval_seconds": "intervalo", "dependencia": "dependencia",
}

func formOf(conn registry.Connector) connectorForm {
	return connectorForm{ID: conn.ID, Name: conn.Name, Kind: conn.Kind, Address: conn.Address, Object: conn.Object,
		Catalog: conn.TargetCatalog, Columns: strings.Join(conn.ExpectedColumns, ", "), Cron: conn.LoadCron,
		Interval: strconv.FormatInt(int64(conn.CheckInterval), 10), Enabled: conn.Enabled, Dependencia: conn.Dependencia,
		HasCreds: conn.HasCredentials}
}

func (s *Server) showConnectorForm(c *echo.Context, status int, f connectorForm) error {
	noStore(c)
	u := s.caller(c)
	f.Kinds = registry.Kinds
	f.ChooseDep = f.New && u.Can(account.ManageConnectors, nil)
	if f.ChooseDep {
		deps, err := s.dependenciaOptions(c.Request().Context())
		if err != nil {
			return err
		}
		f.Deps = deps
	}
	return s.render(c, status, "conector_form.html", f)
}

func (s *Server) connectorNew(c *echo.Context) error {
	return s.showConnectorForm(c, http.StatusOK, connectorForm{New: true, Kind: "postgres", Enabled: true,
		Interval: strconv.FormatInt(int64(registry.DefaultCheckInterval/time.Second), 10)})
}

func (s *Server) connectorEdit(c *echo.Context) error {
	conn, err := s.managedConnector(c)
	if err != nil {
		return err
	}
	return s.showConnectorForm(c, http.StatusOK, formOf(conn))
}

// readConnectorForm reads the posted form into f and an Input; a field that
// cannot even be read is reported in f.Errors.
func readConnectorForm(c *echo.Context, f *connectorForm) registry.Input {
	f.Errors = map[string]string{}
	f.Name = c.FormValue("nombre")
	f.Kind = c.FormValue("tipo")
	f.Address = c.FormValue("direccion")
	f.Object = strings.TrimSpace(c.FormValue("objeto"))
	f.Catalog = strings.TrimSpace(c.FormValue("catalogo"))
	f.Columns = c.FormValue("columnas")
	f.Cron = strings.TrimSpace(c.FormValue("cron"))
	f.Interval = strings.TrimSpace(c.FormValue("intervalo"))
	f.Enabled = c.FormValue("habilitado") != ""
	if f.New {
		f.Dependencia = c.FormValue("dependencia")
	}
	in := registry.Input{Dependencia: f.Dependencia, Name: f.Name, Kind: f.Kind, Address: f.Address, Object: f.Object,
		TargetCatalog: f.Catalog, LoadCron: f.Cron, Enabled: &f.Enabled}
	for _, col := range strings.Split(f.Columns, ",") {
		if col = strings.TrimSpace(col); col != "" {
			in.ExpectedColumns = append(in.ExpectedColumns, col)
		}
	}
	if f.Interval != "" {
		n, err := strconv.ParseInt(f.Interval, 10, 64)
		if err != nil {
			f.Errors["intervalo"] = "el intervalo de revisión debe ser un número entero de segundos"
		}
		in.CheckInterval = registry.Seconds(n)
	}
	cred := registry.Credentials{User: c.FormValue("usuario"), Password: c.FormValue("contrasena"), Token: c.FormValue("token")}
	if cred != (registry.Credentials{}) {
		in.Credentials = &cred
	}
	in.ClearCredentials = c.FormValue("borrar_credenciales") != ""
	return in
}

// formProblem puts the store's or the permission check's complaint into f,
// or returns the error when it is not the caller's to fix.
func formProblem(err error, f *connectorForm) error {
	var p *Problem
	if !errors.As(err, &p) || p.Status >= 500 {
		return err
	}
	for _, it := range p.Errors {
		if name, ok := formFields[it.Field]; ok {
			f.Errors[name] = it.Message
			continue
		}
		f.ErrorSummary = append(f.ErrorSummary, it.Field+": "+it.Message)
	}
	if len(p.Errors) == 0 {
		f.ErrorSummary = append(f.ErrorSummary, p.Detail)
	}
	return nil
}

func (s *Server) connectorCreate(c *echo.Context) error {
	f := connectorForm{New: true}
	in := readConnectorForm(c, &f)
	if len(f.Errors) == 0 {
		conn, err := s.createConnectorAs(c, in)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/conectores/%d?guardado=1", conn.ID))
		}
		if err := formProblem(err, &f); err != nil {
			return err
		}
	}
	return s.showConnectorForm(c, http.StatusUnprocessableEntity, f)
}

func (s *Server) connectorSave(c *echo.Context) error {
	conn, err := s.managedConnector(c)
	if err != nil {
		return err
	}
	f := formOf(conn)
	in := readConnectorForm(c, &f)
	// What the form does not show is kept.
	in.Options, in.LoadTimeout, in.CheckTimeout, in.OwnerID = conn.Options, conn.LoadTimeout, conn.CheckTimeout, conn.OwnerID
	if in.CheckTimeout > in.CheckInterval && in.CheckInterval > 0 {
		in.CheckTimeout = in.CheckInterval
	}
	if in.Credentials != nil && conn.HasCredentials && !in.ClearCredentials {
		// An empty credential field keeps its stored value.
		stored, err := s.connectorStore().Secret(c.Request().Context(), conn.ID)
		if err != nil {
			return fmt.Errorf("portal: connector %d: %w", conn.ID, err)
		}
		if in.Credentials.User == "" {
			in.Credentials.User = stored.User
		}
		if in.Credentials.Password == "" {
			in.Credentials.Password = stored.Password
		}
		if in.Credentials.Token == "" {
			in.Credentials.Token = stored.Token
		}
	}
	if len(f.Errors) == 0 {
		updated, err := s.updateConnectorAs(c, conn, in)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/conectores/%d?guardado=1", updated.ID))
		}
		if err := formProblem(err, &f); err != nil {
			return err
		}
	}
	return s.showConnectorForm(c, http.StatusUnprocessableEntity, f)
}
