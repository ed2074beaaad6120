package portal

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
)

type procedureSummary struct {
	Short         string `json:"clave_corta"`
	Clave         string `json:"clave"`
	Version       int    `json:"version"`
	Name          string `json:"nombre"`
	EstimatedTime string `json:"tiempo_estimado,omitempty"`
}

type procedureList struct {
	Items []procedureSummary `json:"items"`
}

type procedureDetail struct {
	Definition *procedure.Definition `json:"definicion"`
	Mermaid    string                `json:"diagrama_mermaid"`
}

type indicatorList struct {
	Items []procedure.IndicatorValue `json:"items"`
}

type caseList struct {
	Items []*procedure.Case `json:"items"`
	// NextAfter, when present, is the "despues" of the next page.
	NextAfter *int64 `json:"next_after,omitempty"`
}

type actionJSON struct {
	Action       string   `json:"accion"`
	Label        string   `json:"etiqueta"`
	To           string   `json:"a"`
	Form         string   `json:"formato,omitempty"`
	Requires     []string `json:"requiere,omitempty"`
	Observations bool     `json:"observaciones_obligatorias"`
}

type caseDetail struct {
	*procedure.Case
	StateLabel  string                  `json:"estado_etiqueta"`
	Roles       []string                `json:"mis_roles"`
	Actions     []actionJSON            `json:"acciones"`
	History     []procedure.Event       `json:"historial"`
	Clocks      []procedure.ClockStatus `json:"relojes"`
	Attachments []procedure.Attachment  `json:"adjuntos"`
	Links       []procedure.Link        `json:"vinculos"`
}

// attachIn documents the multipart upload of a document.
type attachIn struct {
	File string `json:"archivo" jsonschema:"required,description=el documento (hasta 20 MiB)"`
}

// caseOpenIn files a request: the procedure's short key and its start
// formato's fields.
type caseOpenIn struct {
	Procedure     string         `json:"procedimiento" jsonschema:"required"`
	Data          map[string]any `json:"datos,omitempty"`
	Observations  string         `json:"observaciones,omitempty"`
	DependenciaID *int64         `json:"dependencia_id,omitempty"`
}

// caseActIn takes an action; lock_version is the one the caller saw.
type caseActIn struct {
	Action       string         `json:"accion" jsonschema:"required"`
	LockVersion  int            `json:"lock_version" jsonschema:"required"`
	Data         map[string]any `json:"datos,omitempty"`
	Observations string         `json:"observaciones,omitempty"`
}

func (s *Server) bindProceduresAPI() {
	s.api(http.MethodGet, "/api/v1/procedimientos", s.apiProcedures, APIDoc{Summary: "Procedimientos del manual que corren en el portal", Tag: "tramites", Response: procedureList{}})
	s.api(http.MethodGet, "/api/v1/procedimientos/:clave", s.apiProcedure, APIDoc{Summary: "Definición de un procedimiento y su diagrama Mermaid", Tag: "tramites", Response: procedureDetail{}})
	s.api(http.MethodGet, "/api/v1/indicadores", s.apiIndicators, APIDoc{Summary: "Indicadores del proceso de gestión del gobierno de datos, calculados al momento", Tag: "tramites", Response: indicatorList{}})
	s.api(http.MethodGet, "/api/v1/tramites", s.apiCases, APIDoc{Summary: "Trámites visibles para quien llama (todos para los responsables)", Tag: "tramites", Auth: true, Response: caseList{},
		Query: []Param{{Name: "procedimiento", Description: "clave corta, p. ej. ADC-1.3"}, {Name: "estado"}, {Name: "q", Description: "folio o solicitante"},
			{Name: "abiertos", Description: "si: sólo los no concluidos"}, {Name: "despues", Type: "integer", Description: "cursor de la página siguiente"}}}, s.requireSignIn)
	s.api(http.MethodPost, "/api/v1/tramites", s.apiOpenCase, APIDoc{Summary: "Iniciar un trámite con su formato", Tag: "tramites", Auth: true,
		Body: caseOpenIn{}, Response: caseDetail{}, Status: http.StatusCreated}, s.requireSignIn)
	s.api(http.MethodGet, "/api/v1/tramites/:folio", s.apiCase, APIDoc{Summary: "Un trámite: datos, historial, acciones posibles para quien llama, relojes", Tag: "tramites", Auth: true, Response: caseDetail{}}, s.requireSignIn)
	s.api(http.MethodPost, "/api/v1/tramites/:folio/acciones", s.apiAct, APIDoc{Summary: "Realizar una acción del trámite (bloqueo optimista con lock_version)", Tag: "tramites", Auth: true,
		Description: "Una acción no permitida en el estado, un puesto que no la tiene, datos inválidos o faltantes, o un lock_version viejo se rechazan sin cambiar nada (403, 409 o 422).",
		Body:        caseActIn{}, Response: caseDetail{}}, s.requireSignIn)
	s.api(http.MethodPost, "/api/v1/tramites/:folio/adjuntos", s.apiAttach, APIDoc{Summary: "Adjuntar un documento al trámite (minuta, lista de asistencia, instructivo…)", Tag: "tramites", Auth: true,
		Body: attachIn{}, BodyContent: "multipart/form-data", Response: procedure.Attachment{}, Status: http.StatusCreated}, s.requireSignIn)
	s.allowLargeBody("/api/v1/tramites/:folio/adjuntos")
	s.api(http.MethodGet, "/api/v1/tramites/:folio/adjuntos/:id", s.sendAttachment, APIDoc{Summary: "Descargar un documento del trámite", Tag: "tramites", Auth: true,
		ResponseContent: "application/octet-stream"}, s.requireSignIn)
}

