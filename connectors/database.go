package connectors

import (
	"fmt"
	"strings"
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
