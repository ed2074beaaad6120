package portal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// The CKAN-compatible read API (/api/3/action/…), so that CKAN clients
// and harvesters read the published catalogs unchanged: a catalog is a
// package (id and name: its clave), a dependencia an organization (id and
// name: its clave in lower case), each download format a resource; the CSV
// resource (id: the clave) is the one datastore_search reads. Only
// published catalogs are visible here. Answers carry CKAN's envelope
// {"help", "success", "result"} and its error shapes and statuses.

// ckanError is CKAN's error member: {"__type", "message"}, or for a
// Validation Error CKAN's error dictionary, a list of messages per
// parameter ({"__type": "Validation Error", "id": ["Missing value"]}).
type ckanError struct {
	status  int
	Type    string
	Message string
	Fields  map[string][]string
}

func (e *ckanError) Error() string {
	if e.Fields != nil {
		b, _ := json.Marshal(e.Fields)
		return e.Type + ": " + string(b)
	}
	return e.Type + ": " + e.Message
}

func (e *ckanError) MarshalJSON() ([]byte, error) {
	m := map[string]any{"__type": e.Type}
	if e.Fields != nil {
		for k, v := range e.Fields {
			m[k] = v
		}
	} else {
		m["message"] = e.Message
	}
	return json.Marshal(m)
}

func ckanNotFound(what string) *ckanError {
	return &ckanError{status: http.StatusNotFound, Type: "Not Found Error", Message: "No encontrado: " + what}
}

func ckanValidation(field, msg string) *ckanError {
	return &ckanError{status: http.StatusConflict, Type: "Validation Error", Fields: map[string][]string{field: {msg}}}
}

// ckanArgs are an action's parameters: the query string of a GET, or the
// JSON object of a POST (values kept as JSON).
type ckanArgs map[string]json.RawMessage

