package portal

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/stretchr/testify/require"
)

type sampleOut struct {
	Clave  string   `json:"clave"`
	Titulo string   `json:"titulo,omitempty"`
	Tags   []string `json:"tags"`
}

// The document lists exactly the /api/v1 routes the server answers.
func TestOpenAPITrueToRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.srv.api(http.MethodGet, "/api/v1/ejemplos/:clave", func(c *echo.Context) error {
		return c.JSON(200, sampleOut{Clave: c.Param("clave")})
	}, APIDoc{Summary: "Un ejemplo", Tag: "ejemplos", Response: sampleOut{}, Query: []Param{{Name: "limit", Type: "integer"}}})
	b.srv.apis.doc = nil

	res, body := b.do(t, "GET", "/api/v1/openapi.json", nil)
	require.Equal(t, 200, res.StatusCode)
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)
	require.Contains(t, doc.Paths, "/api/v1/ejemplos/{clave}")
	require.Contains(t, doc.Components.Schemas, "sampleOut")
	require.NotContains(t, body, "#/$defs/", "every reference points into components")

	var documented []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(documented)
	var served []string
	for _, r := range b.srv.echo.Router().Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Path == "/api/v1/openapi.json" || r.Method == echo.RouteNotFound {
			continue
		}
		served = append(served, r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(served)
	require.Equal(t, served, documented, "every /api/v1 route is documented, and only those")
}

func TestOperationID(t *testing.T) {
	t.Parallel()
	require.Equal(t, "getCatalogsClaveRows", operationID("GET", "/api/v1/catalogs/{clave}/rows"))
	require.Equal(t, "postNomenclatureLint", operationID("POST", "/api/v1/nomenclature/lint"))
}
