package file_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/file"
)

const inegi = "../../testdata/inegi/municipios_latin1.csv"

func TestOpenINEGI(t *testing.T) {
	t.Parallel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st, err := file.Source{Path: inegi}.Open(context.Background(), connectors.Options{Allocator: mem, BatchSize: 1000})
	require.NoError(t, err)
	defer st.Close()
	var rows int64
	batches := 0
	for st.Next() {
		rows += st.RecordBatch().NumRows()
		batches++
	}
	require.NoError(t, st.Err())
	info, err := os.Stat(inegi)
	require.NoError(t, err)
	assert.Equal(t, int64(2478), rows)
	assert.Equal(t, 3, batches)
	p := st.Progress()
	assert.Equal(t, connectors.Progress{Rows: 2478, Bytes: info.Size(), TotalBytes: info.Size()}, p)
}

func TestOpenMissing(t *testing.T) {
	t.Parallel()
	_, err := file.Source{Path: "no/existe.csv"}.Open(context.Background(), connectors.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "el archivo «no/existe.csv» no existe")
}

func TestCheck(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "vacio.csv")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	header := []string{"cve_entidad", "nom_entidad", "cve_municipio", "nom_municipio", "cve_completa", "cve_cabecera",
		"nom_cabecera", "poblacion_total", "viviendas_habitadas"}
	tests := []struct {
		name    string
		path    string
		expect  []string
		status  connectors.Status
		message string
	}{
		{"ok without expectation", inegi, nil, connectors.StatusOK, "el origen responde"},
		{"ok, same columns", inegi, header, connectors.StatusOK, "el origen responde"},
		{"missing file", filepath.Join(dir, "no.csv"), nil, connectors.StatusMissing, "no existe"},
		{"a folder", dir, nil, connectors.StatusError, "es una carpeta"},
		{"empty file", empty, nil, connectors.StatusError, "vacío"},
		{"drift", inegi, []string{"cve_entidad", "clave_municipio", "nom_municipio"}, connectors.StatusDrift,
			"faltan: clave_municipio; sobran: nom_entidad, cve_municipio, cve_completa, cve_cabecera, nom_cabecera, poblacion_total, viviendas_habitadas); el origen tiene: cve_entidad, nom_entidad"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := file.Source{Path: tc.path}.Check(context.Background(), tc.expect)
			assert.Equal(t, tc.status, res.Status, res.Message)
			assert.Contains(t, res.Message, tc.message)
			assert.Positive(t, res.Latency)
			if tc.status == connectors.StatusOK || tc.status == connectors.StatusDrift {
				assert.Equal(t, header, res.Columns)
			}
		})
	}
}

// Typed files keep their Arrow types: an Arrow IPC file, an Arrow IPC
// stream and a Parquet file with the same table read back the same.
func TestTypedFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "clave", Type: arrow.BinaryTypes.String},
		{Name: "poblacion", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"01", "002", "0003"}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{948990, 0, 17000}, []bool{true, false, true})
	rec := b.NewRecordBatch()
	defer rec.Release()

	write := func(name string, fn func(f *os.File) error) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		require.NoError(t, err)
		require.NoError(t, fn(f))
		_ = f.Close() // pqarrow.WriteTable closes it already
		return p
	}
	arrowFile := write("a.arrow", func(f *os.File) error {
		w, err := ipc.NewFileWriter(f, ipc.WithSchema(schema))
		if err != nil {
			return err
		}
		if err := w.Write(rec); err != nil {
			return err
		}
		return w.Close()
	})
	arrowStream := write("a.bin", func(f *os.File) error {
		w := ipc.NewWriter(f, ipc.WithSchema(schema))
		if err := w.Write(rec); err != nil {
			return err
		}
		return w.Close()
	})
	parquetFile := write("a.parquet", func(f *os.File) error {
		tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
		defer tbl.Release()
		return pqarrow.WriteTable(tbl, f, 2, nil, pqarrow.DefaultWriterProps())
	})
	for _, p := range []string{arrowFile, arrowStream, parquetFile} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			st, err := file.Source{Path: p}.Open(context.Background(), connectors.Options{Allocator: mem})
			require.NoError(t, err)
			defer st.Close()
			var got []string
			for st.Next() {
				r := st.RecordBatch()
				assert.Equal(t, arrow.INT64, r.Column(1).DataType().ID())
				for i := 0; i < int(r.NumRows()); i++ {
					got = append(got, r.Column(0).ValueStr(i)+"="+r.Column(1).ValueStr(i))
				}
			}
			require.NoError(t, st.Err())
			assert.Equal(t, []string{"01=948990", "002=(null)", "0003=17000"}, got)
			assert.Equal(t, int64(3), st.Progress().Rows)
		})
	}
	t.Run("MaxRows", func(t *testing.T) {
		st, err := file.Source{Path: parquetFile}.Open(context.Background(), connectors.Options{MaxRows: 2})
		require.NoError(t, err)
		defer st.Close()
		for st.Next() {
		}
		require.Error(t, st.Err())
		assert.Contains(t, st.Err().Error(), "límite de 2")
	})
}
