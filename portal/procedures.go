package portal

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Trámites: cases of the manual's procedures run by catalog/procedure.
// Pages: /tramites (list), /tramites/nuevo/{clave} (file a request with its
// formato), /tramites/{folio} (data, history, the caller's actions, the flow
// with the current state, clocks), /procedimientos and
// /procedimientos/{clave} (the flow next to the manual's activities, the
// indicators). Who may act is decided by the engine from the roles of the
// definition (see README «Procedimientos»).

// diagramCSP is the Content-Security-Policy of pages that draw a Mermaid
// diagram: Mermaid styles its SVG with an inline <style>. Scripts stay
// limited to the portal's own.
const diagramCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

func (s *Server) bindProcedures() {
	if s.opts.Procedures == nil {
		return
	}
	s.echo.GET("/tramites", s.tramitesList, s.requireSignIn)
	s.echo.GET("/tramites/nuevo/:clave", s.tramiteNew, s.requireSignIn)
	s.echo.POST("/tramites/nuevo/:clave", s.tramiteCreate, s.requireSignIn)
	s.echo.GET("/tramites/:folio", s.tramiteShow, s.requireSignIn)
	s.echo.POST("/tramites/:folio/acciones", s.tramiteAct, s.requireSignIn)
	s.echo.POST("/tramites/:folio/adjuntos", s.tramiteAttach, s.requireSignIn)
	s.allowLargeBody("/tramites/:folio/adjuntos")
	s.echo.GET("/tramites/:folio/adjuntos/:id", s.sendAttachment, s.requireSignIn)
	s.echo.POST("/tramites/:folio/contrasena", s.tramitePassword, s.requireSignIn)
	s.echo.GET("/procedimientos", s.procedimientosList)
	s.echo.GET("/procedimientos/:clave", s.procedimientoShow)
	s.bindProceduresAPI()
}

// procedureActor is the engine's view of a portal user.
func procedureActor(u *account.User) procedure.Actor {
	id := u.ID
	return procedure.Actor{UserID: &id, Login: u.Login, Email: u.Email, Name: u.FullName, Profile: string(u.Profile), DependenciaID: u.DependenciaID}
}

// refusalProblem turns an engine refusal into the answer the client gets.
func refusalProblem(err error) error {
	var r *procedure.Refusal
	if !errors.As(err, &r) {
		if errors.Is(err, procedure.ErrNotFound) {
			return &Problem{Status: http.StatusNotFound, Code: "tramite_no_encontrado", Title: "No encontrado", Detail: "El trámite no existe.", cause: err}
		}
		return err
	}
	p := &Problem{Status: http.StatusUnprocessableEntity, Code: r.Code, Title: "La acción no se realizó", Detail: r.Message, cause: err}
	switch r.Code {
	case procedure.CodeForbidden:
		p.Status = http.StatusForbidden
	case procedure.CodeConflict:
		p.Status = http.StatusConflict
	case procedure.CodeUnknownProcedure:
		p.Status = http.StatusNotFound
	}
	for _, pr := range r.Problems {
		p.Errors = append(p.Errors, ProblemItem{Field: pr.Field, Value: pr.Value, Message: pr.Label + ": " + pr.Message})
	}
	return p
}

// visibleCase loads folio if the caller may see it: he holds a role of its
// procedure on it (steward, requester, his dependencia's).
func (s *Server) visibleCase(c *echo.Context, folio string) (*procedure.Case, []string, error) {
	ctx := c.Request().Context()
	eng := s.opts.Procedures
	cs, err := eng.Get(ctx, folio)
	if err != nil {
		return nil, nil, refusalProblem(err)
	}
	roles, err := eng.Roles(ctx, procedureActor(s.caller(c)), cs)
	if err != nil {
		return nil, nil, err
	}
	if len(roles) == 0 {
		return nil, nil, &Problem{Status: http.StatusNotFound, Code: "tramite_no_encontrado", Title: "No encontrado",
			Detail: "El trámite no existe o no le corresponde."}
	}
	return cs, roles, nil
}

// listFilter reads the list's filters and limits non-stewards to their own
// and their dependencia's cases.
func (s *Server) listFilter(c *echo.Context) (procedure.Filter, error) {
	f := procedure.Filter{Short: c.QueryParam("procedimiento"), State: c.QueryParam("estado"), Query: c.QueryParam("q"),
		Open: c.QueryParam("abiertos") == "si", Limit: 50}
	f.AfterID, _ = strconv.ParseInt(c.QueryParam("despues"), 10, 64)
	actor := procedureActor(s.caller(c))
	steward, err := s.opts.Procedures.Steward(c.Request().Context(), actor)
	if err != nil {
		return f, err
	}
	if !steward {
		f.Party = &actor
	}
	return f, nil
}

