package portal

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/instructivo"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// catalogSummary is a catalog in a list.
type catalogSummary struct {
	Clave          string   `json:"clave"`
	Title          string   `json:"title"`
	Description    string   `json:"description"`
	Table          string   `json:"table"`
	State          string   `json:"state"`
	DependenciaID  int64    `json:"dependencia_id"`
	CurrentVersion int      `json:"current_version"`
	Keywords       []string `json:"keywords"`
}

// catalogView is one catalog with its metadata (F-DGTIT-DAID-GGD-4).
type catalogView struct {
	catalogSummary
	Metadata         catalog.Metadata `json:"metadata"`
	PublishValidRows bool             `json:"publish_valid_rows"`
	HasInstructivo   bool             `json:"has_instructivo"`
	CreatedBy        string           `json:"created_by"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
	PublishedAt      *time.Time       `json:"published_at,omitempty"`
	Revision         *revisionView    `json:"revision,omitempty"`
	// Actions the caller may take now (enviar, observar, aprobar, publicar, retirar).
	Actions []string `json:"actions"`
}

type revisionView struct {
	Number  int              `json:"number"`
	State   string           `json:"state"`
	Forced  bool             `json:"forced"`
	Changes []catalog.Change `json:"changes"`
}

type versionView struct {
	Number   int       `json:"number"`
	Rows     int64     `json:"rows"`
	Added    int64     `json:"added"`
	Changed  int64     `json:"changed"`
	Removed  int64     `json:"removed"`
	Checksum string    `json:"checksum"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	RunID    *int64    `json:"run_id,omitempty"`
}

