package portal

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// The read API of the catalogs' data: anonymous readers see published
// catalogs only; signed-in users with internal reading see all (visibleCatalog).

func badParam(name, value, why string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: "parametro_invalido", Title: "Parámetro inválido",
		Detail: fmt.Sprintf("El parámetro «%s» con valor «%s» no es válido: %s.", name, value, why),
		Errors: []ProblemItem{{Field: name, Value: value, Message: why}}}
}

// intParam reads an optional non-negative integer query parameter.
func intParam(c *echo.Context, name string, def, max int) (int, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, badParam(name, raw, "debe ser un número entero no negativo")
	}
	if max > 0 && n > max {
		return 0, badParam(name, raw, fmt.Sprintf("el máximo es %d", max))
	}
	return n, nil
}

// siteURL is the public address of the portal without a trailing slash.
func (s *Server) siteURL(c *echo.Context) string { return strings.TrimRight(s.baseURL(c), "/") }

// catalogList is the answer of GET /api/v1/catalogs.
type catalogList struct {
	Items []catalog.Summary `json:"items"`
	Total int64             `json:"total"`
	// Next is the "after" of the following page; empty on the last.
	Next string `json:"next,omitempty"`
}

// bindCatalogList replaces the plain list with the searchable, paged one.
func (s *Server) bindCatalogList() {
	s.api(http.MethodGet, "/api/v1/catalogs", s.apiCatalogs, APIDoc{
		Summary: "Lista y busca catálogos", Tag: "catálogos", Response: catalogList{},
		Description: "Sin sesión sólo aparecen los catálogos publicados. Paginación por llave: pase «next» como «after».",
		Query: []Param{
			{Name: "q", Description: "Búsqueda de texto completo sin acentos (títulos, descripciones, palabras clave, columnas)"},
			{Name: "dependencia", Description: "Clave de la dependencia"},
			{Name: "state", Description: "Estado: borrador, en_revision, con_observaciones, aprobado, publicado, retirado («estado» también se acepta)"},
			{Name: "keyword", Description: "Palabra clave exacta"},
			{Name: "limit", Type: "integer", Description: "Catálogos por página (1 a 500; 50 por omisión)"},
			{Name: "after", Description: "Clave del último catálogo de la página anterior"},
		}})
}

func (s *Server) bindCatalogAPI() {
	if s.catalogs() == nil {
		return
	}
	tag := "catálogos"
	s.api(http.MethodGet, "/api/v1/catalogs/:clave/rows", s.apiRows, APIDoc{
		Summary: "Registros de un catálogo, por páginas", Tag: tag, Response: rowsOut{},
		Description: "Paginación por llave primaria: la última página cuesta lo mismo que la primera. Cualquier otro parámetro cuyo nombre sea un campo filtra por igualdad (también «filter.CAMPO=valor»).",
		Query: []Param{
			{Name: "version", Type: "integer", Description: "Versión a leer (la vigente por omisión)"},
			{Name: "fields", Description: "Campos a devolver, separados por comas"},
			{Name: "sort", Description: "Campo por el que ordenar; «-campo» en orden descendente"},
			{Name: "q", Description: "Texto contenido en el registro, sin distinguir acentos ni mayúsculas"},
			{Name: "limit", Type: "integer", Description: "Registros por página (1 a 1000; 100 por omisión)"},
			{Name: "after", Description: "Cursor «next» de la página anterior"},
		}})
	s.api(http.MethodGet, "/api/v1/catalogs/:clave/versions/:n/diff", s.apiDiff, APIDoc{
		Summary: "Qué cambió entre dos versiones", Tag: tag, Response: diffOut{},
		Query: []Param{{Name: "from", Type: "integer", Description: "Versión anterior (n-1 por omisión; 0 = nada)"}}})
	for _, f := range downloadFormats {
		s.api(http.MethodGet, "/api/v1/catalogs/:clave/download."+f.ext, s.apiDownload(f), APIDoc{
			Summary: "Descarga completa en " + f.name, Tag: tag, ResponseContent: f.contentType,
			Query: append([]Param{{Name: "version", Type: "integer", Description: "Versión (la vigente por omisión)"}}, f.params...)})
	}
	s.api(http.MethodGet, "/api/v1/catalogs/:clave/datapackage.json", s.apiDataPackage, APIDoc{
		Summary: "Data Package de Frictionless: esquema y direcciones de descarga", Tag: tag, Response: dataPackage{},
		Query: []Param{{Name: "version", Type: "integer", Description: "Versión (la vigente por omisión)"}}})
	s.echo.GET("/data.json", s.dataJSON)
}

