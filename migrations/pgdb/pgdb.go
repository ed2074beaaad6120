// Package pgdb holds the small PostgreSQL seam every store shares: the DBTX
// interface that a pool, a connection and a transaction all satisfy, the
// transaction helper, identifier quoting and pool opening.
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DBTX is what store methods take, so that each can run on the pool or join
// the caller's transaction.
type DBTX interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
	Begin(ctx context.Context) (pgx.Tx, error)
}

var (
	_ DBTX = (*pgxpool.Pool)(nil)
	_ DBTX = (*pgx.Conn)(nil)
	_ DBTX = (pgx.Tx)(nil)
)

// rollbackTimeout bounds a rollback that runs after the caller's context is
// gone, so a cancelled request never leaves a transaction open.
const rollbackTimeout = 5 * time.Second

// WithTx runs fn in a transaction (a savepoint when db is already one) and
// commits when fn returns nil.
func WithTx(ctx context.Context, db DBTX, fn func(tx pgx.Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer Rollback(ctx, tx)
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Rollback rolls tx back even when ctx is already cancelled; after a commit it
// does nothing.
func Rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_ = tx.Rollback(ctx)
}

// QuoteIdent quotes a PostgreSQL identifier. Names reach SQL only through it
// (or pgx.Identifier), never by concatenation.
func QuoteIdent(name string) string {
	return pgx.Identifier{name}.Sanitize()
}

// QuoteQualified quotes schema.name.
func QuoteQualified(schema, name string) string {
	return pgx.Identifier{schema, name}.Sanitize()
}

// QuoteLiteral quotes a string literal for the few statements that take no
// parameters (COMMENT ON, CREATE ROLE … PASSWORD).
func QuoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Open connects a pool to url and checks that the database answers.
func Open(ctx context.Context, url, appName string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", Redact(err))
	}
	if appName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = appName
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s: %w", RedactURL(url), err)
	}
	return pool, nil
}

// IsCode reports whether err is a PostgreSQL error with the given SQLSTATE.
func IsCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// SQLSTATE codes the stores react to.
const (
	UniqueViolation     = "23505"
	ForeignKeyViolation = "23503"
	CheckViolation      = "23514"
	SerializationFail   = "40001"
	UndefinedTable      = "42P01"
	DuplicateDatabase   = "42P04"
	DuplicateObject     = "42710"
	InsufficientPriv    = "42501"
	InvalidPassword     = "28P01"
	InvalidAuthSpec     = "28000"
)