type transitionView struct {
	Action       string    `json:"action"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	Revision     *int      `json:"revision,omitempty"`
	By           string    `json:"by"`
	At           time.Time `json:"at"`
	Observations string    `json:"observations,omitempty"`
}

// createCatalogRequest registers a catalog from its definition.
type createCatalogRequest struct {
	Definition       tableschema.Resource `json:"definition"`
	Clave            string               `json:"clave,omitempty"`
	Title            string               `json:"title,omitempty"`
	Description      string               `json:"description,omitempty"`
	DependenciaID    int64                `json:"dependencia_id"`
	PublishValidRows bool                 `json:"publish_valid_rows,omitempty"`
	Metadata         catalog.Metadata     `json:"metadata"`
	// Publish bootstraps a published catalog (Super Administrador only).
	Publish bool `json:"publish,omitempty"`
}

type transitionRequest struct {
	Action       string `json:"action"` // enviar, observar, aprobar, publicar, retirar
	Observations string `json:"observations,omitempty"`
}

func (s *Server) catalogs() *catalog.Store { return s.opts.Catalogs }

func actorOf(u *account.User) catalog.Actor {
	if u == nil {
		return catalog.Actor{}
	}
	return catalog.Actor{UserID: u.ID, Login: u.Login, Profile: u.Profile, DependenciaID: u.DependenciaID}
}

// catalogProblem answers a catalog refusal with its Spanish message.
func catalogProblem(err error) error {
	var ce *catalog.Error
	if !errors.As(err, &ce) {
		return err
	}
	status := map[catalog.ErrorKind]int{
		catalog.KindNotFound: http.StatusNotFound, catalog.KindForbidden: http.StatusForbidden,
		catalog.KindTransition: http.StatusConflict, catalog.KindConflict: http.StatusConflict,
		catalog.KindBreaking: http.StatusConflict, catalog.KindInvalid: http.StatusUnprocessableEntity,
	}[ce.Kind]
	if status == 0 {
		status = http.StatusUnprocessableEntity
	}
	p := &Problem{Status: status, Code: "catalogo_" + string(ce.Kind), Title: statusTitles[status][1], Detail: ce.Message, cause: err}
	for _, d := range ce.Details {
		p.Errors = append(p.Errors, ProblemItem{Message: d})
	}
	return p
}

// visibleCatalog returns the catalog :clave if the caller may see it: a
// published catalog is public; the others are internal.
func (s *Server) visibleCatalog(c *echo.Context) (*catalog.Catalog, error) {
	cat, err := s.catalogs().ByClave(c.Request().Context(), c.Param("clave"))
	if err != nil {
		return nil, catalogProblem(err)
	}
	if !cat.Public() && !s.caller(c).Can(account.ReadInternal, &cat.DependenciaID) {
		return nil, catalogProblem(&catalog.Error{Kind: catalog.KindNotFound, Message: "no existe el catálogo «" + cat.Clave + "» o no está publicado"})
	}
	return cat, nil
}

func summaryOf(c *catalog.Catalog) catalogSummary {
	kw := c.Keywords
	if kw == nil {
		kw = []string{}
	}
	return catalogSummary{Clave: c.Clave, Title: c.Title, Description: c.Description, Table: catalog.Schema + "." + c.Table,
		State: string(c.State), DependenciaID: c.DependenciaID, CurrentVersion: c.CurrentVersion, Keywords: kw}
}

func viewOf(c *catalog.Catalog, caller *account.User) catalogView {
	v := catalogView{catalogSummary: summaryOf(c), Metadata: c.Metadata, PublishValidRows: c.PublishValidRows,
		HasInstructivo: c.HasInstructivo, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		PublishedAt: c.PublishedAt, Actions: []string{}}
	if c.Revision != nil {
		v.Revision = &revisionView{Number: c.Revision.Number, State: string(c.Revision.State), Forced: c.Revision.Forced, Changes: c.Revision.Changes}
	}
	if caller != nil {
		for _, a := range catalog.Allowed(actorOf(caller), c) {
			v.Actions = append(v.Actions, string(a))
		}
	}
	return v
}

func (s *Server) bindCatalogs() {
	if s.catalogs() == nil {
		return
	}
	s.bindCatalogList()
	s.api(http.MethodGet, "/api/v1/catalogs/:clave", s.apiCatalogShow, APIDoc{
		Summary: "Un catálogo: metadatos, estado, versión vigente, revisión pendiente", Tag: "catálogos", Response: catalogView{},
	})
	s.api(http.MethodGet, "/api/v1/catalogs/:clave/schema", s.apiCatalogSchema, APIDoc{
		Summary: "Diccionario de datos del catálogo (Frictionless Table Schema)", Tag: "catálogos",
		Description: "La definición registrada del catálogo: la única fuente del diccionario, del DDL de su tabla y de la validación de cargas.",
		Response:    tableschema.Resource{},
	})
	s.api(http.MethodGet, "/api/v1/catalogs/:clave/versions", s.apiCatalogVersions, APIDoc{
		Summary: "Versiones publicadas de los datos del catálogo", Tag: "catálogos", Response: []versionView{},
	})
	s.api(http.MethodGet, "/api/v1/catalogs/:clave/transitions", s.apiCatalogTransitions, APIDoc{
		Summary: "Historia del ciclo de vida del catálogo", Tag: "catálogos", Auth: true, Response: []transitionView{},
	}, s.requirePermission(account.ReadInternal))
	s.api(http.MethodGet, "/api/v1/catalogs/:clave/instructivo", s.apiCatalogInstructivo, APIDoc{
		Summary: "Instructivo del catálogo (PDF)", Tag: "catálogos",
		Description: "El archivo de instrucciones subido por el responsable, o el generado a partir de los metadatos y el diccionario de datos.",
		Response:    []byte{}, ResponseContent: "application/pdf",
	})
	s.api(http.MethodPut, "/api/v1/catalogs/:clave/instructivo", s.apiCatalogInstructivoUpload, APIDoc{
		Summary: "Subir un instructivo hecho a mano (PDF) en lugar del generado", Tag: "catálogos", Auth: true,
		Body: []byte{}, BodyContent: "application/pdf", Status: http.StatusNoContent,
	}, s.requirePermission(account.ManageCatalogs))
	s.api(http.MethodDelete, "/api/v1/catalogs/:clave/instructivo", s.apiCatalogInstructivoDelete, APIDoc{
		Summary: "Quitar el instructivo subido (vuelve a servirse el generado)", Tag: "catálogos", Auth: true, Status: http.StatusNoContent,
	}, s.requirePermission(account.ManageCatalogs))
	s.allowLargeBody("/api/v1/catalogs/:clave/instructivo")
	s.api(http.MethodPost, "/api/v1/catalogs", s.apiCatalogCreate, APIDoc{
		Summary: "Registrar un catálogo a partir de su definición (queda en borrador)", Tag: "catálogos", Auth: true,
		Body: createCatalogRequest{}, Response: catalogView{}, Status: http.StatusCreated,
	}, s.requirePermission(account.ManageCatalogs))
	s.api(http.MethodPost, "/api/v1/catalogs/:clave/transitions", s.apiCatalogTransition, APIDoc{
		Summary: "Mover el catálogo (o su revisión) en el ciclo de vida", Tag: "catálogos", Auth: true,
		Body: transitionRequest{}, Response: catalogView{},
	}, s.requireSignIn)
}

func (s *Server) apiCatalogShow(c *echo.Context) error {
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewOf(cat, s.caller(c)))
}

func (s *Server) apiCatalogSchema(c *echo.Context) error {
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cat.Resource)
}

func (s *Server) apiCatalogVersions(c *echo.Context) error {
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	vs, err := s.catalogs().Versions(c.Request().Context(), cat.ID)
	if err != nil {
		return err
	}
	out := []versionView{}
	for _, v := range vs {
		out = append(out, versionView{Number: v.Number, Rows: v.Rows, Added: v.Added, Changed: v.Changed, Removed: v.Removed,
			Checksum: v.Checksum, By: v.By, At: v.At, RunID: v.RunID})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiCatalogTransitions(c *echo.Context) error {
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	ts, err := s.catalogs().History(c.Request().Context(), cat.ID)
	if err != nil {
		return err
	}
	out := []transitionView{}
	for _, t := range ts {
		out = append(out, transitionView{Action: string(t.Action), From: string(t.From), To: string(t.To), Revision: t.Revision,
			By: t.By, At: t.At, Observations: t.Observations})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiCatalogCreate(c *echo.Context) error {
	var req createCatalogRequest
	if err := c.Bind(&req); err != nil {
		return &Problem{Status: http.StatusUnprocessableEntity, Code: "datos_invalidos", Title: "Los datos enviados no son válidos",
			Detail: "El cuerpo debe ser JSON con «definition» (la definición del catálogo) y «dependencia_id».", cause: err}
	}
	cat, err := s.catalogs().Create(c.Request().Context(), actorOf(s.caller(c)), catalog.NewCatalog{
		Resource: req.Definition, Clave: req.Clave, Title: req.Title, Description: req.Description,
		DependenciaID: req.DependenciaID, PublishValidRows: req.PublishValidRows, Metadata: req.Metadata, Publish: req.Publish,
	})
	if err != nil {
		return catalogProblem(err)
	}
	return c.JSON(http.StatusCreated, viewOf(cat, s.caller(c)))
}

func (s *Server) apiCatalogTransition(c *echo.Context) error {
	var req transitionRequest
	if err := c.Bind(&req); err != nil {
		return &Problem{Status: http.StatusUnprocessableEntity, Code: "datos_invalidos", Title: "Los datos enviados no son válidos",
			Detail: "El cuerpo debe ser JSON con «action» y, si aplica, «observations».", cause: err}
	}
	cat, err := s.catalogs().Transition(c.Request().Context(), actorOf(s.caller(c)), c.Param("clave"), catalog.Action(req.Action), req.Observations)
	if err != nil {
		return catalogProblem(err)
	}
	return c.JSON(http.StatusOK, viewOf(cat, s.caller(c)))
}

func (s *Server) apiCatalogInstructivo(c *echo.Context) error {
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	name, pdf, err := s.catalogs().UploadedInstructivo(ctx, cat)
	if err != nil {
		return err
	}
	if pdf == nil {
		var dep string
		if err := s.opts.Pool.QueryRow(ctx, `SELECT nombre FROM meta.dependencia WHERE id = $1`, cat.DependenciaID).Scan(&dep); err != nil {
			return err
		}
		versions, err := s.catalogs().Versions(ctx, cat.ID)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := instructivo.Write(&buf, cat, instructivo.Info{BaseURL: s.baseURL(c), Dependencia: dep, Versions: versions}); err != nil {
			return err
		}
		pdf, name = buf.Bytes(), "instructivo-"+cat.Clave+".pdf"
	}
	c.Response().Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": name}))
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

func (s *Server) apiCatalogInstructivoUpload(c *echo.Context) error {
	pdf, err := io.ReadAll(io.LimitReader(c.Request().Body, catalog.MaxInstructivo+1))
	if err != nil {
		return err
	}
	name := c.QueryParam("nombre")
	if name == "" {
		name = "instructivo-" + c.Param("clave") + ".pdf"
	}
	if err := s.catalogs().SetInstructivo(c.Request().Context(), actorOf(s.caller(c)), c.Param("clave"), name, pdf); err != nil {
		return catalogProblem(err)
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) apiCatalogInstructivoDelete(c *echo.Context) error {
	if err := s.catalogs().SetInstructivo(c.Request().Context(), actorOf(s.caller(c)), c.Param("clave"), "", nil); err != nil {
		return catalogProblem(err)
	}
	return c.NoContent(http.StatusNoContent)
}
