package portal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// The public pages of the catalogs: home and search (/ and /catalogos), a
// catalog's page (/catalogos/:clave) and what changed in one of its
// versions (/catalogos/:clave/versiones/:n).

const searchPageSize = 20

type searchPage struct {
	Q, Dependencia, Estado, Palabra string
	Results                         []catalog.Summary
	Total                           int64
	Page, Pages                     int
	PrevURL, NextURL                string
	Dependencias, Palabras          []catalog.Facet
	States                          []catalog.State
	Internal                        bool
	Searched                        bool
	DependenciaCount                int64
	CanRegister                     bool
}

func (s *Server) bindHome() {
	s.echo.GET("/", s.searchPage)
	s.echo.GET("/catalogos", s.searchPage)
	s.echo.GET("/catalogos/:clave", s.catalogPage)
	s.echo.GET("/catalogos/:clave/versiones/:n", s.versionPage)
}

func (s *Server) searchPage(c *echo.Context) error {
	ctx := c.Request().Context()
	u := s.caller(c)
	p := searchPage{
		Q: strings.TrimSpace(c.QueryParam("q")), Dependencia: c.QueryParam("dependencia"), Estado: c.QueryParam("estado"),
		Palabra: c.QueryParam("palabra"), Internal: u.Holds(account.ReadInternal), States: catalog.States,
		CanRegister: u.Holds(account.ManageCatalogs),
	}
	p.Searched = p.Q != "" || p.Dependencia != "" || p.Estado != "" || p.Palabra != ""
	p.Page, _ = strconv.Atoi(c.QueryParam("pagina"))
	if p.Page < 1 {
		p.Page = 1
	}
	q := catalog.SearchQuery{Text: p.Q, DependenciaClave: p.Dependencia, Keyword: p.Palabra, PublicOnly: !p.Internal,
		Limit: searchPageSize, Offset: (p.Page - 1) * searchPageSize}
	if p.Estado != "" && p.Internal {
		if !catalog.State(p.Estado).Valid() {
			return &Problem{Status: http.StatusBadRequest, Code: "estado_invalido", Title: "Solicitud inválida",
				Detail: "El estado «" + p.Estado + "» no existe."}
		}
		q.State = catalog.State(p.Estado)
	}
	res, err := s.catalogs().Search(ctx, q)
	if err != nil {
		return err
	}
	p.Results, p.Total = res.Catalogs, res.Total
	p.Pages = int((res.Total + searchPageSize - 1) / searchPageSize)
	link := func(page int) string {
		v := url.Values{}
		for k, x := range map[string]string{"q": p.Q, "dependencia": p.Dependencia, "estado": p.Estado, "palabra": p.Palabra} {
			if x != "" {
				v.Set(k, x)
			}
		}
		v.Set("pagina", strconv.Itoa(page))
		return "/catalogos?" + v.Encode()
	}
	if p.Page > 1 {
		p.PrevURL = link(p.Page - 1)
	}
	if res.More {
		p.NextURL = link(p.Page + 1)
	}
	if p.Dependencias, p.Palabras, err = s.catalogs().Facets(ctx, !p.Internal); err != nil {
		return err
	}
	if err := s.opts.Pool.QueryRow(ctx, `SELECT count(*) FROM meta.dependencia WHERE activo`).Scan(&p.DependenciaCount); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "home.html", p)
}

type fieldView struct {
	Name, Title, Type, Description, Constraints string
	Key, Required                               bool
}

type connectorView struct {
	Name, Kind, Status, StatusText string
	LastCheck                      *time.Time
	Uptime                         []string // "24h: 99.5 % (288 revisiones)"
}

type catalogPageView struct {
	Cat         *catalog.Catalog
	Sum         catalog.Summary
	Fields      []fieldView
	Columns     []string
	Rows        [][]string
	RowsError   string
	Q, Campo    string
	Valor       string
	NextURL     string
	FirstURL    string
	Version     int
	Versions    []catalog.Version
	Downloads   []downloadLink
	Connectors  []connectorView
	Internal    bool
	CanManage   bool
	CanLoad     bool
	Transitions []catalog.Transition
	API         string
}

type downloadLink struct{ Name, URL string }

