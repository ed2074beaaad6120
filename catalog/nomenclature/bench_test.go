package nomenclature_test

import (
	"testing"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
)

// BenchmarkCheckTable: checking one live table of eight columns (the clean
// municipio) and one with findings on most rules.
func BenchmarkCheckTable(b *testing.B) {
	r := rules(b)
	clean := cleanTable()
	bad := nomenclature.Table{Schema: "cat", Name: "Cat_Municipios", PrimaryKey: []string{"ID"},
		Columns: []nomenclature.Column{{Name: "ID", Type: "text"}, {Name: "Nombre_Municipio", Type: "text"},
			{Name: "fechaAlta", Type: "date"}, {Name: "vigente", Type: "character(1)"}}}
	b.Run("clean", func(b *testing.B) {
		for b.Loop() {
			if !r.CheckTable(clean).Valid {
				b.Fatal("clean table not valid")
			}
		}
	})
	b.Run("bad", func(b *testing.B) {
		for b.Loop() {
			if len(r.CheckTable(bad).Findings) != 17 {
				b.Fatal("want 17 findings")
			}
		}
	})
}

func BenchmarkTransliterate(b *testing.B) {
	for b.Loop() {
		_ = nomenclature.Transliterate("Año de Publicación en el Diario Oficial (DOF)")
	}
}