// --- pages ---

type tramitesPage struct {
	Cases      []tramiteRow
	Procedures []*procedure.Definition
	Filter     procedure.Filter
	Next       int64
	Query      string // the filters, for the next page's link
}

type tramiteRow struct {
	*procedure.Case
	Name, StateLabel string
	Final            bool
}

func (s *Server) tramitesList(c *echo.Context) error {
	noStore(c)
	ctx := c.Request().Context()
	eng := s.opts.Procedures
	f, err := s.listFilter(c)
	if err != nil {
		return err
	}
	cases, err := eng.List(ctx, f)
	if err != nil {
		return err
	}
	page := tramitesPage{Procedures: eng.Registry().All(), Filter: f}
	for _, cs := range cases {
		row := tramiteRow{Case: cs, Name: cs.Short, StateLabel: cs.State}
		if d, err := eng.Definition(ctx, cs.Short, cs.Version); err == nil {
			st, _ := d.State(cs.State)
			row.Name, row.StateLabel, row.Final = d.Name, st.Label, st.Final
		}
		page.Cases = append(page.Cases, row)
	}
	if len(cases) == f.Limit {
		page.Next = cases[len(cases)-1].ID
	}
	q := url.Values{}
	for k, v := range map[string]string{"procedimiento": f.Short, "estado": f.State, "q": f.Query} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Open {
		q.Set("abiertos", "si")
	}
	page.Query = q.Encode()
	return s.render(c, http.StatusOK, "tramites.html", page)
}

// inputView is one field of a form as a page shows it.
type inputView struct {
	procedure.Field
	// Name is the form field's name, DOMID its element id (unique on a page
	// that shows several actions' formatos).
	Name, DOMID, Value, Error string
	Checked                   bool
}

func inputs(f procedure.Form, prefix, idPrefix string, values url.Values, problems []procedure.Problem) []inputView {
	var out []inputView
	for _, fd := range f.Fields {
		in := inputView{Field: fd, Name: prefix + fd.ID, DOMID: idPrefix + fd.ID}
		if values != nil {
			in.Value = values.Get(in.Name)
			in.Checked = values.Get(in.Name) != ""
		}
		for _, p := range problems {
			if p.Field == fd.ID {
				in.Error = p.Message
			}
		}
		out = append(out, in)
	}
	return out
}

// Placeholder is the example shown in an empty field.
func (in inputView) Placeholder() string {
	if in.Example == nil {
		return ""
	}
	if l, ok := in.Example.([]any); ok {
		parts := make([]string, len(l))
		for i, x := range l {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, "\n")
	}
	return fmt.Sprint(in.Example)
}

// formValues reads a formato from submitted form values (fields named
// prefix+id): numbers as numbers, checkboxes as booleans, lists one item a
// line; empty fields are left out so that «es obligatorio» names them.
func formValues(f procedure.Form, prefix string, values url.Values) map[string]any {
	out := map[string]any{}
	for _, fd := range f.Fields {
		raw := strings.TrimSpace(values.Get(prefix + fd.ID))
		switch fd.Type {
		case procedure.Boolean:
			out[fd.ID] = raw != ""
			continue
		case procedure.List:
			var items []any
			for _, line := range strings.Split(raw, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					items = append(items, line)
				}
			}
			if len(items) > 0 {
				out[fd.ID] = items
			}
			continue
		}
		if raw == "" {
			continue
		}
		if fd.Type == procedure.Number {
			if n, err := strconv.ParseFloat(raw, 64); err == nil {
				out[fd.ID] = n
				continue
			}
		}
		out[fd.ID] = raw
	}
	return out
}

type tramiteNewPage struct {
	Def    *procedure.Definition
	Form   *procedure.Form
	Inputs []inputView
	Obs    string
	Error  string
}

func (s *Server) newDefinition(c *echo.Context) (*procedure.Definition, error) {
	d, ok := s.opts.Procedures.Registry().Latest(c.Param("clave"))
	if !ok {
		return nil, &Problem{Status: http.StatusNotFound, Code: "procedimiento_no_encontrado", Title: "No encontrado",
			Detail: fmt.Sprintf("El procedimiento %q no existe.", c.Param("clave"))}
	}
	return d, nil
}

