package pipeline

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/decode"
)

const localidadCatalog = `{"name": "cat_localidad", "title": "Localidades", "description": "Localidades de prueba.",
 "schema": {"fields": [
   {"name": "id_localidad", "type": "string", "description": "Clave.", "constraints": {"required": true}},
   {"name": "nombre", "type": "string", "description": "Nombre.", "constraints": {"maxLength": 40}},
   {"name": "poblacion", "type": "integer", "description": "Habitantes.", "constraints": {"minimum": 0}},
   {"name": "urbana", "type": "boolean", "description": "Si es urbana."},
   {"name": "alta", "type": "date", "description": "Fecha de alta."},
   {"name": "superficie", "type": "number", "description": "Superficie."}
 ], "primaryKey": "id_localidad"}}`

// localidades is a CSV of n rows of cat_localidad; edit may change row i
// (0-based) or drop it (returning false).
func localidades(n int, edit func(i int, r []string) bool) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"id_localidad", "nombre", "poblacion", "urbana", "alta", "superficie"})
	names := []string{"León", "con\ttabulador", "dos\nlíneas", `barra \ invertida`, "comillas \"dobles\", y coma", "", "control \b\f\v"}
	for i := range n {
		r := []string{fmt.Sprintf("%04d", i+1), names[i%len(names)], fmt.Sprint(i * 10), []string{"true", "false"}[i%2],
			fmt.Sprintf("2020-01-%02d", 1+i%28), fmt.Sprintf("%d.%02d", i, i%100)}
		if edit == nil || edit(i, r) {
			_ = w.Write(r)
		}
	}
	w.Flush()
	return b.String()
}

func (b *loadBundle) version(t *testing.T, clave string) int {
	t.Helper()
	c, err := b.store.ByClave(b.ctx, clave)
	require.NoError(t, err)
	return c.CurrentVersion
}

