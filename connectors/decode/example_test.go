package decode_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/decode"
)

// A Windows-1252 export with semicolons, a quoted field and a ragged row:
// encoding and delimiter are detected, keys keep their zeros, the ragged
// row is reported and left out.
func ExampleOpen() {
	src := "clave;nombre\r\n001;\"Dolores Hidalgo; Cuna\"\r\n002;Jer\xe9cuaro;extra\r\n003;P\xe9njamo\r\n"
	st, err := decode.Open(context.Background(), decode.Input{R: strings.NewReader(src), Name: "municipios.csv"}, connectors.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	fmt.Println(connectors.Names(st.Schema()))
	for st.Next() {
		rec := st.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			fmt.Println(rec.Column(0).ValueStr(i), rec.Column(1).ValueStr(i))
		}
	}
	if err := st.Err(); err != nil {
		fmt.Println(err)
	}
	for _, is := range st.Issues() {
		fmt.Printf("fila %d: %s: %s\n", is.Row, is.Code, is.Message)
	}
	// Output:
	// [clave nombre]
	// 001 Dolores Hidalgo; Cuna
	// 003 Pénjamo
	// fila 3: extra-cell: la fila tiene 3 valores y el encabezado 2 columnas; se omitió la fila
}
