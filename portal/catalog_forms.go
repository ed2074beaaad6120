package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature/introspect"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// The stewards' pages, following the manual's steps: «Registrar catálogo»
// (capture the details; pick the «Tabla del Catálogo» among the tables of
// cat, or paste or upload a definition; see the nomenclature findings
// before saving; upload the «Archivo de instrucciones» or let it be
// generated; save), «Editar catálogo» with the lifecycle actions and their
// observations, and loads started from the page with their progress and
// validation report.

type depOption struct {
	ID     int64
	Nombre string
}

type catalogForm struct {
	Editing                                  bool
	Clave, Title, Description                string
	DependenciaID                            int64
	Tabla, Definicion                        string
	Steward, StewardEmail, Keywords, License string
	Origin, OriginEntity, Mechanism, Period  string
	PublishValid                             bool
	Dependencias                             []depOption
	Tablas                                   []string
	Checked                                  bool
	Report                                   *nomenclature.Report
	Error                                    string
	Details                                  []string
	Cat                                      *catalog.Catalog
	Actions                                  []string
	Saved                                    string
}

func (s *Server) bindCatalogForms() {
	if s.catalogs() == nil {
		return
	}
	manage := s.requirePermission(account.ManageCatalogs)
	s.echo.GET("/catalogos/nuevo", s.newCatalogForm, manage)
	s.echo.POST("/catalogos/nuevo", s.newCatalogSave, manage)
	s.allowLargeBody("/catalogos/nuevo")
	s.echo.GET("/catalogos/:clave/editar", s.editCatalogForm, s.requireSignIn)
	s.echo.POST("/catalogos/:clave/editar", s.editCatalogSave, s.requireSignIn)
	s.allowLargeBody("/catalogos/:clave/editar")
	s.echo.POST("/catalogos/:clave/accion", s.catalogAction, s.requireSignIn)
	if s.opts.Loads != nil {
		load := s.requirePermission(account.LoadCatalogs)
		s.echo.GET("/catalogos/:clave/cargar", s.loadForm, load)
		s.echo.POST("/catalogos/:clave/cargar", s.loadStart, load)
		s.allowLargeBody("/catalogos/:clave/cargar")
		s.echo.GET("/catalogos/:clave/cargas/:id", s.loadPage, s.requireSignIn)
	}
}

// managedDependencias are the dependencias the caller may register
// catalogs for.
func (s *Server) managedDependencias(ctx context.Context, u *account.User) ([]depOption, error) {
	rows, err := s.opts.Pool.Query(ctx, `SELECT id, nombre FROM meta.dependencia WHERE activo ORDER BY nombre`)
	if err != nil {
		return nil, fmt.Errorf("portal: dependencias: %w", err)
	}
	defer rows.Close()
	var out []depOption
	for rows.Next() {
		var d depOption
		if err := rows.Scan(&d.ID, &d.Nombre); err != nil {
			return nil, err
		}
		if u.Can(account.ManageCatalogs, &d.ID) {
			out = append(out, d)
		}
	}
	return out, rows.Err()
}

