package portal

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

type auditList struct {
	Items []audit.Line `json:"items"`
	// NextBefore, when present, is the "before" of the next (older) page.
	NextBefore *int64 `json:"next_before,omitempty"`
}

type auditPage struct {
	Lines      []audit.Line
	Actor      string
	ObjectType string
	ObjectID   string
	Action     string
	From, To   string
	NextBefore int64
	Error      string
}

// NextHref is the address of the next page, keeping the filters.
func (p auditPage) NextHref() template.URL {
	v := url.Values{}
	for k, val := range map[string]string{"actor": p.Actor, "tipo": p.ObjectType, "objeto": p.ObjectID, "accion": p.Action, "desde": p.From, "hasta": p.To} {
		if val != "" {
			v.Set(k, val)
		}
	}
	v.Set("antes", strconv.FormatInt(p.NextBefore, 10))
	return template.URL("/bitacora?" + v.Encode()) //nolint:gosec // built by url.Values.Encode
}

func (s *Server) bindAudit() {
	guard := s.requirePermission(account.ViewAudit)
	s.echo.GET("/bitacora", s.auditPage, guard)
	s.api(http.MethodGet, "/api/v1/audit", s.apiAudit, APIDoc{
		Summary:     "Bitácora: cada cambio a usuarios, catálogos y conectores",
		Description: "Más reciente primero; paginación por llave (before = next_before de la página anterior).",
		Tag:         "bitácora", Auth: true, Response: auditList{},
		Query: []Param{
			{Name: "actor", Description: "Usuario (login) que hizo el cambio"},
			{Name: "object_type", Description: "user, catalog, connector, …"},
			{Name: "object_id"},
			{Name: "action", Description: "Acción exacta (user.deactivate) o prefijo terminado en punto (user.)"},
			{Name: "from", Description: "Desde (RFC 3339, o AAAA-MM-DD en hora de la Ciudad de México), inclusive"},
			{Name: "to", Description: "Hasta (RFC 3339, o AAAA-MM-DD: el día completo), inclusive"},
			{Name: "before", Type: "integer"},
			{Name: "limit", Type: "integer", Description: "De 1 a 1000; 50 si se omite"},
		},
	}, guard)
}

// parseWhen reads a date bound: RFC 3339, or a day (YYYY-MM-DD) in Mexico
// City time; endOfDay makes a day bound inclusive (the next midnight).
func parseWhen(name, raw string, endOfDay bool) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", raw, mexicoCity())
	if err != nil {
		return time.Time{}, &Problem{Status: http.StatusBadRequest, Code: "parametro_invalido", Title: "Solicitud inválida",
			Detail: "«" + name + "» debe ser una fecha AAAA-MM-DD o RFC 3339; se recibió «" + raw + "».",
			Errors: []ProblemItem{{Field: name, Value: raw, Message: "no es una fecha"}}}
	}
	if endOfDay {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

func auditFilter(actor, objectType, objectID, action, from, to, fromName, toName string) (audit.Filter, error) {
	f := audit.Filter{Actor: strings.TrimSpace(actor), ObjectType: strings.TrimSpace(objectType), ObjectID: strings.TrimSpace(objectID), Action: strings.TrimSpace(action)}
	var err error
	if f.From, err = parseWhen(fromName, from, false); err != nil {
		return f, err
	}
	f.To, err = parseWhen(toName, to, true)
	return f, err
}

func (s *Server) auditPage(c *echo.Context) error {
	noStore(c)
	p := auditPage{Actor: c.QueryParam("actor"), ObjectType: c.QueryParam("tipo"), ObjectID: c.QueryParam("objeto"),
		Action: c.QueryParam("accion"), From: c.QueryParam("desde"), To: c.QueryParam("hasta")}
	f, err := auditFilter(p.Actor, p.ObjectType, p.ObjectID, p.Action, p.From, p.To, "desde", "hasta")
	if err != nil {
		p.Error = err.(*Problem).Detail
		return s.render(c, http.StatusBadRequest, "bitacora.html", p)
	}
	f.BeforeID, _ = strconv.ParseInt(c.QueryParam("antes"), 10, 64)
	f.Limit = 50
	lines, err := audit.List(c.Request().Context(), s.opts.Pool, f)
	if err != nil {
		return err
	}
	p.Lines = lines
	if len(lines) == f.Limit {
		p.NextBefore = lines[len(lines)-1].ID
	}
	return s.render(c, http.StatusOK, "bitacora.html", p)
}

func (s *Server) apiAudit(c *echo.Context) error {
	noStore(c)
	f, err := auditFilter(c.QueryParam("actor"), c.QueryParam("object_type"), c.QueryParam("object_id"), c.QueryParam("action"),
		c.QueryParam("from"), c.QueryParam("to"), "from", "to")
	if err != nil {
		return err
	}
	before, err := queryInt(c, "before")
	if err != nil {
		return err
	}
	if before != nil {
		f.BeforeID = *before
	}
	if f.Limit, err = queryLimit(c, 50); err != nil {
		return err
	}
	lines, err := audit.List(c.Request().Context(), s.opts.Pool, f)
	if err != nil {
		return err
	}
	out := auditList{Items: lines}
	if out.Items == nil {
		out.Items = []audit.Line{}
	}
	if len(lines) == f.Limit {
		last := lines[len(lines)-1].ID
		out.NextBefore = &last
	}
	return c.JSON(http.StatusOK, out)
}