func (s *Server) apiCatalogs(c *echo.Context) error {
	limit, err := intParam(c, "limit", 50, 500)
	if err != nil {
		return err
	}
	if limit == 0 {
		limit = 50
	}
	q := catalog.SearchQuery{
		Text:             c.QueryParam("q"),
		DependenciaClave: c.QueryParam("dependencia"),
		Keyword:          c.QueryParam("keyword"),
		After:            c.QueryParam("after"),
		Limit:            limit,
		OrderByClaveOnly: true,
		PublicOnly:       !s.caller(c).Holds(account.ReadInternal),
	}
	if st := c.QueryParamOr("state", c.QueryParam("estado")); st != "" {
		if !catalog.State(st).Valid() {
			return badParam("state", st, "los estados son borrador, en_revision, con_observaciones, aprobado, publicado y retirado")
		}
		q.State = catalog.State(st)
	}
	ctx := c.Request().Context()
	key := strings.Join([]string{strconv.FormatBool(q.PublicOnly), q.Text, q.DependenciaClave, q.Keyword,
		string(q.State), q.After, strconv.Itoa(q.Limit)}, "\x00")
	gen, genErr := s.catalogGen.Current(ctx)
	if genErr == nil {
		if a, ok := s.catalogLists.get(gen, key); ok {
			return a.write(c)
		}
	}
	res, err := s.catalogs().Search(ctx, q)
	if err != nil {
		return err
	}
	out := catalogList{Items: res.Catalogs, Total: res.Total}
	if out.Items == nil {
		out.Items = []catalog.Summary{}
	}
	if res.More {
		out.Next = out.Items[len(out.Items)-1].Clave
	}
	body, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("portal: catalog list: %w", err)
	}
	a := newCachedAnswer(append(body, '\n'))
	if genErr == nil {
		s.catalogLists.put(gen, key, a)
	}
	return a.write(c)
}

// rowsOut documents the answer of the rows API (written by hand: the rows
// come as JSON from PostgreSQL).
type rowsOut struct {
	Catalog string           `json:"catalog"`
	Version int              `json:"version"`
	Fields  []string         `json:"fields"`
	Rows    []map[string]any `json:"rows"`
	Next    string           `json:"next,omitempty"`
	NextURL string           `json:"next_url,omitempty"`
}

// rowsParams are the rows API's own parameters; any other is a filter.
var rowsParams = map[string]bool{"version": true, "fields": true, "sort": true, "q": true, "limit": true, "after": true}

// rowsQuery reads the rows API's parameters.
func rowsQuery(c *echo.Context, cat *catalog.Catalog) (catalog.RowsQuery, error) {
	var q catalog.RowsQuery
	var err error
	if q.Version, err = intParam(c, "version", 0, 0); err != nil {
		return q, err
	}
	if q.Limit, err = intParam(c, "limit", 100, catalog.MaxPageRows); err != nil {
		return q, err
	}
	if f := c.QueryParam("fields"); f != "" {
		for _, name := range strings.Split(f, ",") {
			if name = strings.TrimSpace(name); name != "" {
				q.Fields = append(q.Fields, name)
			}
		}
	}
	if sort := c.QueryParam("sort"); sort != "" {
		q.Sort, q.Desc = strings.TrimPrefix(sort, "-"), strings.HasPrefix(sort, "-")
	}
	q.Text, q.After = c.QueryParam("q"), c.QueryParam("after")
	params := c.QueryParams()
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if rowsParams[name] {
			continue
		}
		field := strings.TrimPrefix(name, "filter.")
		if !isField(cat, field) {
			return q, badParam(name, params.Get(name), "no es un parámetro de esta API ni un campo del catálogo")
		}
		for _, v := range params[name] {
			q.Filters = append(q.Filters, catalog.RowFilter{Field: field, Value: v})
		}
	}
	return q, nil
}