func (s *Server) tramiteNew(c *echo.Context) error {
	noStore(c)
	d, err := s.newDefinition(c)
	if err != nil {
		return err
	}
	page := tramiteNewPage{Def: d}
	if f, ok := d.Form(d.StartForm); ok {
		page.Form = &f
		page.Inputs = inputs(f, "f_", "f_", nil, nil)
	}
	return s.render(c, http.StatusOK, "tramite_nuevo.html", page)
}

func (s *Server) tramiteCreate(c *echo.Context) error {
	d, err := s.newDefinition(c)
	if err != nil {
		return err
	}
	values, err := c.FormValues()
	if err != nil {
		return err
	}
	in := procedure.OpenInput{Short: d.Short, Observations: values.Get("observaciones")}
	f, hasForm := d.Form(d.StartForm)
	if hasForm {
		in.Data = formValues(f, "f_", values)
	}
	cs, err := s.opts.Procedures.Open(c.Request().Context(), procedureActor(s.caller(c)), in)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/tramites/"+cs.Folio)
	}
	var r *procedure.Refusal
	if !errors.As(err, &r) {
		return err
	}
	page := tramiteNewPage{Def: d, Obs: in.Observations, Error: r.Message}
	if hasForm {
		page.Form = &f
		page.Inputs = inputs(f, "f_", "f_", values, r.Problems)
	}
	noStore(c)
	status := http.StatusUnprocessableEntity
	if r.Code == procedure.CodeForbidden {
		status = http.StatusForbidden
	}
	return s.render(c, status, "tramite_nuevo.html", page)
}

type tramitePage struct {
	Case        *procedure.Case
	Def         *procedure.Definition
	State       procedure.State
	Roles       []string
	Data        []formData
	History     []historyRow
	Actions     []actionView
	Clocks      []procedure.ClockStatus
	Attachments []procedure.Attachment
	Diagram     string
	Error       string
	GestionURL  string
	Links       []linkView
	// Password is the F-5 role's password, shown once to the entity that
	// asked for it (never stored in the page's cache: no-store).
	Password, PasswordRole string
	// CanReadPassword: the caller is the entity of a case that granted a role.
	CanReadPassword bool
}

// linkView is something a step created or linked, as the case page shows it.
type linkView struct {
	procedure.Link
	Kind string // in Spanish
	Href string
}

var linkKinds = map[string]string{procedure.LinkCatalog: "Catálogo", procedure.LinkRevision: "Revisión del catálogo",
	procedure.LinkAccess: "Acceso a Datosigto", procedure.LinkConnector: "Conector", procedure.LinkInstructivo: "Instructivo"}

type formData struct {
	Clave, Name string
	Entries     [][]fieldValue
}

type fieldValue struct{ Label, Value string }

type historyRow struct {
	procedure.Event
	Label, FromLabel, ToLabel string
}

type actionView struct {
	procedure.Transition
	Obs      bool // observations asked for
	FormName string
	Inputs   []inputView
	Error    string
	// ObsValue pre-fills the observations (GUP-1.6's reply lists what was applied).
	ObsValue string
	// Changes are GUP-1.6's requested user changes, pre-filled to apply.
	Changes  []userChange
	Profiles []account.Profile
	Deps     []dependenciaOption
}

func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case bool:
		if x {
			return "Sí"
		}
		return "No"
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, "\n")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

func caseData(d *procedure.Definition, data map[string]any) []formData {
	var out []formData
	for _, f := range d.Forms {
		raw, ok := data[f.ID]
		if !ok {
			continue
		}
		entries := []any{raw}
		if l, ok := raw.([]any); ok {
			entries = l
		}
		fd := formData{Clave: f.Clave, Name: f.Name}
		for _, e := range entries {
			m, _ := e.(map[string]any)
			var row []fieldValue
			for _, field := range f.Fields {
				if v, ok := m[field.ID]; ok {
					row = append(row, fieldValue{Label: field.Label, Value: showValue(v)})
				}
			}
			fd.Entries = append(fd.Entries, row)
		}
		out = append(out, fd)
	}
	return out
}

