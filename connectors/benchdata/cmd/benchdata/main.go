// Command benchdata writes the benchmark CSV of the load pipeline to
// standard output or to a file:
//
//	go run ./connectors/benchdata/cmd/benchdata --rows 1000000 --seed 1 -o bench.csv
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dgtit-gto/gobdatos/connectors/benchdata"
)

func main() {
	rows := flag.Int("rows", benchdata.DefaultRows, "number of rows")
	seed := flag.Uint64("seed", 1, "seed: the same seed gives the same file")
	out := flag.String("o", "-", "file to write, - for standard output")
	flag.Parse()
	if err := run(*rows, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "benchdata:", err)
		os.Exit(1)
	}
}

func run(rows int, seed uint64, out string) error {
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	if err := benchdata.Write(w, rows, seed); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