func describeConstraints(f tableschema.Field) string {
	var parts []string
	k := f.Constraints
	if k.Unique {
		parts = append(parts, "único")
	}
	if k.MinLength != nil {
		parts = append(parts, fmt.Sprintf("mín. %d caracteres", *k.MinLength))
	}
	if k.MaxLength != nil {
		parts = append(parts, fmt.Sprintf("máx. %d caracteres", *k.MaxLength))
	}
	if k.Minimum != nil {
		parts = append(parts, fmt.Sprintf("mínimo %v", k.Minimum))
	}
	if k.Maximum != nil {
		parts = append(parts, fmt.Sprintf("máximo %v", k.Maximum))
	}
	if k.Pattern != "" {
		parts = append(parts, "patrón "+k.Pattern)
	}
	if len(k.Enum) > 0 {
		vals := make([]string, len(k.Enum))
		for i, v := range k.Enum {
			vals[i] = fmt.Sprint(v)
		}
		parts = append(parts, "valores: "+strings.Join(vals, ", "))
	}
	return strings.Join(parts, "; ")
}

// cellText writes a JSON value of a row for a table cell.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "sí"
		}
		return "no"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *Server) catalogPage(c *echo.Context) error {
	ctx := c.Request().Context()
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	u := s.caller(c)
	store := s.catalogs()
	res, err := store.Search(ctx, catalog.SearchQuery{Claves: []string{cat.Clave}, WithoutTotalCount: true})
	if err != nil {
		return err
	}
	if len(res.Catalogs) != 1 {
		return catalogProblem(&catalog.Error{Kind: catalog.KindNotFound, Message: "no existe el catálogo «" + cat.Clave + "»"})
	}
	v := catalogPageView{Cat: cat, Sum: res.Catalogs[0], Internal: u.Can(account.ReadInternal, &cat.DependenciaID),
		CanManage: u.Can(account.ManageCatalogs, &cat.DependenciaID), CanLoad: u.Can(account.LoadCatalogs, &cat.DependenciaID),
		Q: c.QueryParam("q"), Campo: c.QueryParam("campo"), Valor: c.QueryParam("valor"),
		API: "/api/v1/catalogs/" + cat.Clave}
	fields, types, err := catalog.Columns(cat)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	for _, k := range cat.Resource.Schema.PrimaryKey {
		keys[k] = true
	}
	for i, f := range fields {
		v.Fields = append(v.Fields, fieldView{Name: f.Name, Title: f.Title, Type: types[i].String(), Description: f.Description,
			Constraints: describeConstraints(f), Key: keys[f.Name], Required: f.Constraints.Required || keys[f.Name]})
		v.Columns = append(v.Columns, f.Name)
	}
	// The rows view: a page of 50, filtered by text or by one field.
	if v.Version, err = strconv.Atoi(c.QueryParamOr("version", "0")); err != nil || v.Version < 0 {
		v.Version = 0
	}
	rq := catalog.RowsQuery{Limit: 50, Text: v.Q, After: c.QueryParam("despues"), Version: v.Version}
	if v.Campo != "" && v.Valor != "" {
		rq.Filters = []catalog.RowFilter{{Field: v.Campo, Value: v.Valor}}
	}
	base := url.Values{}
	for k, x := range map[string]string{"q": v.Q, "campo": v.Campo, "valor": v.Valor} {
		if x != "" {
			base.Set(k, x)
		}
	}
	if v.Version > 0 {
		base.Set("version", strconv.Itoa(v.Version))
	}
	v.FirstURL = "/catalogos/" + cat.Clave + "?" + base.Encode() + "#registros"
	page, err := store.Rows(ctx, cat, rq)
	switch {
	case catalog.IsKind(err, catalog.KindInvalid) || catalog.IsKind(err, catalog.KindNotFound):
		var ce *catalog.Error
		if errors.As(err, &ce) {
			v.RowsError = ce.Message
		}
	case err != nil:
		return err
	default:
		for _, raw := range page.Rows {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var obj map[string]any
			if err := dec.Decode(&obj); err != nil {
				return err
			}
			cells := make([]string, len(v.Columns))
			for i, col := range v.Columns {
				cells[i] = cellText(obj[col])
			}
			v.Rows = append(v.Rows, cells)
		}
		if page.Next != "" {
			next := url.Values{}
			for k, x := range base {
				next[k] = x
			}
			next.Set("despues", page.Next)
			v.NextURL = "/catalogos/" + cat.Clave + "?" + next.Encode() + "#registros"
		}
	}
	if v.Versions, err = store.Versions(ctx, cat.ID); err != nil {
		return err
	}
	api := "/api/v1/catalogs/" + cat.Clave + "/download."
	for _, f := range downloadFormats {
		v.Downloads = append(v.Downloads, downloadLink{Name: f.name, URL: api + f.ext})
		if f.ext == "csv" {
			v.Downloads = append(v.Downloads, downloadLink{Name: "CSV para Excel (UTF-8 con BOM)", URL: api + "csv?bom=1"})
		}
	}
	if v.Internal {
		if v.Connectors, err = s.catalogConnectors(c, cat); err != nil {
			return err
		}
		if v.Transitions, err = store.History(ctx, cat.ID); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, "catalogo.html", v)
}