func isField(cat *catalog.Catalog, name string) bool {
	for _, f := range cat.Resource.Schema.Fields {
		if f.Name == name && !catalog.IsControlColumn(name) {
			return true
		}
	}
	return false
}

func (s *Server) apiRows(c *echo.Context) error {
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	q, err := rowsQuery(c, cat)
	if err != nil {
		return err
	}
	page, err := s.catalogs().Rows(c.Request().Context(), cat, q)
	if err != nil {
		return catalogProblem(err)
	}
	out := rowsOut{Catalog: cat.Clave, Version: page.Version, Next: page.Next}
	for _, f := range page.Fields {
		out.Fields = append(out.Fields, f.Name)
	}
	if page.Next != "" {
		u := *c.Request().URL
		v := u.Query()
		v.Set("after", page.Next)
		u.RawQuery = v.Encode()
		out.NextURL = s.siteURL(c) + u.RequestURI()
	}
	// The rows are already JSON: write them as they came.
	head, err := json.Marshal(out)
	if err != nil {
		return err
	}
	resp := c.Response()
	resp.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	resp.WriteHeader(http.StatusOK)
	w := bufio.NewWriterSize(resp, 32<<10)
	_, _ = w.Write(head[:len(head)-1])
	_, _ = w.WriteString(`,"rows":[`)
	for i, r := range page.Rows {
		if i > 0 {
			_ = w.WriteByte(',')
		}
		_, _ = w.Write(r)
	}
	_, _ = w.WriteString("]}\n")
	return w.Flush()
}

// diffOut is what changed between two versions, row by row.
type diffOut struct {
	Catalog string       `json:"catalog"`
	From    int          `json:"from"`
	To      int          `json:"to"`
	Changes []diffChange `json:"changes"`
}

type diffChange struct {
	Kind catalog.DiffKind `json:"kind"`
	Key  []any            `json:"key"`
	Old  map[string]any   `json:"old,omitempty"`
	New  map[string]any   `json:"new,omitempty"`
}

func (s *Server) apiDiff(c *echo.Context) error {
	cat, err := s.visibleCatalog(c)
	if err != nil {
		return err
	}
	to, err := strconv.Atoi(c.Param("n"))
	if err != nil || to < 1 {
		return badParam("n", c.Param("n"), "debe ser un número de versión (1 o mayor)")
	}
	from, err := intParam(c, "from", to-1, 0)
	if err != nil {
		return err
	}
	fields, _, err := catalog.Columns(cat)
	if err != nil {
		return err
	}
	obj := func(row []any) map[string]any {
		if row == nil {
			return nil
		}
		m := make(map[string]any, len(row))
		for i, f := range fields {
			m[f.Name] = row[i]
		}
		return m
	}
	out := diffOut{Catalog: cat.Clave, From: from, To: to, Changes: []diffChange{}}
	err = s.catalogs().Diff(c.Request().Context(), cat, from, to, func(d catalog.DiffRow) error {
		if len(out.Changes) >= 100000 {
			return catalogProblem(&catalog.Error{Kind: catalog.KindInvalid, Message: "la diferencia tiene más de 100,000 registros; descargue ambas versiones completas"})
		}
		out.Changes = append(out.Changes, diffChange{Kind: d.Kind, Key: d.Key, Old: obj(d.Old), New: obj(d.New)})
		return nil
	})
	if err != nil {
		return catalogProblem(err)
	}
	return c.JSON(http.StatusOK, out)
}

// versionParam reads ?version= (0: current).
func versionParam(c *echo.Context) (int, error) { return intParam(c, "version", 0, 0) }

func attachment(c *echo.Context, contentType, name string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, contentType)
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, name, url.PathEscape(name)))
	h.Set("X-Content-Type-Options", "nosniff")
}

func fileName(cat *catalog.Catalog, version int, ext string) string {
	return fmt.Sprintf("%s-v%d.%s", cat.Clave, version, ext)
}

// dcatTime formats a time for metadata documents.
func dcatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