func (s *Server) tramitePage(c *echo.Context, cs *procedure.Case, roles []string, failed string, values url.Values, r *procedure.Refusal) (*tramitePage, error) {
	ctx := c.Request().Context()
	eng := s.opts.Procedures
	d, err := eng.Definition(ctx, cs.Short, cs.Version)
	if err != nil {
		return nil, err
	}
	st, _ := d.State(cs.State)
	page := &tramitePage{Case: cs, Def: d, State: st, Data: caseData(d, cs.Data), Diagram: d.Mermaid(cs.State)}
	for _, id := range roles {
		if role, ok := d.Role(id); ok {
			page.Roles = append(page.Roles, role.Name)
		}
	}
	hist, err := eng.History(ctx, cs)
	if err != nil {
		return nil, err
	}
	for _, ev := range hist {
		row := historyRow{Event: ev, Label: ev.Action}
		if ev.Action == procedure.ActionOpen {
			row.Label = "Solicitud registrada"
		} else if t, ok := d.Transition(ev.From, ev.Action); ok {
			row.Label = t.Label
		}
		if s, ok := d.State(ev.From); ok {
			row.FromLabel = s.Label
		}
		if s, ok := d.State(ev.To); ok {
			row.ToLabel = s.Label
		}
		page.History = append(page.History, row)
	}
	acts, err := eng.Actions(ctx, procedureActor(s.caller(c)), cs)
	if err != nil {
		return nil, err
	}
	for _, t := range acts {
		av := actionView{Transition: t, Obs: true}
		var problems []procedure.Problem
		var vals url.Values
		if t.Action == failed && r != nil {
			av.Error, problems, vals = r.Message, r.Problems, values
		}
		if t.Action == "informar_atendida" && d.Short == "GUP-1.6" {
			av.ObsValue = appliedSummary(cs)
		}
		if appliesUserChanges(d, t.Action) {
			if err := s.userChangesView(c, &av, d, cs, vals, problems); err != nil {
				return nil, err
			}
		} else if f, ok := d.Form(t.Form); ok {
			av.FormName = f.Clave + " " + f.Name
			if vals == nil {
				vals = prefill(f, cs.Data)
			}
			av.Inputs = inputs(f, "f_", t.Action+"-", vals, problems)
		}
		page.Actions = append(page.Actions, av)
	}
	if page.Clocks, err = eng.CaseClocks(ctx, cs, time.Now()); err != nil {
		return nil, err
	}
	if page.Attachments, err = eng.Attachments(ctx, cs); err != nil {
		return nil, err
	}
	links, err := eng.Links(ctx, cs)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		lv := linkView{Link: l, Kind: linkKinds[l.Kind], Href: l.Path()}
		if lv.Kind == "" {
			lv.Kind = l.Kind
		}
		if l.Kind == procedure.LinkInstructivo {
			lv.Href = "/tramites/" + cs.Folio + "/adjuntos/" + l.Ref
		}
		if l.Kind == procedure.LinkAccess {
			for _, id := range roles {
				if r, ok := d.Role(id); ok && r.Kind != procedure.RoleGranted {
					page.CanReadPassword = true
				}
			}
		}
		page.Links = append(page.Links, lv)
	}
	if cs.Short == "GUP-1.6" && cs.State == "gestion" && s.caller(c).Holds(account.ManageUsers) {
		page.GestionURL = "/usuarios"
	}
	return page, nil
}

func (s *Server) tramiteShow(c *echo.Context) error {
	noStore(c)
	cs, roles, err := s.visibleCase(c, c.Param("folio"))
	if err != nil {
		return err
	}
	page, err := s.tramitePage(c, cs, roles, "", nil, nil)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Security-Policy", diagramCSP)
	return s.render(c, http.StatusOK, "tramite.html", page)
}

// prefill is what an action's form starts with: the case's values (see
// procedure.Form.Prefill), as the form's inputs hold them.
func prefill(f procedure.Form, data map[string]any) url.Values {
	vals := url.Values{}
	for id, v := range f.Prefill(data) {
		switch x := v.(type) {
		case bool:
			if x {
				vals.Set("f_"+id, "si")
			}
		default:
			vals.Set("f_"+id, showValue(v))
		}
	}
	return vals
}

// tramitePassword shows the entity, once per request and never cached,
// the password of the role its request was granted (F-5).
func (s *Server) tramitePassword(c *echo.Context) error {
	noStore(c)
	cs, roles, err := s.visibleCase(c, c.Param("folio"))
	if err != nil {
		return err
	}
	role, password, err := s.opts.Procedures.AccessPassword(c.Request().Context(), procedureActor(s.caller(c)), cs.Folio)
	if err != nil {
		return refusalProblem(err)
	}
	page, err := s.tramitePage(c, cs, roles, "", nil, nil)
	if err != nil {
		return err
	}
	page.Password, page.PasswordRole = password, role
	c.Response().Header().Set("Content-Security-Policy", diagramCSP)
	return s.render(c, http.StatusOK, "tramite.html", page)
}

