package connectors_test

import (
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// upper is a RawColumn that keeps text and refuses a value "x".
type upper struct{ name string }

func (c upper) ColumnName() string { return c.name }

func (c upper) AppendValue(b array.Builder, v []byte) error {
	if string(v) == "x" {
		return errors.New("valor no válido")
	}
	b.(*array.StringBuilder).Append(string(v))
	return nil
}

func TestRawFill(t *testing.T) {
	t.Parallel()
	lost := errors.New("conexión perdida")
	tests := []struct {
		name    string
		rows    [][][]byte
		end     error
		max     int
		wantN   []int // rows per call until the error
		wantErr error
		wantRow *connectors.RowError
		bytes   int64
	}{
		{name: "all rows then EOF", rows: [][][]byte{{[]byte("a"), nil}, {[]byte("bc"), []byte("d")}}, end: io.EOF, max: 10,
			wantN: []int{2}, wantErr: io.EOF, bytes: 4},
		{name: "batches of max", rows: [][][]byte{{[]byte("a"), nil}, {[]byte("b"), nil}, {[]byte("c"), nil}}, end: io.EOF, max: 2,
			wantN: []int{2, 1}, wantErr: io.EOF, bytes: 3},
		{name: "source error after rows", rows: [][][]byte{{[]byte("a"), nil}}, end: lost, max: 10,
			wantN: []int{1}, wantErr: lost, bytes: 1},
		{name: "value refused names row, column and value", rows: [][][]byte{{[]byte("a"), nil}, {[]byte("b"), []byte("x")}}, end: io.EOF, max: 10,
			wantN: []int{1}, wantRow: &connectors.RowError{Row: 2, Column: "nombre", Value: "x", Message: "valor no válido"}, bytes: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			schema := arrow.NewSchema([]arrow.Field{{Name: "clave", Type: arrow.BinaryTypes.String, Nullable: true},
				{Name: "nombre", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
			b := array.NewRecordBuilder(mem, schema)
			defer b.Release()
			var reads []int64
			next := func(read int64) ([][]byte, error) {
				reads = append(reads, read)
				if int(read) < len(tt.rows) {
					return tt.rows[read], nil
				}
				return nil, tt.end
			}
			counter := new(connectors.Counter)
			fill := connectors.RawFill([]upper{{"clave"}, {"nombre"}}, counter, next)
			var err error
			for i, want := range tt.wantN {
				var n int
				n, err = fill(b, tt.max, nil)
				assert.Equal(t, want, n, "call %d", i)
				if i < len(tt.wantN)-1 {
					require.NoError(t, err)
				}
				if err == nil || errors.Is(err, io.EOF) {
					b.NewRecordBatch().Release()
				}
			}
			if tt.wantRow != nil {
				var rowErr *connectors.RowError
				require.ErrorAs(t, err, &rowErr)
				assert.Equal(t, *tt.wantRow, *rowErr)
			} else {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			assert.Equal(t, tt.bytes, counter.Progress().Bytes)
			for i, r := range reads {
				assert.Equal(t, int64(i), r, "rows read before call %d", i)
			}
		})
	}
}
