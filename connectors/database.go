package connectors

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// SelectSQL is the statement a database source runs: its query (without a
// trailing semicolon), or SELECT * FROM its table, "name" or
// "schema.name", each part quoted by quote.
func SelectSQL(table, query string, quote func(string) string) (string, error) {
	if q := strings.TrimRight(strings.TrimSpace(query), "; \n\t"); q != "" {
		return q, nil
	}
	parts := strings.Split(table, ".")
	if table == "" || len(parts) > 2 {
		return "", &SourceError{Status: StatusError, Message: fmt.Sprintf(
			"indique una tabla («nombre» o «esquema.nombre») o una consulta; se recibió «%s»", table)}
	}
	for i, p := range parts {
		if p == "" {
			return "", &SourceError{Status: StatusError, Message: fmt.Sprintf("tabla «%s» no válida", table)}
		}
		parts[i] = quote(p)
	}
	return "SELECT * FROM " + strings.Join(parts, "."), nil
}

// Dropped is the error of a database stream whose session ended under it.
func Dropped(where string, rows int64, err error) error {
	return &RowError{Message: fmt.Sprintf("se perdió la conexión con %s tras %d filas", where, rows), Err: err}
}

// Aborted is the error of a query the database stopped at row (its
// message is the server's).
func Aborted(row int64, serverMessage string, err error) error {
	return &RowError{Row: row, Message: "la base de datos interrumpió la consulta: " + serverMessage, Err: err}
}

// ZeroRowSQL wraps a source's statement so that running it proves the
// statement runs and may be read, and names its columns, without a row.
func ZeroRowSQL(query string) string { return "SELECT * FROM (" + query + ") AS q LIMIT 0" }

// RawColumn turns one column's raw (text or binary) database values into
// Arrow.
type RawColumn interface {
	// ColumnName is the column's name, for the errors.
	ColumnName() string
	// AppendValue appends one non-NULL value to b.
	AppendValue(b array.Builder, v []byte) error
}

// NextRawFunc reads the next row of a database result as raw values (nil
// for NULL), valid until the next call; read is the number of rows read
// before it, for the errors. It returns io.EOF after the last row.
type NextRawFunc func(read int64) ([][]byte, error)

// RawFill is the FillFunc of a database source whose rows arrive as raw
// values: it appends each row's values through its columns, counts the
// bytes read and names the row, column and value that cannot be converted.
func RawFill[C RawColumn](cols []C, counter *Counter, next NextRawFunc) FillFunc {
	var read int64
	return func(b *array.RecordBuilder, max int, _ func(RowIssue)) (int, error) {
		var bytes int64
		defer func() { counter.AddBytes(bytes) }()
		for n := 0; n < max; n++ {
			values, err := next(read)
			if err != nil {
				return n, err
			}
			read++
			for i, v := range values {
				bytes += int64(len(v))
				if v == nil {
					b.Field(i).AppendNull()
					continue
				}
				if err := cols[i].AppendValue(b.Field(i), v); err != nil {
					return n, &RowError{Row: read, Column: cols[i].ColumnName(), Value: string(v), Message: err.Error()}
				}
			}
		}
		return max, nil
	}
}
