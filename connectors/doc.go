// Package connectors opens an entity's data source — a file, an HTTP
// endpoint, a PostgreSQL or MySQL table or query — as an Arrow record stream
// with bounded memory, and answers a connectivity check.
//
// Text formats (CSV, JSON, NDJSON) yield utf8 columns named from the header,
// values exactly as in the source (keys keep their leading zeros); the
// pipeline converts them per the catalog's schema. Typed sources (PostgreSQL,
// MySQL, Arrow IPC, Parquet) yield their own Arrow types.
//
// Each kind lives in its own package (connectors/file, connectors/http,
// connectors/postgres, connectors/mysql); format decoding, shared by files
// and HTTP bodies, lives in connectors/decode.
package connectors