func (a ckanArgs) str(name string) string {
	raw, ok := a[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return strings.Trim(string(raw), `"`)
}

func (a ckanArgs) integer(name string, def, max int) (int, error) {
	raw := a.str(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 {
		return 0, ckanValidation(name, "debe ser un número entero no negativo («"+raw+"»)")
	}
	if max > 0 && n > max {
		n = max
	}
	return n, nil
}

func (a ckanArgs) boolean(name string, def bool) bool {
	switch strings.ToLower(a.str(name)) {
	case "true", "1", "yes", "si", "sí":
		return true
	case "false", "0", "no":
		return false
	}
	return def
}

// list reads a parameter given as a JSON array or a comma-separated text.
func (a ckanArgs) list(name string) []string {
	raw, ok := a[name]
	if !ok {
		return nil
	}
	var l []string
	if json.Unmarshal(raw, &l) == nil {
		return l
	}
	var out []string
	for _, s := range strings.Split(a.str(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func ckanArgsOf(c *echo.Context) (ckanArgs, error) {
	args := ckanArgs{}
	for k, v := range c.QueryParams() {
		raw, _ := json.Marshal(v[len(v)-1])
		args[k] = raw
	}
	if c.Request().Method == http.MethodPost && c.Request().ContentLength != 0 {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return nil, err
		}
		if len(strings.TrimSpace(string(body))) > 0 {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(body, &obj); err != nil {
				return nil, &ckanError{status: http.StatusBadRequest, Type: "Bad Request", Message: "Bad request - JSON Error: " + err.Error()}
			}
			for k, v := range obj {
				args[k] = v
			}
		}
	}
	return args, nil
}

type ckanAction func(s *Server, c *echo.Context, args ckanArgs) (any, error)

var ckanActions = map[string]ckanAction{
	"package_list":      (*Server).ckanPackageList,
	"package_show":      (*Server).ckanPackageShow,
	"package_search":    (*Server).ckanPackageSearch,
	"organization_list": (*Server).ckanOrganizationList,
	"organization_show": (*Server).ckanOrganizationShow,
	"datastore_search":  (*Server).ckanDatastoreSearch,
	"status_show":       (*Server).ckanStatusShow,
}

func (s *Server) bindCKAN() {
	if s.catalogs() == nil {
		return
	}
	h := func(c *echo.Context) error {
		name := c.Param("action")
		help := s.siteURL(c) + "/api/3/action/help_show?name=" + url.QueryEscape(name)
		write := func(status int, body map[string]any) error {
			body["help"] = help
			return c.JSON(status, body)
		}
		act, ok := ckanActions[name]
		if !ok {
			return write(http.StatusBadRequest, map[string]any{"success": false,
				"error": &ckanError{Type: "Bad Request", Message: "Bad request - Action name not known: " + name}})
		}
		args, err := ckanArgsOf(c)
		if err == nil {
			var res any
			if res, err = act(s, c, args); err == nil {
				return write(http.StatusOK, map[string]any{"success": true, "result": res})
			}
		}
		if ce := asCKANError(err); ce != nil {
			return write(ce.status, map[string]any{"success": false, "error": ce})
		}
		return err
	}
	s.echo.GET("/api/3/action/:action", h)
	s.echo.POST("/api/3/action/:action", h)
}

// asCKANError turns the registry's refusals into CKAN's error shapes (a
// refused query is about its filters: fields and sort are checked before).
func asCKANError(err error) *ckanError {
	if ce, ok := err.(*ckanError); ok {
		return ce
	}
	var cat *catalog.Error
	if errors.As(err, &cat) {
		if cat.Kind == catalog.KindNotFound {
			return &ckanError{status: http.StatusNotFound, Type: "Not Found Error", Message: cat.Message}
		}
		return ckanValidation("filters", cat.Message)
	}
	return nil
}

// ckanPackage is CKAN's package dictionary.
type ckanPackage struct {
	ID               string           `json:"id"`
	Name             string           `json:"name"`
	Title            string           `json:"title"`
	Notes            string           `json:"notes"`
	Type             string           `json:"type"`
	State            string           `json:"state"`
	Private          bool             `json:"private"`
	Author           string           `json:"author"`
	AuthorEmail      string           `json:"author_email"`
	Maintainer       string           `json:"maintainer"`
	MaintainerEmail  string           `json:"maintainer_email"`
	LicenseID        string           `json:"license_id"`
	LicenseTitle     string           `json:"license_title"`
	IsOpen           bool             `json:"isopen"`
	URL              string           `json:"url"`
	Version          string           `json:"version"`
	MetadataCreated  string           `json:"metadata_created"`
	MetadataModified string           `json:"metadata_modified"`
	CreatorUserID    *string          `json:"creator_user_id"`
	OwnerOrg         string           `json:"owner_org"`
	Organization     ckanOrganization `json:"organization"`
	NumResources     int              `json:"num_resources"`
	NumTags          int              `json:"num_tags"`
	Resources        []ckanResource   `json:"resources"`
	Tags             []ckanTag        `json:"tags"`
	Groups           []any            `json:"groups"`
	Extras           []ckanExtra      `json:"extras"`
	RelAsObject      []any            `json:"relationships_as_object"`
	RelAsSubject     []any            `json:"relationships_as_subject"`
}

type ckanOrganization struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	Title           string `json:"title"`
	DisplayName     string `json:"display_name,omitempty"`
	Description     string `json:"description"`
	Type            string `json:"type"`
	State           string `json:"state"`
	IsOrganization  bool   `json:"is_organization"`
	ApprovalStatus  string `json:"approval_status"`
	ImageURL        string `json:"image_url"`
	Created         string `json:"created"`
	PackageCount    *int64 `json:"package_count,omitempty"`
	Packages        []any  `json:"packages,omitempty"`
	Extras          []any  `json:"extras,omitempty"`
	Groups          []any  `json:"groups,omitempty"`
	Tags            []any  `json:"tags,omitempty"`
	Users           []any  `json:"users,omitempty"`
	NumFollowers    *int   `json:"num_followers,omitempty"`
	ImageDisplayURL string `json:"image_display_url,omitempty"`
}

type ckanResource struct {
	ID               string  `json:"id"`
	PackageID        string  `json:"package_id"`
	Name             string  `json:"name"`
	Description      string  `json:"description"`
	Format           string  `json:"format"`
	Mimetype         string  `json:"mimetype"`
	URL              string  `json:"url"`
	URLType          *string `json:"url_type"`
	ResourceType     *string `json:"resource_type"`
	Position         int     `json:"position"`
	State            string  `json:"state"`
	DatastoreActive  bool    `json:"datastore_active"`
	Created          string  `json:"created"`
	LastModified     *string `json:"last_modified"`
	MetadataModified string  `json:"metadata_modified"`
	Size             *int64  `json:"size"`
	Hash             string  `json:"hash"`
	CacheURL         *string `json:"cache_url"`
}

type ckanTag struct {
	ID           string  `json:"id"`
	Name         string  `json:"name"`
	DisplayName  string  `json:"display_name"`
	State        string  `json:"state"`
	VocabularyID *string `json:"vocabulary_id"`
}

type ckanExtra struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ckanTime is CKAN's timestamp: ISO 8601, UTC, no zone suffix.
func ckanTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

func (s *Server) ckanPackageOf(c *echo.Context, cs catalog.Summary) ckanPackage {
	base := s.siteURL(c)
	modified := cs.UpdatedAt
	if cs.LastUpdate != nil && cs.LastUpdate.After(modified) {
		modified = *cs.LastUpdate
	}
	org := ckanOrgOf(dependenciaRow{Clave: cs.DependenciaClave, Nombre: cs.DependenciaNombre})
	p := ckanPackage{
		ID: cs.Clave, Name: cs.Clave, Title: cs.Title, Notes: cs.Description, Type: "dataset", State: "active",
		Author: cs.DependenciaNombre, Maintainer: cs.Steward, MaintainerEmail: cs.StewardEmail,
		LicenseID: cs.License, LicenseTitle: cs.License, IsOpen: cs.License != "",
		URL: base + "/catalogos/" + cs.Clave, Version: strconv.Itoa(cs.CurrentVersion),
		MetadataCreated: ckanTime(cs.CreatedAt), MetadataModified: ckanTime(modified),
		OwnerOrg: org.ID, Organization: org, Tags: []ckanTag{}, Groups: []any{}, RelAsObject: []any{}, RelAsSubject: []any{},
		Extras: []ckanExtra{{Key: "estado", Value: string(cs.State)}, {Key: "tabla", Value: catalog.Schema + "." + cs.Table},
			{Key: "mecanismo_actualizacion", Value: cs.UpdateMechanism}, {Key: "periodicidad", Value: cs.Periodicity},
			{Key: "registros", Value: strconv.FormatInt(cs.Rows, 10)}},
	}
	for _, k := range cs.Keywords {
		p.Tags = append(p.Tags, ckanTag{ID: k, Name: k, DisplayName: k, State: "active"})
	}
	api := base + "/api/v1/catalogs/" + cs.Clave + "/download."
	for i, f := range downloadFormats {
		id := cs.Clave
		if i > 0 {
			id += "-" + f.ext
		}
		var lm *string
		if cs.LastUpdate != nil {
			t := ckanTime(*cs.LastUpdate)
			lm = &t
		}
		p.Resources = append(p.Resources, ckanResource{
			ID: id, PackageID: cs.Clave, Name: cs.Title + " (" + f.name + ")", Format: strings.ToUpper(f.ext),
			Mimetype: strings.Split(f.contentType, ";")[0], URL: api + f.ext, Position: i, State: "active",
			DatastoreActive: i == 0, Created: ckanTime(cs.CreatedAt), LastModified: lm, MetadataModified: ckanTime(modified),
		})
	}
	p.NumResources, p.NumTags = len(p.Resources), len(p.Tags)
	return p
}

func (s *Server) ckanPackageList(c *echo.Context, args ckanArgs) (any, error) {
	limit, err := args.integer("limit", 0, 0)
	if err != nil {
		return nil, err
	}
	offset, err := args.integer("offset", 0, 0)
	if err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 1 << 20
	}
	res, err := s.catalogs().Search(c.Request().Context(), catalog.SearchQuery{PublicOnly: true, Limit: limit, Offset: offset, WithoutTotalCount: true})
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, cs := range res.Catalogs {
		names = append(names, cs.Clave)
	}
	return names, nil
}

// publishedSummary finds a published catalog by clave (or by the id of one
// of its resources, for datastore_search).
func (s *Server) publishedSummary(c *echo.Context, id string) (catalog.Summary, error) {
	res, err := s.catalogs().Search(c.Request().Context(), catalog.SearchQuery{PublicOnly: true, Claves: []string{id}, WithoutTotalCount: true})
	if err != nil {
		return catalog.Summary{}, err
	}
	if len(res.Catalogs) == 0 {
		return catalog.Summary{}, ckanNotFound("no existe un catálogo publicado «" + id + "»")
	}
	return res.Catalogs[0], nil
}

func (s *Server) ckanPackageShow(c *echo.Context, args ckanArgs) (any, error) {
	id := args.str("id")
	if id == "" {
		id = args.str("name_or_id")
	}
	if id == "" {
		return nil, ckanValidation("id", "Missing value")
	}
	cs, err := s.publishedSummary(c, id)
	if err != nil {
		return nil, err
	}
	return s.ckanPackageOf(c, cs), nil
}

func (s *Server) ckanPackageSearch(c *echo.Context, args ckanArgs) (any, error) {
	rows, err := args.integer("rows", 10, 1000)
	if err != nil {
		return nil, err
	}
	start, err := args.integer("start", 0, 0)
	if err != nil {
		return nil, err
	}
	q := catalog.SearchQuery{PublicOnly: true, Limit: rows, Offset: start}
	for _, param := range []string{"q", "fq"} {
		clauses, err := parseSolr(param, args.str(param))
		if err != nil {
			return nil, err
		}
		applySolr(&q, clauses)
	}
	if q.Limit == 0 {
		q.WithoutTotalCount = false
		q.Limit = 1
		res, err := s.catalogs().Search(c.Request().Context(), q)
		if err != nil {
			return nil, err
		}
		return map[string]any{"count": res.Total, "results": []ckanPackage{}, "sort": "score desc, metadata_modified desc", "facets": map[string]any{}, "search_facets": map[string]any{}}, nil
	}
	res, err := s.catalogs().Search(c.Request().Context(), q)
	if err != nil {
		return nil, err
	}
	results := []ckanPackage{}
	for _, cs := range res.Catalogs {
		results = append(results, s.ckanPackageOf(c, cs))
	}
	return map[string]any{"count": res.Total, "results": results, "sort": "score desc, metadata_modified desc",
		"facets": map[string]any{}, "search_facets": map[string]any{}}, nil
}

type dependenciaRow struct {
	Clave, Nombre, Tipo string
	Created             string
	Packages            int64
}

func ckanOrgOf(d dependenciaRow) ckanOrganization {
	name := strings.ToLower(d.Clave)
	return ckanOrganization{ID: name, Name: name, Title: d.Nombre, Description: d.Nombre, Type: "organization",
		State: "active", IsOrganization: true, ApprovalStatus: "approved", Created: d.Created}
}

func (s *Server) dependencias(c *echo.Context, clave string) ([]dependenciaRow, error) {
	sql := `SELECT d.clave, d.nombre, d.tipo, to_char(d.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
			(SELECT count(*) FROM meta.catalog c WHERE c.dependencia_id = d.id AND c.state = 'publicado')
		FROM meta.dependencia d WHERE d.activo AND ($1 = '' OR d.clave = upper($1)) ORDER BY d.clave`
	rows, err := s.opts.Pool.Query(c.Request().Context(), sql, clave)
	if err != nil {
		return nil, fmt.Errorf("portal: dependencias: %w", err)
	}
	defer rows.Close()
	var out []dependenciaRow
	for rows.Next() {
		var d dependenciaRow
		if err := rows.Scan(&d.Clave, &d.Nombre, &d.Tipo, &d.Created, &d.Packages); err != nil {
			return nil, fmt.Errorf("portal: dependencias: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *Server) ckanOrganizationList(c *echo.Context, args ckanArgs) (any, error) {
	ds, err := s.dependencias(c, "")
	if err != nil {
		return nil, err
	}
	if !args.boolean("all_fields", false) {
		names := []string{}
		for _, d := range ds {
			names = append(names, strings.ToLower(d.Clave))
		}
		return names, nil
	}
	out := []ckanOrganization{}
	for _, d := range ds {
		o := ckanOrgOf(d)
		n := d.Packages
		o.PackageCount = &n
		o.DisplayName = d.Nombre
		out = append(out, o)
	}
	return out, nil
}

func (s *Server) ckanOrganizationShow(c *echo.Context, args ckanArgs) (any, error) {
	id := args.str("id")
	if id == "" {
		return nil, ckanValidation("id", "Missing value")
	}
	ds, err := s.dependencias(c, id)
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return nil, ckanNotFound("no existe la dependencia «" + id + "»")
	}
	o := ckanOrgOf(ds[0])
	n := ds[0].Packages
	o.PackageCount, o.DisplayName = &n, ds[0].Nombre
	o.Extras, o.Groups, o.Tags, o.Users = []any{}, []any{}, []any{}, []any{}
	zero := 0
	o.NumFollowers = &zero
	if args.boolean("include_datasets", false) {
		res, err := s.catalogs().Search(c.Request().Context(), catalog.SearchQuery{PublicOnly: true, DependenciaClave: ds[0].Clave, Limit: 1000, WithoutTotalCount: true})
		if err != nil {
			return nil, err
		}
		o.Packages = []any{}
		for _, cs := range res.Catalogs {
			o.Packages = append(o.Packages, s.ckanPackageOf(c, cs))
		}
	}
	return o, nil
}

// datastoreType is the PostgreSQL type name CKAN's datastore reports.
func datastoreType(t tableschema.SQLType) string {
	switch {
	case t.IsInteger():
		return "int"
	case t.Base == "numeric":
		return "numeric"
	case t.Base == "real" || t.Base == "double precision":
		return "float8"
	case t.IsBoolean():
		return "bool"
	case t.IsDate():
		return "date"
	case t.IsTimestamp():
		return "timestamp"
	case t.Base == "time":
		return "time"
	case t.Base == "json" || t.Base == "jsonb":
		return "json"
	}
	return "text"
}

func (s *Server) ckanDatastoreSearch(c *echo.Context, args ckanArgs) (any, error) {
	id := args.str("resource_id")
	if id == "" {
		id = args.str("id")
	}
	if id == "" {
		return nil, ckanValidation("resource_id", "Missing value")
	}
	clave := id
	for _, f := range downloadFormats[1:] {
		clave = strings.TrimSuffix(clave, "-"+f.ext)
	}
	if _, err := s.publishedSummary(c, clave); err != nil {
		return nil, ckanNotFound("Resource «" + id + "» was not found.")
	}
	cat, err := s.catalogs().ByClave(c.Request().Context(), clave)
	if err != nil {
		return nil, err
	}
	limit, err := args.integer("limit", 100, catalog.MaxPageRows)
	if err != nil {
		return nil, err
	}
	offset, err := args.integer("offset", 0, 0)
	if err != nil {
		return nil, err
	}
	// CKAN's datastore gives every row an "_id" (catalog.RowIDField), listed
	// first among the fields, typed int; filters and sort may name it when
	// it is the primary key itself.
	allFields, types, err := catalog.Columns(cat)
	if err != nil {
		return nil, err
	}
	typeOf := map[string]string{catalog.RowIDField: "int"}
	names := []string{catalog.RowIDField}
	for i, f := range allFields {
		typeOf[f.Name] = datastoreType(types[i])
		names = append(names, f.Name)
	}
	idKey, err := catalog.RowIDKey(cat)
	if err != nil {
		return nil, err
	}
	column := func(param, name string) (string, error) {
		if _, ok := typeOf[name]; !ok {
			return "", ckanValidation(param, fmt.Sprintf("el campo «%s» no existe en el recurso; sus campos son: %s", name, strings.Join(names, ", ")))
		}
		if name != catalog.RowIDField || param == "fields" {
			return name, nil
		}
		if idKey == "" {
			return "", ckanValidation(param, fmt.Sprintf("«%s» sólo se puede usar aquí cuando la llave primaria es un campo entero; la de este catálogo es %s",
				catalog.RowIDField, strings.Join(cat.Resource.Schema.PrimaryKey, ", ")))
		}
		return idKey, nil
	}
	q := catalog.RowsQuery{Limit: limit, Offset: offset, Text: args.str("q")}
	requested := args.list("fields")
	q.RowID = len(requested) == 0
	for _, f := range requested {
		if _, err := column("fields", f); err != nil {
			return nil, err
		}
		if f == catalog.RowIDField {
			q.RowID = true
		} else {
			q.Fields = append(q.Fields, f)
		}
	}
	onlyID := q.RowID && len(requested) > 0 && len(q.Fields) == 0
	if onlyID {
		q.Fields = cat.Resource.Schema.PrimaryKey // dropped below
	}
	if raw := args.str("filters"); raw != "" {
		var filters map[string]any
		src := []byte(raw)
		if fr, ok := args["filters"]; ok && strings.HasPrefix(strings.TrimSpace(string(fr)), "{") {
			src = fr
		}
		if err := json.Unmarshal(src, &filters); err != nil {
			return nil, ckanValidation("filters", "debe ser un objeto JSON {\"campo\": valor}")
		}
		for k, v := range filters {
			col, err := column("filters", k)
			if err != nil {
				return nil, err
			}
			vals, ok := v.([]any)
			if !ok {
				vals = []any{v}
			}
			for _, x := range vals {
				str, isStr := x.(string)
				if !isStr {
					b, _ := json.Marshal(x)
					str = string(b)
				}
				q.Filters = append(q.Filters, catalog.RowFilter{Field: col, Value: str})
			}
		}
	}
	if sort := strings.TrimSpace(args.str("sort")); sort != "" {
		if strings.Contains(sort, ",") {
			return nil, ckanValidation("sort", "sólo se admite ordenar por un campo («campo» o «campo desc»)")
		}
		parts := strings.Fields(sort)
		if q.Sort, err = column("sort", strings.Trim(parts[0], `"`)); err != nil {
			return nil, err
		}
		if len(parts) > 1 {
			switch strings.ToLower(parts[1]) {
			case "desc":
				q.Desc = true
			case "asc":
			default:
				return nil, ckanValidation("sort", "la dirección debe ser asc o desc")
			}
		}
	}
	page, err := s.catalogs().Rows(c.Request().Context(), cat, q)
	if err != nil {
		return nil, err
	}
	fields := []map[string]string{}
	if q.RowID {
		fields = append(fields, map[string]string{"id": catalog.RowIDField, "type": "int"})
	}
	if onlyID {
		for i, raw := range page.Rows {
			var r struct {
				ID json.RawMessage `json:"_id"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, fmt.Errorf("portal: datastore_search: %w", err)
			}
			page.Rows[i] = json.RawMessage(`{"_id":` + string(r.ID) + `}`)
		}
		page.Fields = nil
	}
	for _, f := range page.Fields {
		fields = append(fields, map[string]string{"id": f.Name, "type": typeOf[f.Name]})
	}
	records := page.Rows
	if records == nil {
		records = []json.RawMessage{}
	}
	link := func(off int) string {
		v := url.Values{}
		for k := range args {
			if k != "offset" {
				v.Set(k, args.str(k))
			}
		}
		if off > 0 {
			v.Set("offset", strconv.Itoa(off))
		}
		return "/api/3/action/datastore_search?" + v.Encode()
	}
	out := map[string]any{
		"resource_id": id, "fields": fields, "records": records, "records_format": "objects",
		"limit": limit, "offset": offset,
		"_links": map[string]string{"start": link(0), "next": link(offset + limit)},
	}
	includeTotal := args.boolean("include_total", true)
	out["include_total"] = includeTotal
	if includeTotal {
		total, err := s.catalogs().CountRows(c.Request().Context(), cat, q)
		if err != nil {
			return nil, err
		}
		out["total"] = total
		out["total_was_estimated"] = false
	}
	return out, nil
}

func (s *Server) ckanStatusShow(c *echo.Context, _ ckanArgs) (any, error) {
	return map[string]any{"ckan_version": "2.10.0", "site_title": "Datos de Guanajuato — gobdatos", "site_url": s.siteURL(c),
		"site_description": "Catálogos transversales del Gobierno del Estado de Guanajuato", "locale_default": "es",
		"extensions": []string{"datastore"}, "gobdatos_version": s.opts.Version}, nil
}
