// Package postgres is the connector for a table or a query on a remote
// PostgreSQL. Rows are streamed as they arrive (one extended-protocol query,
// binary where a column's type has a fixed Arrow counterpart), never
// buffered: memory is one batch, whatever the table's size.
package postgres

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// DefaultTimeout bounds connecting when Source.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// AppName is the application_name of the connector's sessions, so a DBA
// on the entity's side sees who reads.
const AppName = "gobdatos connector"

// Source is a table or a query on a PostgreSQL database. Password is never
// marshalled nor printed; a password inside URL is redacted too.
type Source struct {
	// URL is a postgres:// URL or a keyword/value DSN.
	URL string `json:"url"`
	// User and Password, when set, replace the URL's.
	User     string `json:"user,omitempty"`
	Password string `json:"-"`
	// Table is "name" or "schema.name"; Query, when set, is used instead.
	Table string `json:"table,omitempty"`
	Query string `json:"query,omitempty"`
	// Timeout bounds connecting (DefaultTimeout).
	Timeout time.Duration `json:"timeout,omitempty"`
}

var _ connectors.Source = Source{}

// String shows the source without its secrets.
func (s Source) String() string { return "postgres " + pgdb.RedactURL(s.URL) + " " + s.what() }

// GoString keeps %#v from printing the secrets.
func (s Source) GoString() string { return s.String() }

// MarshalJSON shows the source without its secrets.
func (s Source) MarshalJSON() ([]byte, error) {
	type plain Source
	p := plain(s)
	p.URL = pgdb.RedactURL(s.URL)
	return json.Marshal(p)
}

func (s Source) what() string {
	if s.Query != "" {
		return "(consulta)"
	}
	return s.Table
}

// sql is the statement the source runs.
func (s Source) sql() (string, error) {
	return connectors.SelectSQL(s.Table, s.Query, pgdb.QuoteIdent)
}

// connect opens one read-only session.
func (s Source) connect(ctx context.Context) (*pgx.Conn, string, error) {
	cfg, err := pgx.ParseConfig(s.URL)
	if err != nil {
		return nil, "", &connectors.SourceError{Status: connectors.StatusError,
			Message: "la dirección de la base de datos no es válida", Err: pgdb.Redact(err)}
	}
	if s.User != "" {
		cfg.User = s.User
	}
	if s.Password != "" {
		cfg.Password = s.Password
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	cfg.ConnectTimeout = timeout
	cfg.RuntimeParams["application_name"] = AppName
	// A query that writes is refused by the server itself.
	cfg.RuntimeParams["default_transaction_read_only"] = "on"
	where := fmt.Sprintf("el servidor PostgreSQL %s:%d", cfg.Host, cfg.Port)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, where, classify(where, cfg.Database, err)
	}
	return conn, where, nil
}

// classify turns a connection or query error into a SourceError.
func classify(where, database string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case pgdb.InvalidPassword, pgdb.InvalidAuthSpec:
			return &connectors.SourceError{Status: connectors.StatusAuth, Message: where + " rechazó el usuario o la contraseña", Err: err}
		case "3D000":
			return &connectors.SourceError{Status: connectors.StatusMissing, Message: fmt.Sprintf("la base de datos «%s» no existe en %s", database, where), Err: err}
		case pgdb.UndefinedTable, "3F000", "42703":
			return &connectors.SourceError{Status: connectors.StatusMissing, Message: "la tabla o consulta no existe: " + pgErr.Message, Err: err}
		case pgdb.InsufficientPriv:
			return &connectors.SourceError{Status: connectors.StatusPermission, Message: "el usuario no tiene permiso de lectura: " + pgErr.Message, Err: err}
		case "42601":
			return &connectors.SourceError{Status: connectors.StatusError, Message: "la consulta tiene un error de sintaxis: " + pgErr.Message, Err: err}
		}
		return &connectors.SourceError{Status: connectors.StatusError, Message: where + " respondió con un error: " + pgErr.Message, Err: err}
	}
	return connectors.Unreachable(where, err)
}

// Open runs the table's or the query's SELECT and streams its rows.
func (s Source) Open(ctx context.Context, opt connectors.Options) (connectors.Stream, error) {
	query, err := s.sql()
	if err != nil {
		return nil, err
	}
	conn, where, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	sd, err := conn.Prepare(ctx, "", query)
	if err != nil {
		closeConn(conn)
		return nil, classify(where, conn.Config().Database, err)
	}
	cols := make([]column, len(sd.Fields))
	fields := make([]arrow.Field, len(sd.Fields))
	formats := make([]int16, len(sd.Fields))
	for i, f := range sd.Fields {
		cols[i] = columnFor(f)
		fields[i] = arrow.Field{Name: f.Name, Type: cols[i].typ, Nullable: true}
		formats[i] = cols[i].format
	}
	rr := conn.PgConn().ExecParams(ctx, query, nil, sd.ParamOIDs, nil, formats)
	r := &rows{conn: conn, rr: rr, where: where}
	counter := new(connectors.Counter)
	return connectors.NewStream(ctx, arrow.NewSchema(fields, nil), opt, counter, connectors.RawFill(cols, counter, r.next), r.close), nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

type rows struct {
	conn  *pgx.Conn
	rr    *pgconn.ResultReader
	where string
}

func (r *rows) next(read int64) ([][]byte, error) {
	if !r.rr.NextRow() {
		if _, err := r.rr.Close(); err != nil {
			return nil, r.readError(read, err)
		}
		return nil, io.EOF
	}
	return r.rr.Values(), nil
}

func (r *rows) readError(read int64, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if read == 0 {
			return classify(r.where, r.conn.Config().Database, err)
		}
		return connectors.Aborted(read+1, pgErr.Message, err)
	}
	return connectors.Dropped(r.where, read, err)
}

