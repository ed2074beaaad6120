package portal

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The members CKAN's API documentation (docs.ckan.org, «API guide» and
// ckan.logic.action.get / ckanext.datastore) gives each answer, with the
// JSON kind of each: clients read these, so each must be there, typed so.
var (
	ckanEnvelopeOK  = map[string]string{"help": "string", "success": "bool", "result": "any"}
	ckanEnvelopeErr = map[string]string{"help": "string", "success": "bool", "error": "object"}
	ckanPackageKeys = map[string]string{
		"id": "string", "name": "string", "title": "string", "notes": "string", "type": "string", "state": "string",
		"private": "bool", "author": "string", "author_email": "string", "maintainer": "string", "maintainer_email": "string",
		"license_id": "string", "license_title": "string", "isopen": "bool", "url": "string", "version": "string",
		"metadata_created": "string", "metadata_modified": "string", "creator_user_id": "null", "owner_org": "string",
		"organization": "object", "num_resources": "number", "num_tags": "number", "resources": "array", "tags": "array",
		"groups": "array", "extras": "array", "relationships_as_object": "array", "relationships_as_subject": "array",
	}
	ckanResourceKeys = map[string]string{
		"id": "string", "package_id": "string", "name": "string", "description": "string", "format": "string",
		"mimetype": "string", "url": "string", "url_type": "null", "resource_type": "null", "position": "number",
		"state": "string", "datastore_active": "bool", "created": "string", "last_modified": "string",
		"metadata_modified": "string", "size": "null", "hash": "string", "cache_url": "null",
	}
	ckanOrgKeys = map[string]string{
		"id": "string", "name": "string", "title": "string", "description": "string", "type": "string", "state": "string",
		"is_organization": "bool", "approval_status": "string", "image_url": "string", "created": "string",
	}
	ckanTagKeys       = map[string]string{"id": "string", "name": "string", "display_name": "string", "state": "string", "vocabulary_id": "null"}
	ckanSearchKeys    = map[string]string{"count": "number", "results": "array", "sort": "string", "facets": "object", "search_facets": "object"}
	ckanDatastoreKeys = map[string]string{
		"resource_id": "string", "fields": "array", "records": "array", "records_format": "string", "limit": "number",
		"offset": "number", "_links": "object", "include_total": "bool", "total": "number", "total_was_estimated": "bool",
	}
	ckanErrorKeys = map[string]string{"__type": "string", "message": "string"}
)

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "bool"
	case float64:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

// requireShape checks that obj has every member of shape with its kind.
func requireShape(t *testing.T, what string, shape map[string]string, obj any) {
	t.Helper()
	m, ok := obj.(map[string]any)
	require.True(t, ok, "%s: not an object: %v", what, obj)
	for k, kind := range shape {
		v, ok := m[k]
		require.True(t, ok, "%s: no member %q", what, k)
		if kind != "any" {
			require.Equal(t, kind, kindOf(v), "%s.%s", what, k)
		}
	}
}

func ckanCall(t *testing.T, a *apiBundle, method, path, body string, status int) map[string]any {
	t.Helper()
	var res *http.Response
	var raw string
	if method == "POST" {
		res, raw = a.do(t, "POST", path, strings.NewReader(body), "Content-Type", "application/json")
	} else {
		res, raw = a.do(t, "GET", path, nil)
	}
	require.Equal(t, status, res.StatusCode, raw)
	require.Contains(t, res.Header.Get("Content-Type"), "application/json")
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(raw), &out))
	if status == 200 {
		requireShape(t, "envelope", ckanEnvelopeOK, out)
		require.Equal(t, true, out["success"])
	} else {
		requireShape(t, "envelope", ckanEnvelopeErr, out)
		require.Equal(t, false, out["success"])
		e := out["error"].(map[string]any)
		if e["__type"] == "Validation Error" {
			// CKAN's error dictionary: a list of messages per parameter.
			require.Equal(t, http.StatusConflict, status)
			require.GreaterOrEqual(t, len(e), 2, "%v", e)
			for k, v := range e {
				if k != "__type" {
					require.Equal(t, "array", kindOf(v), "error.%s", k)
					require.Equal(t, "string", kindOf(v.([]any)[0]), "error.%s[0]", k)
				}
			}
		} else {
			requireShape(t, "error", ckanErrorKeys, e)
		}
	}
	require.True(t, strings.HasPrefix(out["help"].(string), "https://datos.guanajuato.gob.mx/api/3/action/help_show?name="))
	return out
}