func (s *Server) apiAttach(c *echo.Context) error {
	cs, _, err := s.visibleCase(c, c.Param("folio"))
	if err != nil {
		return err
	}
	name, content, err := uploaded(c, "archivo")
	if err != nil {
		return err
	}
	a, err := s.opts.Procedures.Attach(c.Request().Context(), procedureActor(s.caller(c)), cs.Folio, name, content)
	if err != nil {
		return refusalProblem(err)
	}
	return c.JSON(http.StatusCreated, a)
}

func (s *Server) apiProcedures(c *echo.Context) error {
	out := procedureList{Items: []procedureSummary{}}
	for _, d := range s.opts.Procedures.Registry().All() {
		out.Items = append(out.Items, procedureSummary{Short: d.Short, Clave: d.Clave, Version: d.Version, Name: d.Name, EstimatedTime: d.EstimatedTime})
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiProcedure(c *echo.Context) error {
	d, err := s.newDefinition(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, procedureDetail{Definition: d, Mermaid: d.Mermaid("")})
}

func (s *Server) apiIndicators(c *echo.Context) error {
	ind, err := s.opts.Procedures.Indicators(c.Request().Context(), time.Now())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, indicatorList{Items: ind})
}

func (s *Server) apiCases(c *echo.Context) error {
	noStore(c)
	f, err := s.listFilter(c)
	if err != nil {
		return err
	}
	cases, err := s.opts.Procedures.List(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := caseList{Items: cases}
	if out.Items == nil {
		out.Items = []*procedure.Case{}
	}
	if len(cases) == f.Limit {
		next := cases[len(cases)-1].ID
		out.NextAfter = &next
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) caseDetail(c *echo.Context, cs *procedure.Case, roles []string) (caseDetail, error) {
	ctx := c.Request().Context()
	eng := s.opts.Procedures
	out := caseDetail{Case: cs, Roles: roles, Actions: []actionJSON{}}
	d, err := eng.Definition(ctx, cs.Short, cs.Version)
	if err != nil {
		return out, err
	}
	st, _ := d.State(cs.State)
	out.StateLabel = st.Label
	acts, err := eng.Actions(ctx, procedureActor(s.caller(c)), cs)
	if err != nil {
		return out, err
	}
	for _, t := range acts {
		out.Actions = append(out.Actions, actionJSON{Action: t.Action, Label: t.Label, To: t.To, Form: t.Form, Requires: t.Requires, Observations: t.Observations == "required"})
	}
	if out.History, err = eng.History(ctx, cs); err != nil {
		return out, err
	}
	if out.Clocks, err = eng.CaseClocks(ctx, cs, time.Now()); err != nil {
		return out, err
	}
	if out.Clocks == nil {
		out.Clocks = []procedure.ClockStatus{}
	}
	if out.Attachments, err = eng.Attachments(ctx, cs); err != nil {
		return out, err
	}
	if out.Links, err = eng.Links(ctx, cs); err != nil {
		return out, err
	}
	if out.Links == nil {
		out.Links = []procedure.Link{}
	}
	if out.Attachments == nil {
		out.Attachments = []procedure.Attachment{}
	}
	return out, nil
}

func (s *Server) apiOpenCase(c *echo.Context) error {
	var in caseOpenIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	actor := procedureActor(s.caller(c))
	if in.DependenciaID != nil && (actor.DependenciaID == nil || *in.DependenciaID != *actor.DependenciaID) {
		steward, err := s.opts.Procedures.Steward(c.Request().Context(), actor)
		if err != nil {
			return err
		}
		if !steward {
			return &Problem{Status: http.StatusForbidden, Code: "dependencia_ajena", Title: "No tiene permiso para esta acción",
				Detail: "Sólo puede iniciar trámites a nombre de su propia dependencia."}
		}
	}
	cs, err := s.opts.Procedures.Open(c.Request().Context(), actor, procedure.OpenInput{Short: in.Procedure, Data: in.Data,
		Observations: in.Observations, DependenciaID: in.DependenciaID})
	if err != nil {
		return refusalProblem(err)
	}
	roles, err := s.opts.Procedures.Roles(c.Request().Context(), actor, cs)
	if err != nil {
		return err
	}
	out, err := s.caseDetail(c, cs, roles)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

func (s *Server) apiCase(c *echo.Context) error {
	noStore(c)
	cs, roles, err := s.visibleCase(c, c.Param("folio"))
	if err != nil {
		return err
	}
	out, err := s.caseDetail(c, cs, roles)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) apiAct(c *echo.Context) error {
	cs, roles, err := s.visibleCase(c, c.Param("folio"))
	if err != nil {
		return err
	}
	var in caseActIn
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	d, err := s.opts.Procedures.Definition(c.Request().Context(), cs.Short, cs.Version)
	if err != nil {
		return err
	}
	cs, err = s.actOnCase(c, cs, d, procedure.ActInput{Action: in.Action, LockVersion: in.LockVersion, Data: in.Data, Observations: in.Observations},
		func(changes []userChange) error { return changesFromJSON(changes, in.Data) })
	if err != nil {
		return refusalProblem(err)
	}
	out, err := s.caseDetail(c, cs, roles)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