// freeTables are the tables of cat that are not catalogs yet.
func (s *Server) freeTables(ctx context.Context) ([]string, error) {
	rows, err := s.opts.Pool.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'cat' AND c.relkind IN ('r', 'p')
		AND NOT EXISTS (SELECT 1 FROM meta.catalog m WHERE m.table_name = c.relname) ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("portal: tables of cat: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Server) fillChoices(c *echo.Context, f *catalogForm) error {
	var err error
	if f.Dependencias, err = s.managedDependencias(c.Request().Context(), s.caller(c)); err != nil {
		return err
	}
	if !f.Editing {
		f.Tablas, err = s.freeTables(c.Request().Context())
	}
	return err
}

func (s *Server) newCatalogForm(c *echo.Context) error {
	f := catalogForm{Origin: string(catalog.Interno), Tabla: c.QueryParam("tabla")}
	if err := s.fillChoices(c, &f); err != nil {
		return err
	}
	if len(f.Dependencias) == 1 {
		f.DependenciaID = f.Dependencias[0].ID
	}
	return s.render(c, http.StatusOK, "catalogo_form.html", f)
}

// readForm reads the details of the form.
func readForm(c *echo.Context, f *catalogForm) {
	f.Clave = strings.TrimSpace(c.FormValue("clave"))
	f.Title = strings.TrimSpace(c.FormValue("titulo"))
	f.Description = strings.TrimSpace(c.FormValue("descripcion"))
	f.DependenciaID, _ = strconv.ParseInt(c.FormValue("dependencia"), 10, 64)
	f.Tabla = strings.TrimSpace(c.FormValue("tabla"))
	f.Definicion = c.FormValue("definicion")
	if fh, err := c.FormFile("archivo_definicion"); err == nil && fh.Size > 0 {
		if r, err := fh.Open(); err == nil {
			b, _ := io.ReadAll(io.LimitReader(r, 2<<20))
			r.Close()
			f.Definicion = string(b)
		}
	}
	f.Steward = strings.TrimSpace(c.FormValue("responsable"))
	f.StewardEmail = strings.TrimSpace(c.FormValue("correo"))
	f.Keywords = c.FormValue("palabras")
	f.License = strings.TrimSpace(c.FormValue("licencia"))
	f.Origin = c.FormValue("origen")
	f.OriginEntity = strings.TrimSpace(c.FormValue("entidad_origen"))
	f.Mechanism = strings.TrimSpace(c.FormValue("mecanismo"))
	f.Period = strings.TrimSpace(c.FormValue("periodicidad"))
	f.PublishValid = c.FormValue("publicar_validos") != ""
}

func (f *catalogForm) metadata() catalog.Metadata {
	var kw []string
	for _, k := range strings.Split(f.Keywords, ",") {
		if k = strings.TrimSpace(k); k != "" {
			kw = append(kw, k)
		}
	}
	return catalog.Metadata{Steward: f.Steward, StewardEmail: f.StewardEmail, Keywords: kw, License: f.License,
		Origin: catalog.Origin(f.Origin), OriginEntity: f.OriginEntity, UpdateMechanism: f.Mechanism, Periodicity: f.Period}
}

// definition reads the pasted or uploaded definition, or the picked table
// of cat; the error is Spanish and says where.
func (s *Server) definition(ctx context.Context, f *catalogForm) (*tableschema.Resource, error) {
	if strings.TrimSpace(f.Definicion) != "" {
		res, err := tableschema.Parse(strings.NewReader(f.Definicion))
		if err != nil {
			return nil, fmt.Errorf("la definición no es válida: %w", err)
		}
		return &res, nil
	}
	if f.Tabla == "" {
		return nil, errors.New("elija la «Tabla del Catálogo» entre las tablas de cat, o pegue o suba su definición")
	}
	live, err := introspect.Read(ctx, s.opts.Pool, catalog.Schema, strings.TrimPrefix(f.Tabla, catalog.Schema+"."))
	if err != nil {
		if errors.Is(err, introspect.ErrNotFound) {
			return nil, fmt.Errorf("no existe la tabla %s.%s", catalog.Schema, f.Tabla)
		}
		return nil, err
	}
	res, err := catalog.DefinitionFromTable(live, true)
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// reviewed reads the form's definition and checks its names; it shows the
// form again (shown) when the definition is unreadable or the steward only
// asked for the review («Revisar nomenclatura»).
func (s *Server) reviewed(c *echo.Context, f *catalogForm) (res *tableschema.Resource, shown bool, err error) {
	res, err = s.definition(c.Request().Context(), f)
	if err != nil {
		f.Error = err.Error()
		return nil, true, s.render(c, http.StatusUnprocessableEntity, "catalogo_form.html", *f)
	}
	rep := s.opts.Nomenclature.CheckResource(res)
	f.Report, f.Checked = &rep, true
	if c.FormValue("accion") != "guardar" {
		return nil, true, s.render(c, http.StatusOK, "catalogo_form.html", *f)
	}
	return res, false, nil
}

func (s *Server) formError(f *catalogForm, err error) {
	var ce *catalog.Error
	if errors.As(err, &ce) {
		f.Error, f.Details = ce.Message, ce.Details
		return
	}
	f.Error = err.Error()
}

func (s *Server) newCatalogSave(c *echo.Context) error {
	ctx := c.Request().Context()
	var f catalogForm
	readForm(c, &f)
	if err := s.fillChoices(c, &f); err != nil {
		return err
	}
	res, shown, err := s.reviewed(c, &f)
	if shown || err != nil {
		return err
	}
	def := catalog.NewCatalog{Resource: *res, Clave: f.Clave, Title: f.Title, Description: f.Description,
		DependenciaID: f.DependenciaID, PublishValidRows: f.PublishValid, Metadata: f.metadata()}
	actor := actorOf(s.caller(c))
	var cat *catalog.Catalog
	if strings.TrimSpace(f.Definicion) == "" {
		cat, err = s.catalogs().Register(ctx, actor, f.Tabla, def)
	} else {
		cat, err = s.catalogs().Create(ctx, actor, def)
	}
	if err != nil {
		s.formError(&f, err)
		return s.render(c, http.StatusUnprocessableEntity, "catalogo_form.html", f)
	}
	if err := s.saveInstructivo(c, actor, cat.Clave); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/catalogos/"+cat.Clave+"/editar?guardado=1")
}

// saveInstructivo stores the «Archivo de instrucciones» when one was sent.
func (s *Server) saveInstructivo(c *echo.Context, actor catalog.Actor, clave string) error {
	fh, err := c.FormFile("instructivo")
	if err != nil || fh.Size == 0 {
		return nil
	}
	r, err := fh.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	pdf, err := io.ReadAll(io.LimitReader(r, 20<<20))
	if err != nil {
		return err
	}
	if err := s.catalogs().SetInstructivo(c.Request().Context(), actor, clave, fh.Filename, pdf); err != nil {
		return catalogProblem(err)
	}
	return nil
}

// managedCatalog is the catalog :clave if the caller may edit it.
func (s *Server) managedCatalog(c *echo.Context) (*catalog.Catalog, error) {
	cat, err := s.catalogs().ByClave(c.Request().Context(), c.Param("clave"))
	if err != nil {
		return nil, catalogProblem(err)
	}
	u := s.caller(c)
	if !u.Can(account.ManageCatalogs, &cat.DependenciaID) && !u.Can(account.ReviewCatalogs, &cat.DependenciaID) {
		return nil, forbidden(account.ManageCatalogs)
	}
	return cat, nil
}

func (s *Server) editForm(c *echo.Context, cat *catalog.Catalog) (catalogForm, error) {
	def, _ := json.MarshalIndent(cat.Resource, "", "  ")
	f := catalogForm{Editing: true, Cat: cat, Clave: cat.Clave, Title: cat.Title, Description: cat.Description,
		DependenciaID: cat.DependenciaID, Tabla: cat.Table, Definicion: string(def), Steward: cat.Steward,
		StewardEmail: cat.StewardEmail, Keywords: strings.Join(cat.Keywords, ", "), License: cat.License,
		Origin: string(cat.Origin), OriginEntity: cat.OriginEntity, Mechanism: cat.UpdateMechanism,
		Period: cat.Periodicity, PublishValid: cat.PublishValidRows}
	for _, a := range catalog.Allowed(actorOf(s.caller(c)), cat) {
		f.Actions = append(f.Actions, string(a))
	}
	return f, s.fillChoices(c, &f)
}

func (s *Server) editCatalogForm(c *echo.Context) error {
	cat, err := s.managedCatalog(c)
	if err != nil {
		return err
	}
	f, err := s.editForm(c, cat)
	if err != nil {
		return err
	}
	if c.QueryParam("guardado") != "" {
		f.Saved = "Los cambios se guardaron."
	}
	return s.render(c, http.StatusOK, "catalogo_form.html", f)
}

func (s *Server) editCatalogSave(c *echo.Context) error {
	ctx := c.Request().Context()
	cat, err := s.managedCatalog(c)
	if err != nil {
		return err
	}
	f, err := s.editForm(c, cat)
	if err != nil {
		return err
	}
	readForm(c, &f)
	f.Tabla, f.Clave = cat.Table, cat.Clave
	res, shown, err := s.reviewed(c, &f)
	if shown || err != nil {
		return err
	}
	md := f.metadata()
	e := catalog.Edit{Title: f.Title, Description: f.Description, Metadata: &md, PublishValidRows: &f.PublishValid}
	if old, _ := json.Marshal(cat.Resource); !jsonEqual(old, res) {
		e.Resource = res
	}
	actor := actorOf(s.caller(c))
	if _, err := s.catalogs().Edit(ctx, actor, cat.Clave, e); err != nil {
		s.formError(&f, err)
		return s.render(c, http.StatusUnprocessableEntity, "catalogo_form.html", f)
	}
	if err := s.saveInstructivo(c, actor, cat.Clave); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/catalogos/"+cat.Clave+"/editar?guardado=1")
}

func jsonEqual(old []byte, res *tableschema.Resource) bool {
	nw, _ := json.Marshal(res)
	var a, b any
	_ = json.Unmarshal(old, &a)
	_ = json.Unmarshal(nw, &b)
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func (s *Server) catalogAction(c *echo.Context) error {
	clave := c.Param("clave")
	_, err := s.catalogs().Transition(c.Request().Context(), actorOf(s.caller(c)), clave,
		catalog.Action(c.FormValue("accion")), strings.TrimSpace(c.FormValue("observaciones")))
	if err != nil {
		var ce *catalog.Error
		if errors.As(err, &ce) && ce.Kind != catalog.KindNotFound && ce.Kind != catalog.KindForbidden {
			cat, err2 := s.managedCatalog(c)
			if err2 != nil {
				return err2
			}
			f, err2 := s.editForm(c, cat)
			if err2 != nil {
				return err2
			}
			s.formError(&f, err)
			return s.render(c, http.StatusUnprocessableEntity, "catalogo_form.html", f)
		}
		return catalogProblem(err)
	}
	return c.Redirect(http.StatusSeeOther, "/catalogos/"+clave)
}

type loadFormView struct {
	Cat   *catalog.Catalog
	Error string
	Runs  []pipeline.Run
}

func (s *Server) loadForm(c *echo.Context) error {
	cat, err := s.loadableCatalog(c)
	if err != nil {
		return err
	}
	runs, err := pipeline.ListRuns(c.Request().Context(), s.opts.Pool, cat.ID, 0, 20)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "catalogo_carga.html", loadFormView{Cat: cat, Runs: runs})
}

func (s *Server) loadStart(c *echo.Context) error {
	cat, err := s.loadableCatalog(c)
	if err != nil {
		return err
	}
	run, err := s.startUpload(c, cat, "archivo", "solo_validar")
	if err != nil {
		var p *Problem
		if errors.As(err, &p) && p.Status < 500 {
			return s.render(c, http.StatusUnprocessableEntity, "catalogo_carga.html", loadFormView{Cat: cat, Error: p.Detail})
		}
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/catalogos/"+cat.Clave+"/cargas/"+strconv.FormatInt(run.ID, 10))
}

type loadPageView struct {
	Cat     *catalog.Catalog
	Run     *pipeline.Run
	Done    bool
	Percent int
}

func (s *Server) loadPage(c *echo.Context) error {
	ctx := c.Request().Context()
	cat, err := s.catalogs().ByClave(ctx, c.Param("clave"))
	if err != nil {
		return catalogProblem(err)
	}
	if !mayReadRuns(s.caller(c), cat.DependenciaID) {
		return forbidden(account.LoadCatalogs)
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	run, err := pipeline.GetRun(ctx, s.opts.Pool, id)
	if err != nil || run.CatalogID != cat.ID {
		return &Problem{Status: http.StatusNotFound, Code: "no_encontrado", Title: "No encontrado", Detail: "No existe esa carga de este catálogo."}
	}
	v := loadPageView{Cat: cat, Run: run, Done: run.State.Finished()}
	if run.BytesTotal != nil && *run.BytesTotal > 0 {
		v.Percent = int(run.BytesRead * 100 / *run.BytesTotal)
	}
	if v.Done {
		v.Percent = 100
	}
	return s.render(c, http.StatusOK, "carga.html", v)
}
