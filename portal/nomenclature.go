package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// nomenclatureRules is the answer of GET /api/v1/nomenclature/rules.
type nomenclatureRules struct {
	Rules      []nomenclature.RuleInfo `json:"rules"`
	Parameters *nomenclature.Rules     `json:"parameters"`
}

// bindNomenclature serves the DAID naming rules: anyone may check a
// definition before registering it. The check has no side effects, so it
// needs no account; a browser session still sends its X-CSRF-Token like on
// every other /api route.
func (s *Server) bindNomenclature() {
	if s.opts.Nomenclature == nil {
		r, err := nomenclature.DefaultRules()
		if err != nil {
			panic("portal: " + err.Error()) // the embedded rules are part of the build
		}
		s.opts.Nomenclature = r
	}
	s.api(http.MethodPost, "/api/v1/nomenclature/lint", s.lintDefinition, APIDoc{
		Summary: "Revisar una definición de catálogo contra la nomenclatura DAID",
		Description: "Recibe una definición de catálogo (Frictionless Tabular Data Resource: name, title, description, schema) " +
			"y responde los hallazgos de las reglas NOM-T01…NOM-C10 con su severidad, objeto, mensaje y nombre sugerido. " +
			"Los hallazgos se responden con 200 (valid es false si alguno es error); 422 sólo cuando el cuerpo no es una definición.",
		Tag:      "nomenclatura",
		Body:     tableschema.Resource{},
		Response: nomenclature.Report{},
	})
	s.api(http.MethodGet, "/api/v1/nomenclature/rules", func(c *echo.Context) error {
		return c.JSON(http.StatusOK, nomenclatureRules{Rules: s.opts.Nomenclature.Catalog(), Parameters: s.opts.Nomenclature})
	}, APIDoc{
		Summary:  "Las reglas de la nomenclatura DAID y sus parámetros",
		Tag:      "nomenclatura",
		Response: nomenclatureRules{},
	})
}

func (s *Server) lintDefinition(c *echo.Context) error {
	res, err := tableschema.Parse(c.Request().Body)
	if err == nil && res.Name == "" && len(res.Schema.Fields) == 0 {
		err = errNotDefinition
	}
	if err != nil {
		return &Problem{Status: http.StatusUnprocessableEntity, Code: "definicion_invalida",
			Title:  "El cuerpo no es una definición de catálogo",
			Detail: err.Error(),
			Errors: []ProblemItem{{Field: "body", Message: err.Error()}}}
	}
	return c.JSON(http.StatusOK, s.opts.Nomenclature.CheckResource(&res))
}

var errNotDefinition = errors.New("la definición no tiene «name» ni «schema.fields»: se esperaba un Tabular Data Resource")
