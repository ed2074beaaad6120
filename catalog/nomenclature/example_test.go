package nomenclature_test

import (
	"fmt"
	"os"
	"strings"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// The live table of NOMENCLATURE.md's example, with no comments.
func ExampleRules_CheckTable() {
	rules, err := nomenclature.DefaultRules()
	if err != nil {
		panic(err)
	}
	rep := rules.CheckTable(nomenclature.Table{
		Schema:     "cat",
		Name:       "Cat_Municipios",
		PrimaryKey: []string{"ID"},
		Columns: []nomenclature.Column{
			{Name: "ID", Type: "text", NotNull: true},
			{Name: "Nombre_Municipio", Type: "text"},
			{Name: "fechaAlta", Type: "date"},
			{Name: "vigente", Type: "character(1)"},
		},
	})
	fmt.Println("valid:", rep.Valid)
	for _, f := range rep.Findings {
		fmt.Println(strings.TrimSpace(f.Rule + " " + f.Severity.Label() + " " + f.Object + " " + f.Suggestion))
	}
	// Output:
	// valid: false
	// NOM-C07 error cat.Cat_Municipios
	// NOM-T02 error cat.Cat_Municipios cat_municipio
	// NOM-T04 error cat.Cat_Municipios cat_municipio
	// NOM-T06 error cat.Cat_Municipios
	// NOM-T07 aviso cat.Cat_Municipios cat_municipio
	// NOM-C01 error cat.Cat_Municipios.ID id
	// NOM-C02 error cat.Cat_Municipios.ID
	// NOM-C03 error cat.Cat_Municipios.ID id_municipio
	// NOM-C09 aviso cat.Cat_Municipios.ID
	// NOM-C01 error cat.Cat_Municipios.Nombre_Municipio nombre_municipio
	// NOM-C02 error cat.Cat_Municipios.Nombre_Municipio
	// NOM-C09 aviso cat.Cat_Municipios.Nombre_Municipio
	// NOM-C01 error cat.Cat_Municipios.fechaAlta fecha_alta
	// NOM-C02 error cat.Cat_Municipios.fechaAlta
	// NOM-C05 error cat.Cat_Municipios.fechaAlta
	// NOM-C02 error cat.Cat_Municipios.vigente
	// NOM-C06 error cat.Cat_Municipios.vigente varchar(1)
}

// A definition: the municipalities catalog shipped in testdata is clean.
func ExampleRules_CheckResource() {
	rules, err := nomenclature.DefaultRules()
	if err != nil {
		panic(err)
	}
	f, err := os.Open("../../testdata/catalogs/cat_municipio.json")
	if err != nil {
		panic(err)
	}
	defer f.Close()
	res, err := tableschema.Parse(f)
	if err != nil {
		panic(err)
	}
	rep := rules.CheckResource(&res)
	fmt.Println(rep.Valid, len(rep.Findings))
	// Output: true 0
}

func ExampleTransliterate() {
	for _, s := range []string{"Tipo de Vialidad", "Cat_Tipo Vialidad", "cat_año", "fechaAlta", "Población Total (2020)"} {
		fmt.Println(nomenclature.Transliterate(s))
	}
	// Output:
	// tipo_de_vialidad
	// cat_tipo_vialidad
	// cat_anio
	// fecha_alta
	// poblacion_total_2020
}
