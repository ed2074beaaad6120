package schemas

import _ "embed"

//go:embed nomenclature.yaml
var nomenclatureYAML []byte

// NomenclatureRules returns the DAID naming rules' parameters as shipped
// (YAML; catalog/nomenclature reads them). The caller gets its own copy.
func NomenclatureRules() []byte {
	return append([]byte(nil), nomenclatureYAML...)
}
