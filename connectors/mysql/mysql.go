// Package mysql is the connector for a table or a query on MySQL or
// MariaDB (go-sql-driver/mysql). Rows are streamed as the server sends them
// (the text protocol, read row by row), never buffered.
package mysql

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	driver "github.com/go-sql-driver/mysql"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// DefaultTimeout bounds connecting when Source.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Source is a table or a query on a MySQL or MariaDB database. Password is
// never marshalled nor printed; a password inside DSN is redacted too.
type Source struct {
	// DSN is go-sql-driver's: user:password@tcp(host:3306)/database.
	DSN string `json:"dsn"`
	// User and Password, when set, replace the DSN's.
	User     string `json:"user,omitempty"`
	Password string `json:"-"`
	// Table is "name" or "database.name"; Query, when set, is used instead.
	Table string `json:"table,omitempty"`
	Query string `json:"query,omitempty"`
	// Timeout bounds connecting (DefaultTimeout).
	Timeout time.Duration `json:"timeout,omitempty"`
}

var _ connectors.Source = Source{}

// Redact hides the password of a DSN.
func Redact(dsn string) string {
	cfg, err := driver.ParseDSN(dsn)
	if err != nil {
		return "(DSN no válido)"
	}
	if cfg.Passwd != "" {
		cfg.Passwd = "xxxxx"
	}
	return cfg.FormatDSN()
}

// String shows the source without its secrets.
func (s Source) String() string { return "mysql " + Redact(s.DSN) + " " + s.Table }

// GoString keeps %#v from printing the secrets.
func (s Source) GoString() string { return s.String() }

// MarshalJSON shows the source without its secrets.
func (s Source) MarshalJSON() ([]byte, error) {
	type plain Source
	p := plain(s)
	p.DSN = Redact(s.DSN)
	return json.Marshal(p)
}