func TestCKANActions(t *testing.T) {
	t.Parallel()
	a := setupAPI(t)

	out := ckanCall(t, a, "GET", "/api/3/action/package_list", "", 200)
	require.Equal(t, []any{"municipio"}, out["result"], "published catalogs only")

	out = ckanCall(t, a, "GET", "/api/3/action/package_show?id=municipio", "", 200)
	pkg := out["result"].(map[string]any)
	requireShape(t, "package", ckanPackageKeys, pkg)
	requireShape(t, "package.organization", ckanOrgKeys, pkg["organization"])
	require.Equal(t, "sfia", pkg["owner_org"])
	require.Equal(t, "Municipios de Guanajuato", pkg["title"])
	require.Equal(t, "2", pkg["version"])
	res := pkg["resources"].([]any)
	require.Len(t, res, 4)
	for _, r := range res {
		requireShape(t, "resource", ckanResourceKeys, r)
	}
	csv := res[0].(map[string]any)
	require.Equal(t, "municipio", csv["id"])
	require.Equal(t, true, csv["datastore_active"])
	require.Equal(t, "CSV", csv["format"])
	require.Equal(t, "https://datos.guanajuato.gob.mx/api/v1/catalogs/municipio/download.csv", csv["url"])
	require.Len(t, pkg["tags"], 2)
	requireShape(t, "tag", ckanTagKeys, pkg["tags"].([]any)[0])

	out = ckanCall(t, a, "GET", "/api/3/action/package_show?id=municipio-borrador", "", 404)
	require.Equal(t, "Not Found Error", out["error"].(map[string]any)["__type"])
	out = ckanCall(t, a, "GET", "/api/3/action/package_show", "", 409)
	require.Equal(t, map[string]any{"__type": "Validation Error", "id": []any{"Missing value"}}, out["error"])
	out = ckanCall(t, a, "GET", "/api/3/action/package_delete?id=municipio", "", 400)
	require.Equal(t, "Bad Request", out["error"].(map[string]any)["__type"])
	require.Contains(t, out["error"].(map[string]any)["message"], "Action name not known: package_delete")

	for _, tt := range []struct {
		path  string
		count float64
		n     int
	}{
		{"/api/3/action/package_search?q=acambaro", 0, 0}, // rows are not searched: metadata is
		{"/api/3/action/package_search?q=poblacion", 1, 1},
		{"/api/3/action/package_search?q=MUNICIPIOS&rows=0", 1, 0},
		{"/api/3/action/package_search?fq=organization:sfia", 1, 1},
		{"/api/3/action/package_search?fq=tags:INEGI", 1, 1},
		{"/api/3/action/package_search?fq=organization:seg", 0, 0},
		{"/api/3/action/package_search?start=1", 1, 0},
		{"/api/3/action/package_search", 1, 1},
		// Solr's syntax as CKAN clients send it.
		{`/api/3/action/package_search?fq=organization:"sfia"`, 1, 1},
		{"/api/3/action/package_search?fq=owner_org:SFIA", 1, 1},
		{"/api/3/action/package_search?fq=-organization:sfia", 0, 0},
		{"/api/3/action/package_search?fq=NOT organization:seg", 1, 1},
		{"/api/3/action/package_search?fq=organization:seg OR organization:sfia", 1, 1},
		{"/api/3/action/package_search?fq=tags:INEGI AND organization:sfia", 1, 1},
		{"/api/3/action/package_search?fq=%2Btags:INEGI %2Borganization:seg", 0, 0},
		{`/api/3/action/package_search?fq=tags:"geografía"`, 1, 1},
		{"/api/3/action/package_search?fq=tags:inegi", 0, 0}, // tags are exact, as in CKAN
		{"/api/3/action/package_search?fq=tags:otra OR tags:INEGI", 1, 1},
		{"/api/3/action/package_search?fq=res_format:CSV", 1, 1},
		{"/api/3/action/package_search?fq=res_format:parquet", 1, 1},
		{"/api/3/action/package_search?fq=res_format:XLS", 0, 0},
		{"/api/3/action/package_search?fq=-res_format:XLS", 1, 1},
		{"/api/3/action/package_search?fq=-res_format:CSV", 0, 0},
		{"/api/3/action/package_search?q=name:municipio", 1, 1},
		{"/api/3/action/package_search?q=id:municipio-borrador", 0, 0}, // a draft is not there
		{`/api/3/action/package_search?q=title:"municipios de guanajuato"`, 1, 1},
		{"/api/3/action/package_search?q=poblacion OR hospitales", 1, 1},
		{"/api/3/action/package_search?q=poblacion hospitales", 0, 0},
		{"/api/3/action/package_search?q=poblacion AND hospitales", 0, 0},
		{"/api/3/action/package_search?q=municipios -hospitales", 1, 1},
		{"/api/3/action/package_search?q=municipios -poblacion", 0, 0},
		{"/api/3/action/package_search?q=*:*&fq=organization:*", 1, 1},
		{"/api/3/action/package_search?q=text:superficie&fq=organization:sfia tags:INEGI", 1, 1},
	} {
		out = ckanCall(t, a, "GET", strings.ReplaceAll(tt.path, " ", "%20"), "", 200)
		requireShape(t, "package_search", ckanSearchKeys, out["result"])
		r := out["result"].(map[string]any)
		require.Equal(t, tt.count, r["count"], tt.path)
		require.Len(t, r["results"], tt.n, tt.path)
	}
	for _, bad := range []string{
		"fq=color:rojo",
		"fq=tags:INEGI OR organization:sfia",
		"fq=tags:(INEGI OR otra)",
		"fq=metadata_modified:[NOW-1DAY TO NOW]",
		`q=tags:"abierta`,
		"fq=tags:INE*",
		"fq=organization:sfia AND",
		"q=OR municipios",
		"fq=-organization:sfia OR organization:seg",
	} {
		out = ckanCall(t, a, "GET", "/api/3/action/package_search?"+strings.ReplaceAll(strings.ReplaceAll(bad, " ", "%20"), "+", "%2B"), "", 400)
		e := out["error"].(map[string]any)
		require.Equal(t, "Search Query Error", e["__type"], bad)
		require.True(t, strings.HasPrefix(e["message"].(string), "Search Query is invalid: "), e["message"])
		require.NotContains(t, e["message"], "«»", bad)
	}

	out = ckanCall(t, a, "GET", "/api/3/action/organization_list", "", 200)
	require.Equal(t, []any{"sfia"}, out["result"])
	out = ckanCall(t, a, "GET", "/api/3/action/organization_list?all_fields=true", "", 200)
	requireShape(t, "organization", ckanOrgKeys, out["result"].([]any)[0])
	out = ckanCall(t, a, "GET", "/api/3/action/organization_show?id=sfia&include_datasets=true", "", 200)
	org := out["result"].(map[string]any)
	requireShape(t, "organization", ckanOrgKeys, org)
	require.Equal(t, 1.0, org["package_count"])
	requireShape(t, "organization.packages[0]", ckanPackageKeys, org["packages"].([]any)[0])
	ckanCall(t, a, "GET", "/api/3/action/organization_show?id=nadie", "", 404)

	out = ckanCall(t, a, "GET", `/api/3/action/datastore_search?resource_id=municipio&limit=2&offset=1&fields=id_municipio,poblacion`, "", 200)
	ds := out["result"].(map[string]any)
	requireShape(t, "datastore_search", ckanDatastoreKeys, ds)
	require.Equal(t, []any{map[string]any{"id": "id_municipio", "type": "text"}, map[string]any{"id": "poblacion", "type": "int"}}, ds["fields"])
	require.Equal(t, []any{map[string]any{"id_municipio": "11002", "poblacion": 1001.0}, map[string]any{"id_municipio": "11003", "poblacion": 1002.0}}, ds["records"])
	require.Equal(t, 250.0, ds["total"])
	links := ds["_links"].(map[string]any)
	require.Contains(t, links["next"], "offset=3")

	out = ckanCall(t, a, "POST", "/api/3/action/datastore_search",
		`{"resource_id": "municipio-json", "filters": {"id_municipio": ["11003", "11004"]}, "fields": ["nombre_municipio"], "sort": "poblacion desc"}`, 200)
	ds = out["result"].(map[string]any)
	require.Equal(t, []any{map[string]any{"nombre_municipio": "Municipio 3"}, map[string]any{"nombre_municipio": "Acámbaro"}}, ds["records"])
	require.Equal(t, 2.0, ds["total"])

	out = ckanCall(t, a, "GET", `/api/3/action/datastore_search?resource_id=municipio&q=acambaro&include_total=false`, "", 200)
	ds = out["result"].(map[string]any)
	require.Len(t, ds["records"], 1)
	require.NotContains(t, ds, "total")

	// Without «fields», every field, "_id" first (CKAN's row id, an int).
	res2, raw := a.do(t, "GET", "/api/3/action/datastore_search?resource_id=municipio&limit=1", nil)
	require.Equal(t, 200, res2.StatusCode)
	require.Contains(t, raw, `"records":[{"_id":`)
	require.NoError(t, json.Unmarshal([]byte(raw), &out))
	ds = out["result"].(map[string]any)
	require.Equal(t, []any{map[string]any{"id": "_id", "type": "int"}, map[string]any{"id": "id_municipio", "type": "text"},
		map[string]any{"id": "nombre_municipio", "type": "text"}, map[string]any{"id": "poblacion", "type": "int"},
		map[string]any{"id": "fecha_corte", "type": "date"}, map[string]any{"id": "superficie", "type": "numeric"}}, ds["fields"])
	rec := ds["records"].([]any)[0].(map[string]any)
	id := rec["_id"].(float64)
	require.Equal(t, id, float64(int64(id)), "an integer")
	require.Equal(t, "11001", rec["id_municipio"])
	// The same row has the same _id whatever the query.
	out = ckanCall(t, a, "POST", "/api/3/action/datastore_search", `{"resource_id": "municipio", "fields": ["_id", "nombre_municipio"], "filters": {"id_municipio": "11001"}}`, 200)
	ds = out["result"].(map[string]any)
	require.Equal(t, []any{map[string]any{"id": "_id", "type": "int"}, map[string]any{"id": "nombre_municipio", "type": "text"}}, ds["fields"])
	require.Equal(t, []any{map[string]any{"_id": id, "nombre_municipio": "Abasolo"}}, ds["records"])
	out = ckanCall(t, a, "GET", "/api/3/action/datastore_search?resource_id=municipio&fields=_id&limit=1", "", 200)
	require.Equal(t, []any{map[string]any{"_id": id}}, out["result"].(map[string]any)["records"])
	// A text key: _id cannot stand for it in filters or sort.
	out = ckanCall(t, a, "GET", "/api/3/action/datastore_search?resource_id=municipio&sort=_id", "", 409)
	require.Contains(t, out["error"].(map[string]any)["sort"].([]any)[0], "id_municipio")
	out = ckanCall(t, a, "GET", `/api/3/action/datastore_search?resource_id=municipio&filters=%7B"_id":1%7D`, "", 409)
	require.Contains(t, out["error"], "filters")
	out = ckanCall(t, a, "GET", "/api/3/action/datastore_search?resource_id=municipio&fields=colonia", "", 409)
	require.Equal(t, map[string]any{"__type": "Validation Error", "fields": []any{
		"el campo «colonia» no existe en el recurso; sus campos son: _id, id_municipio, nombre_municipio, poblacion, fecha_corte, superficie"}}, out["error"])

	for _, bad := range []string{
		`/api/3/action/datastore_search?resource_id=municipio&filters={"colonia":"centro"}`,
		`/api/3/action/datastore_search?resource_id=municipio&filters=[1]`,
		`/api/3/action/datastore_search?resource_id=municipio&sort=poblacion%20arriba`,
		`/api/3/action/datastore_search?resource_id=municipio&limit=muchos`,
	} {
		out = ckanCall(t, a, "GET", strings.ReplaceAll(strings.ReplaceAll(bad, "{", "%7B"), "}", "%7D"), "", 409)
		require.Equal(t, "Validation Error", out["error"].(map[string]any)["__type"], bad)
	}
	ckanCall(t, a, "GET", "/api/3/action/datastore_search?resource_id=municipio-borrador", "", 404)
	ckanCall(t, a, "GET", "/api/3/action/datastore_search", "", 409)
}

