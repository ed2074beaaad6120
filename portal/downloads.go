package portal

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
)

// A download streams a whole version of a catalog: CSV straight from
// PostgreSQL's COPY, JSON row by row, Arrow IPC and Parquet in record
// batches of batchRows; memory stays flat whatever the catalog's size.

type downloadFormat struct {
	ext, name, contentType string
	params                 []Param
	write                  func(s *Server, c *echo.Context, cat *catalog.Catalog, version int) error
}

const batchRows = 16384

var downloadFormats = []downloadFormat{
	{ext: "csv", name: "CSV (UTF-8)", contentType: "text/csv; charset=utf-8", write: (*Server).downloadCSV,
		params: []Param{{Name: "bom", Type: "boolean", Description: "1 antepone la marca de orden de bytes UTF-8, para que Excel lea bien los acentos"}}},
	{ext: "json", name: "JSON (un arreglo de objetos)", contentType: "application/json", write: (*Server).downloadJSON},
	{ext: "arrow", name: "Arrow IPC (archivo)", contentType: "application/vnd.apache.arrow.file", write: (*Server).downloadArrow},
	{ext: "parquet", name: "Parquet", contentType: "application/vnd.apache.parquet", write: (*Server).downloadParquet},
}

func (s *Server) apiDownload(f downloadFormat) echo.HandlerFunc {
	return func(c *echo.Context) error {
		cat, err := s.visibleCatalog(c)
		if err != nil {
			return err
		}
		version, err := versionParam(c)
		if err != nil {
			return err
		}
		if err := f.write(s, c, cat, version); err != nil {
			return catalogProblem(err)
		}
		return nil
	}
}

// start sends the headers once the version is known (before any byte).
func (s *Server) startDownload(c *echo.Context, cat *catalog.Catalog, ext, contentType string) catalog.ExportStart {
	return func(version int) error {
		attachment(c, contentType, fileName(cat, version, ext))
		c.Response().Header().Set("X-Catalog-Version", fmt.Sprint(version))
		c.Response().WriteHeader(http.StatusOK)
		return nil
	}
}

func (s *Server) downloadCSV(c *echo.Context, cat *catalog.Catalog, version int) error {
	bom := c.QueryParam("bom")
	start := s.startDownload(c, cat, "csv", "text/csv; charset=utf-8")
	w := bufio.NewWriterSize(c.Response(), 64<<10)
	_, err := s.catalogs().CopyCSV(c.Request().Context(), cat, version, func(v int) error {
		if err := start(v); err != nil {
			return err
		}
		if bom == "1" || bom == "true" {
			_, err := w.WriteString("\ufeff")
			return err
		}
		return nil
	}, w)
	if err != nil {
		return err
	}
	return w.Flush()
}

func (s *Server) downloadJSON(c *echo.Context, cat *catalog.Catalog, version int) error {
	w := bufio.NewWriterSize(c.Response(), 64<<10)
	n := 0
	err := s.catalogs().ScanJSON(c.Request().Context(), cat, version, s.startDownload(c, cat, "json", "application/json"), func(obj []byte) error {
		sep := ",\n"
		if n == 0 {
			sep = "[\n"
		}
		n++
		if _, err := w.WriteString(sep); err != nil {
			return err
		}
		_, err := w.Write(obj)
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		_, _ = w.WriteString("[")
	}
	_, _ = w.WriteString("\n]\n")
	return w.Flush()
}

// arrowSchema maps the catalog's columns to Arrow types: integers, floats,
// booleans, dates and timestamps keep their type; numeric (exact decimals
// of any scale) and everything else travel as text, losing nothing.
func arrowSchema(cat *catalog.Catalog) (*arrow.Schema, error) {
	fields, types, err := catalog.Columns(cat)
	if err != nil {
		return nil, err
	}
	out := make([]arrow.Field, len(fields))
	for i, f := range fields {
		out[i] = arrow.Field{Name: f.Name, Type: arrowType(types[i]), Nullable: !f.Constraints.Required,
			Metadata: arrow.NewMetadata([]string{"description"}, []string{f.Description})}
	}
	md := arrow.NewMetadata([]string{"catalog", "title"}, []string{cat.Clave, cat.Title})
	return arrow.NewSchema(out, &md), nil
}

func arrowType(t tableschema.SQLType) arrow.DataType {
	switch t.Base {
	case "smallint", "int2":
		return arrow.PrimitiveTypes.Int16
	case "integer", "int", "int4":
		return arrow.PrimitiveTypes.Int32
	case "bigint", "int8":
		return arrow.PrimitiveTypes.Int64
	case "real", "float4":
		return arrow.PrimitiveTypes.Float32
	case "double precision", "float8":
		return arrow.PrimitiveTypes.Float64
	case "boolean", "bool":
		return arrow.FixedWidthTypes.Boolean
	case "date":
		return arrow.FixedWidthTypes.Date32
	case "timestamptz":
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case "timestamp":
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	}
	return arrow.BinaryTypes.String
}

// appendValue adds one PostgreSQL value to an Arrow builder.
func appendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.Int16Builder:
		b.Append(toInt[int16](v))
	case *array.Int32Builder:
		b.Append(toInt[int32](v))
	case *array.Int64Builder:
		b.Append(toInt[int64](v))
	case *array.Float32Builder:
		f, _ := v.(float32)
		b.Append(f)
	case *array.Float64Builder:
		f, _ := v.(float64)
		b.Append(f)
	case *array.BooleanBuilder:
		x, _ := v.(bool)
		b.Append(x)
	case *array.Date32Builder:
		t, _ := v.(time.Time)
		b.Append(arrow.Date32FromTime(t))
	case *array.TimestampBuilder:
		t, _ := v.(time.Time)
		b.Append(arrow.Timestamp(t.UnixMicro()))
	case *array.StringBuilder:
		b.Append(textOf(v))
	default:
		return fmt.Errorf("portal: arrow builder %T", b)
	}
	return nil
}