func quote(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

func (s Source) sql() (string, error) { return connectors.SelectSQL(s.Table, s.Query, quote) }

// connect opens one session, its time zone UTC so TIMESTAMPs read as UTC.
func (s Source) connect(ctx context.Context) (*sql.DB, *sql.Conn, string, error) {
	cfg, err := driver.ParseDSN(s.DSN)
	if err != nil {
		return nil, nil, "", &connectors.SourceError{Status: connectors.StatusError, Message: "la dirección (DSN) de la base de datos no es válida"}
	}
	if s.User != "" {
		cfg.User = s.User
	}
	if s.Password != "" {
		cfg.Passwd = s.Password
	}
	cfg.Timeout = s.Timeout
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	cfg.Logger = &driver.NopLogger{}
	where := fmt.Sprintf("el servidor MySQL %s", cfg.Addr)
	connector, err := driver.NewConnector(cfg)
	if err != nil {
		return nil, nil, where, &connectors.SourceError{Status: connectors.StatusError, Message: "la configuración de la base de datos no es válida", Err: err}
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close()
		return nil, nil, where, classify(where, cfg.DBName, err)
	}
	return db, conn, where, nil
}

// classify turns a connection or query error into a SourceError.
func classify(where, database string, err error) error {
	var myErr *driver.MySQLError
	if errors.As(err, &myErr) {
		switch myErr.Number {
		case 1045, 1698:
			return &connectors.SourceError{Status: connectors.StatusAuth, Message: where + " rechazó el usuario o la contraseña", Err: err}
		case 1044, 1142, 1143, 1227:
			return &connectors.SourceError{Status: connectors.StatusPermission, Message: "el usuario no tiene permiso de lectura: " + myErr.Message, Err: err}
		case 1049:
			return &connectors.SourceError{Status: connectors.StatusMissing, Message: fmt.Sprintf("la base de datos «%s» no existe en %s", database, where), Err: err}
		case 1146, 1054:
			return &connectors.SourceError{Status: connectors.StatusMissing, Message: "la tabla o consulta no existe: " + myErr.Message, Err: err}
		case 1064:
			return &connectors.SourceError{Status: connectors.StatusError, Message: "la consulta tiene un error de sintaxis: " + myErr.Message, Err: err}
		}
		return &connectors.SourceError{Status: connectors.StatusError, Message: where + " respondió con un error: " + myErr.Message, Err: err}
	}
	return connectors.Unreachable(where, err)
}

// Open runs the table's or the query's SELECT and streams its rows.
func (s Source) Open(ctx context.Context, opt connectors.Options) (connectors.Stream, error) {
	query, err := s.sql()
	if err != nil {
		return nil, err
	}
	db, conn, where, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	// Cancelling the query's context makes the driver drop the connection:
	// closing a stream early does not read the rows left.
	qctx, cancel := context.WithCancel(ctx)
	closeAll := func() error {
		cancel()
		_ = conn.Close()
		return db.Close()
	}
	rs, err := conn.QueryContext(qctx, query)
	if err != nil {
		_ = closeAll()
		return nil, classify(where, "", err)
	}
	types, err := rs.ColumnTypes()
	if err != nil {
		_ = rs.Close()
		_ = closeAll()
		return nil, classify(where, "", err)
	}
	r := &rows{rs: rs, where: where}
	fields := make([]arrow.Field, len(types))
	cols := make([]column, len(types))
	r.raw = make([]sql.RawBytes, len(types))
	r.values = make([][]byte, len(types))
	r.dest = make([]any, len(types))
	for i, ct := range types {
		cols[i] = columnFor(ct)
		fields[i] = arrow.Field{Name: ct.Name(), Type: cols[i].typ, Nullable: true}
		r.dest[i] = &r.raw[i]
	}
	counter := new(connectors.Counter)
	return connectors.NewStream(ctx, arrow.NewSchema(fields, nil), opt, counter, connectors.RawFill(cols, counter, r.next), func() error {
		cancel()
		_ = rs.Close()
		return closeAll()
	}), nil
}

type rows struct {
	rs     *sql.Rows
	raw    []sql.RawBytes
	values [][]byte
	dest   []any
	where  string
}

func (r *rows) next(read int64) ([][]byte, error) {
	if !r.rs.Next() {
		if err := r.rs.Err(); err != nil {
			var myErr *driver.MySQLError
			if errors.As(err, &myErr) {
				return nil, connectors.Aborted(read+1, myErr.Message, err)
			}
			return nil, connectors.Dropped(r.where, read, err)
		}
		return nil, io.EOF
	}
	if err := r.rs.Scan(r.dest...); err != nil {
		return nil, &connectors.RowError{Row: read + 1, Message: "no se pudo leer la fila", Err: err}
	}
	for i, v := range r.raw {
		r.values[i] = v
	}
	return r.values, nil
}

type kind int

const (
	kText kind = iota
	kInt
	kUint
	kFloat
	kDate
	kDatetime
	kBinary
)

type column struct {
	name string
	typ  arrow.DataType
	kind kind
}

func columnFor(ct *sql.ColumnType) column {
	c := column{name: ct.Name()}
	switch ct.DatabaseTypeName() {
	case "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "YEAR",
		"UNSIGNED TINYINT", "UNSIGNED SMALLINT", "UNSIGNED MEDIUMINT", "UNSIGNED INT":
		c.typ, c.kind = arrow.PrimitiveTypes.Int64, kInt
	case "UNSIGNED BIGINT":
		c.typ, c.kind = arrow.PrimitiveTypes.Uint64, kUint
	case "FLOAT", "DOUBLE":
		c.typ, c.kind = arrow.PrimitiveTypes.Float64, kFloat
	case "DATE":
		c.typ, c.kind = arrow.FixedWidthTypes.Date32, kDate
	case "DATETIME":
		c.typ, c.kind = &arrow.TimestampType{Unit: arrow.Microsecond}, kDatetime
	case "TIMESTAMP":
		c.typ, c.kind = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, kDatetime
	case "BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB", "BIT", "GEOMETRY":
		c.typ, c.kind = arrow.BinaryTypes.Binary, kBinary
	default:
		// DECIMAL keeps its exact digits; text, JSON, ENUM, SET and TIME
		// their text. The pipeline converts.
		c.typ, c.kind = arrow.BinaryTypes.String, kText
	}
	return c
}

func (c column) ColumnName() string { return c.name }

func (c column) AppendValue(b array.Builder, v []byte) error {
	switch c.kind {
	case kInt:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return errors.New("no es un número entero")
		}
		b.(*array.Int64Builder).Append(n)
	case kUint:
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return errors.New("no es un número entero sin signo")
		}
		b.(*array.Uint64Builder).Append(n)
	case kFloat:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return errors.New("no es un número")
		}
		b.(*array.Float64Builder).Append(f)
	case kDate, kDatetime:
		s := string(v)
		if strings.HasPrefix(s, "0000-00-00") {
			// MySQL's «zero date» means «no date».
			b.AppendNull()
			return nil
		}
		layout := "2006-01-02 15:04:05.999999"
		if c.kind == kDate {
			layout = "2006-01-02"
		}
		t, err := time.ParseInLocation(layout, s, time.UTC)
		if err != nil {
			return errors.New("no es una fecha válida")
		}
		if c.kind == kDate {
			b.(*array.Date32Builder).Append(arrow.Date32FromTime(t))
		} else {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
		}
	case kBinary:
		b.(*array.BinaryBuilder).Append(v)
	default:
		b.(*array.StringBuilder).BinaryBuilder.Append(v)
	}
	return nil
}

// Check connects and runs the SELECT with LIMIT 0: existence, privilege and
// columns without reading a row.
func (s Source) Check(ctx context.Context, expect []string) connectors.CheckResult {
	return connectors.CheckColumns(ctx, expect, s.columns)
}

func (s Source) columns(ctx context.Context) ([]string, error) {
	query, err := s.sql()
	if err != nil {
		return nil, err
	}
	db, conn, where, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		_ = conn.Close()
		_ = db.Close()
	}()
	rs, err := conn.QueryContext(ctx, connectors.ZeroRowSQL(query))
	if err != nil {
		return nil, classify(where, "", err)
	}
	defer rs.Close()
	names, err := rs.Columns()
	if err != nil {
		return nil, classify(where, "", err)
	}
	return names, nil
}