func TestReloadComparesWithThePublishedRows(t *testing.T) {
	t.Parallel()
	first := localidades(50, nil)
	cols := "id_localidad, nombre, poblacion, urbana, alta, superficie"
	for _, tc := range []struct {
		name   string
		text   string
		state  State
		counts [3]int64 // added, changed, removed
		errs   []string // the report's messages
		same   bool     // no new version
	}{
		{name: "unchanged", text: first, state: Succeeded, same: true},
		{name: "spelled otherwise, equal", state: Succeeded, same: true, text: localidades(50, func(i int, r []string) bool {
			if i == 3 {
				r[2], r[3] = "0030", []string{"sí", "0"}[i%2] // 030 → 30; "0" is false
			}
			if i == 4 {
				r[3] = "VERDADERO"
			}
			return true
		})},
		{name: "one changed, one added, one removed", state: Succeeded, counts: [3]int64{1, 1, 1}, text: localidades(51, func(i int, r []string) bool {
			if i == 7 {
				r[1] = "cambiada\tcon tabulador"
			}
			return i != 20
		})},
		{name: "repeat of an unchanged row", state: Rejected, errs: []string{
			"fila 42, columna «id_localidad», valor «0005»: la clave primaria se repite; ya aparece en la fila 6"}, text: localidades(50, func(i int, r []string) bool {
			if i == 40 {
				r[0], r[1] = "0005", "repetida"
			}
			return true
		})},
		{name: "unchanged repeat of a changed row", state: Rejected, errs: []string{
			"fila 40, columna «id_localidad», valor «0039»: la clave primaria se repite; ya aparece en la fila 3"}, text: localidades(50, func(i int, r []string) bool {
			if i == 1 {
				r[0], r[2] = "0039", "7" // row 3 now carries 0039, changed
			}
			return true
		})},
		{name: "a changed row is invalid", state: Rejected, errs: []string{
			"fila 12, columna «poblacion», valor «-5»: el valor es menor que el mínimo 0"}, text: localidades(50, func(i int, r []string) bool {
			if i == 10 {
				r[2] = "-5"
			}
			return true
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupLoad(t)
			b.create(t, localidadCatalog, false)
			require.Equal(t, Succeeded, b.load(t, "localidad", first, 7).State)
			before := b.live(t, "cat_localidad", cols)

			run := b.load(t, "localidad", tc.text, 7)
			require.Equal(t, tc.state, run.State, run.Error)
			var msgs []string
			for _, e := range run.Report.Errors {
				msgs = append(msgs, e.Message)
			}
			require.Equal(t, tc.errs, msgs)
			if tc.state != Succeeded || tc.same {
				require.Equal(t, before, b.live(t, "cat_localidad", cols), "the published rows are untouched")
				require.Equal(t, 1, b.version(t, "localidad"))
				return
			}
			require.Equal(t, tc.counts, [3]int64{run.RowsAdded, run.RowsChanged, run.RowsRemoved})
			require.Equal(t, 2, b.version(t, "localidad"))
			// Version 1 is still the first load, version 2 the re-load.
			c, err := b.store.ByClave(b.ctx, "localidad")
			require.NoError(t, err)
			var diff []string
			require.NoError(t, b.store.Diff(b.ctx, c, 1, 2, func(d catalog.DiffRow) error {
				diff = append(diff, fmt.Sprintf("%s %v", d.Kind, d.Key[0]))
				return nil
			}))
			require.Equal(t, []string{"changed 0008", "removed 0021", "added 0051"}, diff)
			require.Equal(t, countRows(t, b, c, 1), 50)
			require.Equal(t, countRows(t, b, c, 2), 50)
			require.Equal(t, b.live(t, "cat_localidad", cols), reloaded(t, b, tc.text))
		})
	}
}

func countRows(t *testing.T, b *loadBundle, c *catalog.Catalog, v int) int {
	n := 0
	require.NoError(t, b.store.ScanVersion(b.ctx, c, v, func([]any) error { n++; return nil }))
	return n
}

// reloaded is what b.live shows after a load of text into a fresh catalog.
func reloaded(t *testing.T, b *loadBundle, text string) string {
	c := b.create(t, strings.ReplaceAll(localidadCatalog, "cat_localidad", "cat_localidad_copia"), false)
	require.Equal(t, Succeeded, b.load(t, c.Clave, text, 100).State)
	return b.live(t, "cat_localidad_copia", "id_localidad, nombre, poblacion, urbana, alta, superficie")
}

// TestReloadStagesOnlyChangedRows reads a re-load's source as COPY would:
// only the new and changed rows come out, numbered as in the file, whether
// the published rows come from the live table or from the digest the first
// load stored.
func TestReloadStagesOnlyChangedRows(t *testing.T) {
	t.Parallel()
	for _, fromDigest := range []bool{false, true} {
		t.Run(fmt.Sprintf("digest=%v", fromDigest), func(t *testing.T) {
			t.Parallel()
			testReloadStagesOnlyChangedRows(t, fromDigest)
		})
	}
}

func testReloadStagesOnlyChangedRows(t *testing.T, fromDigest bool) {
	b := setupLoad(t)
	c := b.create(t, localidadCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "localidad", localidades(300, nil), 64).State)
	c, err := b.store.ByClave(b.ctx, c.Clave)
	require.NoError(t, err)
	cols, err := columnsOf(c.Resource, pgtype.NewMap())
	require.NoError(t, err)
	require.True(t, deltaApplies(c.Resource, cols))
	var plan digestPlan
	if fromDigest {
		shape, err := digestShape(c.Resource)
		require.NoError(t, err)
		plan, err = prepareDigest(b.ctx, b.pool, c, shape)
		require.NoError(t, err)
	}
	pending := readPublished(b.ctx, b.pool, c, cols, plan, slog.Default())
	defer pending.stop()

	text := localidades(310, func(i int, r []string) bool {
		if i%50 == 0 {
			r[5] = "1.5"
		}
		return i != 99
	})
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	stream, err := decode.Open(b.ctx, decode.Input{R: strings.NewReader(text), Name: "l.csv"},
		connectors.Options{Format: connectors.FormatCSV, BatchSize: 64, Allocator: mem, Delimiter: ','})
	require.NoError(t, err)
	defer stream.Close()
	src, labels := bindColumns(cols, stream.Schema())
	require.Empty(t, labels)
	errs := newCollector(10)
	v := &validator{cols: cols, src: src, missing: missingValues(c), errs: errs, rowBase: 2}
	rs := newRowSource(b.ctx, stream, v, 0)
	rs.delta = newDelta(pending, keySets(c.Resource)[0], nil)
	staged, err := io.ReadAll(rs)
	require.NoError(t, err)
	var rows []int64
	for _, line := range strings.Split(strings.TrimSuffix(string(staged), "\n"), "\n") {
		fields := strings.Split(line, "\t")
		require.Len(t, fields, len(cols)+1, line)
		row, err := strconv.ParseInt(fields[len(cols)], 10, 64)
		require.NoError(t, err)
		rows = append(rows, row)
	}
	require.Zero(t, errs.count())
	// rows 2, 52, … changed; the rows from 301 on are new (row 101 left
	// out shifts them: file row 301 holds id 0301).
	want := []int64{2, 52, 101, 151, 201, 251}
	for r := int64(301); r <= 310; r++ {
		want = append(want, r)
	}
	require.Equal(t, want, rows)
	require.EqualValues(t, 309, rs.read.Load())
	require.EqualValues(t, 309, rs.valid.Load())

	p, err := pending.wait()
	require.NoError(t, err)
	require.Equal(t, fromDigest, p.fromDigest)
	var removed bytes.Buffer
	_, err = removed.ReadFrom(p.removedKeys())
	require.NoError(t, err)
	keys := strings.Fields(removed.String())
	slices.Sort(keys)
	require.Equal(t, []string{"0001", "0051", "0100", "0101", "0151", "0201", "0251"}, keys, "the changed keys and the one left out")
}