func (r *rows) close() error {
	// Closing the session ends the query on the server without reading the
	// rows left.
	closeConn(r.conn)
	return nil
}

// column knows how to turn one PostgreSQL column's values into Arrow.
type column struct {
	name   string
	typ    arrow.DataType
	format int16 // pgx.TextFormatCode or pgx.BinaryFormatCode
	oid    uint32
}

// pgEpoch is 2000-01-01, PostgreSQL's zero for dates and timestamps.
const (
	pgEpochDays   = 10957
	pgEpochMicros = 946684800000000
)

func columnFor(f pgconn.FieldDescription) column {
	c := column{name: f.Name, oid: f.DataTypeOID, format: pgx.BinaryFormatCode}
	switch f.DataTypeOID {
	case pgtype.BoolOID:
		c.typ = arrow.FixedWidthTypes.Boolean
	case pgtype.Int2OID:
		c.typ = arrow.PrimitiveTypes.Int16
	case pgtype.Int4OID:
		c.typ = arrow.PrimitiveTypes.Int32
	case pgtype.Int8OID:
		c.typ = arrow.PrimitiveTypes.Int64
	case pgtype.Float4OID:
		c.typ = arrow.PrimitiveTypes.Float32
	case pgtype.Float8OID:
		c.typ = arrow.PrimitiveTypes.Float64
	case pgtype.DateOID:
		c.typ = arrow.FixedWidthTypes.Date32
	case pgtype.TimestampOID:
		c.typ = &arrow.TimestampType{Unit: arrow.Microsecond}
	case pgtype.TimestamptzOID:
		c.typ = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	case pgtype.ByteaOID:
		c.typ = arrow.BinaryTypes.Binary
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID:
		c.typ = arrow.BinaryTypes.String
	default:
		// numeric keeps its exact digits, uuid, json, intervals and the
		// rest their PostgreSQL text form; the pipeline converts.
		c.typ = arrow.BinaryTypes.String
		c.format = pgx.TextFormatCode
	}
	return c
}

var errInfinite = errors.New("fecha infinita")

func (c column) ColumnName() string { return c.name }

func (c column) AppendValue(b array.Builder, v []byte) error {
	switch c.oid {
	case pgtype.BoolOID:
		b.(*array.BooleanBuilder).Append(v[0] == 1)
	case pgtype.Int2OID:
		b.(*array.Int16Builder).Append(int16(binary.BigEndian.Uint16(v)))
	case pgtype.Int4OID:
		b.(*array.Int32Builder).Append(int32(binary.BigEndian.Uint32(v)))
	case pgtype.Int8OID:
		b.(*array.Int64Builder).Append(int64(binary.BigEndian.Uint64(v)))
	case pgtype.Float4OID:
		b.(*array.Float32Builder).Append(math.Float32frombits(binary.BigEndian.Uint32(v)))
	case pgtype.Float8OID:
		b.(*array.Float64Builder).Append(math.Float64frombits(binary.BigEndian.Uint64(v)))
	case pgtype.DateOID:
		d := int32(binary.BigEndian.Uint32(v))
		if d == math.MaxInt32 || d == math.MinInt32 {
			return fmt.Errorf("la fecha es infinita; no tiene equivalente: %w", errInfinite)
		}
		b.(*array.Date32Builder).Append(arrow.Date32(d + pgEpochDays))
	case pgtype.TimestampOID, pgtype.TimestamptzOID:
		us := int64(binary.BigEndian.Uint64(v))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return fmt.Errorf("la fecha y hora es infinita; no tiene equivalente: %w", errInfinite)
		}
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(us + pgEpochMicros))
	case pgtype.ByteaOID:
		b.(*array.BinaryBuilder).Append(v)
	default:
		b.(*array.StringBuilder).BinaryBuilder.Append(v)
	}
	return nil
}

// Check connects, prepares the table's or query's SELECT (which proves it
// exists and may be read, without reading a row) and compares its columns.
func (s Source) Check(ctx context.Context, expect []string) connectors.CheckResult {
	return connectors.CheckColumns(ctx, expect, s.columns)
}

func (s Source) columns(ctx context.Context) ([]string, error) {
	query, err := s.sql()
	if err != nil {
		return nil, err
	}
	conn, where, err := s.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer closeConn(conn)
	sd, err := conn.Prepare(ctx, "", query)
	if err != nil {
		return nil, classify(where, conn.Config().Database, err)
	}
	// Prepare does not check SELECT privilege on every relation; a
	// zero-row read does.
	if _, err := conn.Exec(ctx, connectors.ZeroRowSQL(query)); err != nil {
		return nil, classify(where, conn.Config().Database, err)
	}
	names := make([]string, len(sd.Fields))
	for i, f := range sd.Fields {
		names[i] = f.Name
	}
	return names, nil
}