// How q and fq are read, term by term.
func TestParseSolr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want []solrClause
	}{
		{"", nil},
		{"*:*", nil},
		{"organization:sfia", []solrClause{{{field: "organization", value: "sfia"}}}},
		{`tags:"dos palabras" -name:x`, []solrClause{{{field: "tags", value: "dos palabras", quoted: true}}, {{field: "name", value: "x", not: true}}}},
		{"NOT tags:a AND +tags:b", []solrClause{{{field: "tags", value: "a", not: true}}, {{field: "tags", value: "b"}}}},
		{"tags:a OR tags:b organization:c", []solrClause{{{field: "tags", value: "a"}, {field: "tags", value: "b"}}, {{field: "organization", value: "c"}}}},
		{`agua OR "agua potable" title:pozos`, []solrClause{{{value: "agua"}, {value: "agua potable", quoted: true}}, {{value: "pozos"}}}},
		{"res_format:CSV", []solrClause{{{field: "res_format", value: "CSV"}}}},
	}
	for _, tt := range tests {
		got, err := parseSolr("fq", tt.src)
		require.NoError(t, err, tt.src)
		require.Equal(t, tt.want, got, tt.src)
	}
}

// With one integer key, "_id" is that key: filters and sort may name it.
func TestCKANRowIDIsTheIntegerKey(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{BaseURL: "https://datos.guanajuato.gob.mx"})
	dep := b.dependencia(t, "SFIA")
	def := municipioDef("cat_poblacion", "Municipios por población")
	def.Schema.Fields[2].Constraints.Required = true
	def.Schema.PrimaryKey = []string{"poblacion"}
	b.publishedCatalog(t, def, *dep, true, nil, municipioRows(5), nil)
	a := &apiBundle{bundle: b}

	out := ckanCall(t, a, "GET", "/api/3/action/datastore_search?resource_id=poblacion&sort=_id%20desc&limit=2&fields=_id,id_municipio", "", 200)
	require.Equal(t, []any{map[string]any{"_id": 1004.0, "id_municipio": "11005"}, map[string]any{"_id": 1003.0, "id_municipio": "11004"}},
		out["result"].(map[string]any)["records"])
	out = ckanCall(t, a, "POST", "/api/3/action/datastore_search", `{"resource_id": "poblacion", "filters": {"_id": [1001, 1002]}, "fields": "_id"}`, 200)
	require.Equal(t, []any{map[string]any{"_id": 1001.0}, map[string]any{"_id": 1002.0}}, out["result"].(map[string]any)["records"])
	require.Equal(t, 2.0, out["result"].(map[string]any)["total"])
}