func TestReloadChecksForeignKeysOfChangedRows(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	b.create(t, municipioCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "entidad", entidades, 10).State)
	good := "id_municipio,id_entidad,nombre,poblacion_total\n11001,11,Abasolo,90000\n11002,11,Acámbaro,100000\n14001,14,Acatic,20000\n"
	require.Equal(t, Succeeded, b.load(t, "municipio", good, 2).State)
	before := b.live(t, "cat_municipio", "id_municipio, id_entidad")
	run := b.load(t, "municipio", strings.Replace(good, "11002,11", "11002,99", 1), 2)
	require.Equal(t, Rejected, run.State)
	require.Len(t, run.Report.Errors, 1)
	require.Equal(t, ErrForeignKey, run.Report.Errors[0].Type)
	require.EqualValues(t, 3, run.Report.Errors[0].RowNumber)
	require.Equal(t, before, b.live(t, "cat_municipio", "id_municipio, id_entidad"))
}

// TestReloadPublishValidRows: a changed row that is rejected leaves the
// catalog, as it does when every row is staged.
func TestReloadPublishValidRows(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, true)
	require.Equal(t, Succeeded, b.load(t, "entidad", entidades, 10).State)
	run := b.load(t, "entidad", "id_entidad,nombre\n01,Aguascalientes\n11,\n14,Jalisco\n01,Otra\n", 10)
	require.Equal(t, Succeeded, run.State, run.Error)
	require.EqualValues(t, 2, run.RowsRejected)
	require.EqualValues(t, 1, run.RowsRemoved)
	require.Equal(t, "(01,Aguascalientes);(14,Jalisco)", b.live(t, "cat_entidad", "id_entidad, nombre"))
}

// TestReloadRaggedRowsKeepTheirNumbers: decoded ahead, the rows are
// numbered as they are without it.
func TestReloadRaggedRowsKeepTheirNumbers(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "entidad", "id_entidad,nombre\n01,Aguascalientes\n06,Colima\n07,Chiapas\n", 2).State)
	text := "id_entidad,nombre\n01,Aguascalientes\n02,Baja California,sobra\n03\n04,Mal,Nombre\n1X,Fila cinco\n06,Sonora\n07,Chiapas,x\n01,Otra vez\n"
	run := b.load(t, "entidad", text, 2)
	require.Equal(t, Rejected, run.State)
	require.EqualValues(t, 8, run.RowsRead)
	require.EqualValues(t, 6, run.RowsRejected)
	var got []string
	for _, e := range run.Report.Errors {
		got = append(got, fmt.Sprintf("%d %s", e.RowNumber, e.Type))
	}
	require.Equal(t, []string{"3 extra-cell", "4 missing-cell", "5 extra-cell", "6 constraint-error", "8 extra-cell", "9 primary-key"}, got)
	require.Equal(t, "(01,Aguascalientes);(06,Colima);(07,Chiapas)", b.live(t, "cat_entidad", "id_entidad, nombre"))
}