// catalogConnectors are the connectors that load the catalog, with their
// last check and uptime.
func (s *Server) catalogConnectors(c *echo.Context, cat *catalog.Catalog) ([]connectorView, error) {
	ctx := c.Request().Context()
	rows, err := s.opts.Pool.Query(ctx, `SELECT id, name, kind, last_status, last_check_at FROM meta.connector
		WHERE target_catalog IN ($1, $2, $3) ORDER BY name`, cat.Clave, cat.Table, catalog.Schema+"."+cat.Table)
	if err != nil {
		return nil, fmt.Errorf("portal: connectors of %s: %w", cat.Clave, err)
	}
	var ids []int64
	var out []connectorView
	for rows.Next() {
		var id int64
		var cv connectorView
		if err := rows.Scan(&id, &cv.Name, &cv.Kind, &cv.Status, &cv.LastCheck); err != nil {
			rows.Close()
			return nil, err
		}
		cv.StatusText = health.Message(cv.Status)
		ids = append(ids, id)
		out = append(out, cv)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	all, err := health.UptimesOf(ctx, s.opts.Pool, health.KindConnector, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		for _, up := range all[id] {
			if up.Ratio == nil {
				out[i].Uptime = append(out[i].Uptime, up.Window+": sin revisiones")
				continue
			}
			out[i].Uptime = append(out[i].Uptime, fmt.Sprintf("%s: %.1f %% (%d revisiones)", up.Window, *up.Ratio*100, up.Checks))
		}
	}
	return out, nil
}

type versionPageView struct {
	Cat      *catalog.Catalog
	From, To int
	Columns  []string
	Changes  []changeView
	Added    int
	Modified int
	Removed  int
	Cut      bool
}

type changeView struct {
	Kind  catalog.DiffKind
	Label string
	Key   string
	Cells []changeCell
}

type changeCell struct {
	Old, New string
	Changed  bool
}

const maxChangesShown = 1000

func (s *Server) versionPage(c *echo.Context) error {
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	to, err := strconv.Atoi(c.Param("n"))
	if err != nil || to < 1 {
		return &Problem{Status: http.StatusNotFound, Code: "no_encontrado", Title: "No encontrado", Detail: "«" + c.Param("n") + "» no es un número de versión."}
	}
	v := versionPageView{Cat: cat, To: to, From: to - 1}
	if f, err := strconv.Atoi(c.QueryParam("desde")); err == nil && f >= 0 {
		v.From = f
	}
	fields, _, err := catalog.Columns(cat)
	if err != nil {
		return err
	}
	for _, f := range fields {
		v.Columns = append(v.Columns, f.Name)
	}
	labels := map[catalog.DiffKind]string{catalog.Added: "alta", catalog.Changed: "cambio", catalog.Removed: "baja"}
	text := func(row []any, i int) string {
		if row == nil {
			return ""
		}
		return textOf(row[i])
	}
	err = s.catalogs().Diff(c.Request().Context(), cat, v.From, v.To, func(d catalog.DiffRow) error {
		switch d.Kind {
		case catalog.Added:
			v.Added++
		case catalog.Changed:
			v.Modified++
		case catalog.Removed:
			v.Removed++
		}
		if len(v.Changes) >= maxChangesShown {
			v.Cut = true
			return nil
		}
		keys := make([]string, len(d.Key))
		for i, k := range d.Key {
			keys[i] = textOf(k)
		}
		ch := changeView{Kind: d.Kind, Label: labels[d.Kind], Key: strings.Join(keys, " · ")}
		for i := range fields {
			old, nw := text(d.Old, i), text(d.New, i)
			ch.Cells = append(ch.Cells, changeCell{Old: old, New: nw, Changed: d.Kind == catalog.Changed && old != nw})
		}
		v.Changes = append(v.Changes, ch)
		return nil
	})
	if err != nil {
		return catalogProblem(err)
	}
	return s.render(c, http.StatusOK, "catalogo_version.html", v)
}