func (s *Server) tramiteAct(c *echo.Context) error {
	cs, roles, err := s.visibleCase(c, c.Param("folio"))
	if err != nil {
		return err
	}
	values, err := c.FormValues()
	if err != nil {
		return err
	}
	eng := s.opts.Procedures
	d, err := eng.Definition(c.Request().Context(), cs.Short, cs.Version)
	if err != nil {
		return err
	}
	action := values.Get("accion")
	lock, _ := strconv.Atoi(values.Get("lock_version"))
	in := procedure.ActInput{Action: action, LockVersion: lock, Observations: values.Get("observaciones")}
	if t, ok := d.Transition(cs.State, action); ok && t.Form != "" {
		f, _ := d.Form(t.Form)
		in.Data = formValues(f, "f_", values)
	}
	_, err = s.actOnCase(c, cs, d, in, func(changes []userChange) error {
		for i := range changes {
			changes[i].fromForm(values)
		}
		return nil
	})
	if err == nil {
		return c.Redirect(http.StatusSeeOther, "/tramites/"+cs.Folio)
	}
	var r *procedure.Refusal
	if !errors.As(err, &r) {
		return err
	}
	// Show the refusal on the case as it is now.
	if now, err := eng.Get(c.Request().Context(), cs.Folio); err == nil {
		cs = now
	}
	page, err := s.tramitePage(c, cs, roles, action, values, r)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(page.Actions, func(a actionView) bool { return a.Action == action }) {
		page.Error = r.Message
	}
	noStore(c)
	c.Response().Header().Set("Content-Security-Policy", diagramCSP)
	status := http.StatusUnprocessableEntity
	switch r.Code {
	case procedure.CodeForbidden:
		status = http.StatusForbidden
	case procedure.CodeConflict:
		status = http.StatusConflict
	}
	return s.render(c, status, "tramite.html", page)
}

type procedimientosPage struct {
	Procedures []*procedure.Definition
	Indicators []procedure.IndicatorValue
}

func (s *Server) procedimientosList(c *echo.Context) error {
	eng := s.opts.Procedures
	ind, err := eng.Indicators(c.Request().Context(), time.Now())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "procedimientos.html", procedimientosPage{Procedures: eng.Registry().All(), Indicators: ind})
}

type procedimientoPage struct {
	Def     *procedure.Definition
	Diagram string
	Effects []actionEffects
}

// actionEffects is what an action does on the platform, for the reader.
type actionEffects struct {
	Label string
	Does  []string
}

func (s *Server) procedimientoShow(c *echo.Context) error {
	d, err := s.newDefinition(c)
	if err != nil {
		return err
	}
	page := procedimientoPage{Def: d, Diagram: d.Mermaid("")}
	for _, t := range d.Transitions {
		if does := s.opts.Procedures.Does(d, t); len(does) > 0 {
			page.Effects = append(page.Effects, actionEffects{Label: t.Label, Does: does})
		}
	}
	c.Response().Header().Set("Content-Security-Policy", diagramCSP)
	return s.render(c, http.StatusOK, "procedimiento.html", page)
}

// uploaded reads the file of a multipart form field, bounded.
func uploaded(c *echo.Context, field string) (string, []byte, error) {
	fh, err := c.FormFile(field)
	if err != nil {
		return "", nil, &Problem{Status: http.StatusUnprocessableEntity, Code: procedure.CodeInvalidData, Title: "La acción no se realizó",
			Detail: "Elija el documento que desea adjuntar (campo «" + field + "»)."}
	}
	r, err := fh.Open()
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	content, err := io.ReadAll(io.LimitReader(r, procedure.MaxAttachment+1))
	return fh.Filename, content, err
}

func (s *Server) tramiteAttach(c *echo.Context) error {
	cs, _, err := s.visibleCase(c, c.Param("folio"))
	if err != nil {
		return err
	}
	name, content, err := uploaded(c, "archivo")
	if err != nil {
		return err
	}
	if _, err := s.opts.Procedures.Attach(c.Request().Context(), procedureActor(s.caller(c)), cs.Folio, name, content); err != nil {
		return refusalProblem(err)
	}
	return c.Redirect(http.StatusSeeOther, "/tramites/"+cs.Folio+"#documentos")
}

// sendAttachment downloads one document of a case (page and API).
func (s *Server) sendAttachment(c *echo.Context) error {
	cs, _, err := s.visibleCase(c, c.Param("folio"))
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return refusalProblem(procedure.ErrNotFound)
	}
	a, content, err := s.opts.Procedures.AttachmentContent(c.Request().Context(), cs, id)
	if err != nil {
		return refusalProblem(err)
	}
	noStore(c)
	c.Response().Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	return c.Blob(http.StatusOK, a.ContentType, content)
}
