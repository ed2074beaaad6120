package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/invopop/jsonschema"
	"github.com/labstack/echo/v5"
)

// APIDoc describes one /api/v1 route for the OpenAPI document. Routes under
// /api/v1 are registered only through s.api, with their APIDoc, so the
// document cannot drift from the routes (a test also compares them).
type APIDoc struct {
	Summary     string
	Description string
	Tag         string
	// Auth: the route needs a session or a bearer token.
	Auth  bool
	Query []Param
	// Body is a value whose Go type describes the JSON request body; nil
	// means no JSON body. BodyContent overrides the media type (e.g.
	// "multipart/form-data" for uploads; Body then describes its fields).
	Body        any
	BodyContent string
	// Response is a value whose Go type describes the success answer; nil
	// means no body. ResponseContent overrides "application/json" (e.g.
	// "text/csv"), Status overrides 200.
	Response        any
	ResponseContent string
	Status          int
}

// Param is a query parameter.
type Param struct {
	Name        string
	Description string
	Type        string // "string" (default), "integer", "boolean"
	Required    bool
}

type apiEntry struct {
	method, path string
	doc          APIDoc
}

type apiRegistry struct {
	mu      sync.Mutex
	entries []apiEntry
	doc     []byte
}

// api registers an /api/v1 route together with its documentation.
func (s *Server) api(method, path string, h echo.HandlerFunc, doc APIDoc, m ...echo.MiddlewareFunc) {
	if !strings.HasPrefix(path, "/api/v1/") {
		panic("portal: s.api is for /api/v1 routes: " + path)
	}
	s.echo.Add(method, path, h, m...)
	s.apis.mu.Lock()
	s.apis.entries = append(s.apis.entries, apiEntry{method: method, path: path, doc: doc})
	s.apis.doc = nil
	s.apis.mu.Unlock()
}

func (s *Server) bindOpenAPI() {
	s.echo.GET("/api/v1/openapi.json", func(c *echo.Context) error {
		doc, err := s.openAPI()
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "public, max-age=300")
		return c.Blob(http.StatusOK, "application/json", doc)
	})
}

var echoParam = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)

// openAPI builds (once) the OpenAPI 3.1 document of every registered route.
func (s *Server) openAPI() ([]byte, error) {
	s.apis.mu.Lock()
	defer s.apis.mu.Unlock()
	if s.apis.doc != nil {
		return s.apis.doc, nil
	}
	b := newSchemaBook()
	problem := b.ref(problemJSON{})
	paths := map[string]map[string]any{}
	for _, e := range s.apis.entries {
		p := echoParam.ReplaceAllString(e.path, "{$1}")
		op := map[string]any{
			"summary":     e.doc.Summary,
			"operationId": operationID(e.method, p),
		}
		if e.doc.Description != "" {
			op["description"] = e.doc.Description
		}
		if e.doc.Tag != "" {
			op["tags"] = []string{e.doc.Tag}
		}
		var params []map[string]any
		for _, m := range echoParam.FindAllStringSubmatch(e.path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range e.doc.Query {
			typ := q.Type
			if typ == "" {
				typ = "string"
			}
			params = append(params, map[string]any{"name": q.Name, "in": "query", "required": q.Required,
				"description": q.Description, "schema": map[string]any{"type": typ}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if e.doc.Body != nil {
			ct := e.doc.BodyContent
			if ct == "" {
				ct = "application/json"
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{ct: map[string]any{"schema": b.ref(e.doc.Body)}}}
		}
		status := e.doc.Status
		if status == 0 {
			status = http.StatusOK
		}
		okResp := map[string]any{"description": http.StatusText(status)}
		if e.doc.Response != nil || e.doc.ResponseContent != "" {
			ct := e.doc.ResponseContent
			if ct == "" {
				ct = "application/json"
			}
			media := map[string]any{}
			if e.doc.Response != nil {
				media["schema"] = b.ref(e.doc.Response)
			}
			okResp["content"] = map[string]any{ct: media}
		}
		op["responses"] = map[string]any{
			fmt.Sprint(status): okResp,
			"default": map[string]any{"description": "Error (RFC 9457)",
				"content": map[string]any{"application/problem+json": map[string]any{"schema": problem}}},
		}
		if e.doc.Auth {
			op["security"] = []map[string][]string{{"bearer": {}}, {"session": {}}}
		}
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(e.method)] = op
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "gobdatos — API de catálogos transversales",
			"version":     s.opts.Version,
			"description": "API JSON del Modelo de Gobierno de Datos (Datosigto). Los errores se responden como application/problem+json (RFC 9457).",
		},
		"servers": []map[string]string{{"url": strings.TrimRight(s.opts.BaseURL, "/")}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": b.defs,
			"securitySchemes": map[string]any{
				"bearer":  map[string]string{"type": "http", "scheme": "bearer", "description": "Token personal de API"},
				"session": map[string]string{"type": "apiKey", "in": "cookie", "name": "gobdatos_sesion"},
			},
		},
	}
	if s.opts.BaseURL == "" {
		delete(doc, "servers")
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("portal: openapi: %w", err)
	}
	s.apis.doc = raw
	return raw, nil
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/") {
		part = strings.Trim(part, "{}")
		for _, w := range strings.FieldsFunc(part, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// schemaBook reflects Go types into JSON Schemas (draft 2020-12, which
// OpenAPI 3.1 uses) kept under components/schemas.
type schemaBook struct {
	r    *jsonschema.Reflector
	defs map[string]json.RawMessage
}

func newSchemaBook() *schemaBook {
	return &schemaBook{
		r:    &jsonschema.Reflector{AllowAdditionalProperties: true, RequiredFromJSONSchemaTags: true},
		defs: map[string]json.RawMessage{},
	}
}

// ref returns a schema for v's type: a $ref into components for named
// types, the inline schema otherwise.
func (b *schemaBook) ref(v any) any {
	sch := b.r.Reflect(v)
	for name, d := range sch.Definitions {
		raw, _ := json.Marshal(d)
		b.defs[name] = rewriteRefs(raw)
	}
	sch.Definitions = nil
	sch.Version = ""
	raw, _ := json.Marshal(sch)
	return json.RawMessage(rewriteRefs(raw))
}

func rewriteRefs(raw []byte) json.RawMessage {
	return bytes.ReplaceAll(raw, []byte(`"#/$defs/`), []byte(`"#/components/schemas/`))
}