func toInt[T int16 | int32 | int64](v any) T {
	switch x := v.(type) {
	case int16:
		return T(x)
	case int32:
		return T(x)
	case int64:
		return T(x)
	}
	return 0
}

// textOf writes a value the way PostgreSQL's text output would.
func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case pgtype.Numeric:
		if !x.Valid {
			return ""
		}
		if x.NaN {
			return "NaN"
		}
		r := new(big.Rat).SetInt(x.Int)
		exp := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(x.Exp))), nil)
		if x.Exp < 0 {
			r.Quo(r, new(big.Rat).SetInt(exp))
			return r.FloatString(int(-x.Exp))
		}
		return r.Mul(r, new(big.Rat).SetInt(exp)).FloatString(0)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case fmt.Stringer:
		return x.String()
	case []byte:
		return string(x)
	}
	if raw, err := json.Marshal(v); err == nil {
		return string(raw)
	}
	return fmt.Sprint(v)
}

func abs(n int32) int32 {
	if n < 0 {
		return -n
	}
	return n
}

// writeBatches streams the version as Arrow records of batchRows rows to
// write; each record is released after it is written.
func (s *Server) writeBatches(c *echo.Context, cat *catalog.Catalog, version int, mem memory.Allocator, schema *arrow.Schema, start catalog.ExportStart, write func(arrow.RecordBatch) error) error {
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	n := 0
	flush := func() error {
		rec := rb.NewRecordBatch()
		defer rec.Release()
		n = 0
		return write(rec)
	}
	err := s.catalogs().ScanValues(c.Request().Context(), cat, version, start, func(row []any) error {
		for i, v := range row {
			if err := appendValue(rb.Field(i), v); err != nil {
				return err
			}
		}
		n++
		if n == batchRows {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if n > 0 {
		return flush()
	}
	return nil
}

func (s *Server) downloadArrow(c *echo.Context, cat *catalog.Catalog, version int) error {
	return writeArrow(s, c, cat, version, memory.DefaultAllocator, c.Response())
}

func writeArrow(s *Server, c *echo.Context, cat *catalog.Catalog, version int, mem memory.Allocator, out io.Writer) error {
	schema, err := arrowSchema(cat)
	if err != nil {
		return err
	}
	var fw *ipc.FileWriter
	start := s.startDownload(c, cat, "arrow", "application/vnd.apache.arrow.file")
	err = s.writeBatches(c, cat, version, mem, schema, func(v int) error {
		if err := start(v); err != nil {
			return err
		}
		var err error
		fw, err = ipc.NewFileWriter(out, ipc.WithSchema(schema), ipc.WithAllocator(mem))
		return err
	}, func(rec arrow.RecordBatch) error { return fw.Write(rec) })
	if err != nil {
		if fw != nil {
			_ = fw.Close()
		}
		return err
	}
	return fw.Close()
}

func (s *Server) downloadParquet(c *echo.Context, cat *catalog.Catalog, version int) error {
	return writeParquet(s, c, cat, version, memory.DefaultAllocator, c.Response())
}

func writeParquet(s *Server, c *echo.Context, cat *catalog.Catalog, version int, mem memory.Allocator, out io.Writer) error {
	schema, err := arrowSchema(cat)
	if err != nil {
		return err
	}
	var pw *pqarrow.FileWriter
	start := s.startDownload(c, cat, "parquet", "application/vnd.apache.parquet")
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithAllocator(mem))
	err = s.writeBatches(c, cat, version, mem, schema, func(v int) error {
		if err := start(v); err != nil {
			return err
		}
		var err error
		pw, err = pqarrow.NewFileWriter(schema, out, props, pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema()))
		return err
	}, func(rec arrow.RecordBatch) error { return pw.Write(rec) })
	if err != nil {
		if pw != nil {
			_ = pw.Close()
		}
		return err
	}
	return pw.Close()
}
