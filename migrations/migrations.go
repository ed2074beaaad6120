// Package migrations holds the SQL migrations of Datosigto, embedded in the
// binary, and applies them in order under a PostgreSQL advisory lock so that
// several instances starting at once apply each migration exactly once.
//
// Files live in sql/ and are named NNNN_what.sql with goose's
// "-- +goose Up" / "-- +goose Down" sections; each runs in its own
// transaction, so a failed migration leaves nothing behind and the error
// names its file.
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sql/*.sql
var files embed.FS

// Table records which migrations ran; it lives in the meta schema's
// neighbourhood but outside it, so that migration 1 can create meta itself.
const Table = "gobdatos_migrations"

// lockID is the advisory lock key migrations run under ("gobdatos-migrate").
const lockID int64 = 0x676f6264_6d696772

// FS returns the embedded migration files.
func FS() fs.FS {
	sub, err := fs.Sub(files, "sql")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Checksum identifies the set of migrations: two binaries with the same
// checksum build the same schema. Test templates are named by it.
func Checksum() (string, error) {
	entries, err := fs.ReadDir(FS(), ".")
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(FS(), n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Migrator applies and reports the embedded migrations on one database.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
}

// New prepares a Migrator over the pool. Close it when done.
func New(pool *pgxpool.Pool, logger *slog.Logger) (*Migrator, error) {
	return newMigrator(pool, FS(), logger)
}

func newMigrator(pool *pgxpool.Pool, fsys fs.FS, logger *slog.Logger) (*Migrator, error) {
	db := stdlib.OpenDBFromPool(pool)
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(lockID),
		lock.WithLockTimeout(1, 900), // poll every second, for up to 15 minutes
	)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	opts := []goose.ProviderOption{
		goose.WithTableName(Table),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
		// Areas number their migrations in ranges of their own (0010 the
		// catalog, 0030 accounts, …), so a database migrated by an earlier
		// build may lack a file numbered below its newest one: apply it too.
		goose.WithAllowOutofOrder(true),
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger))
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, opts...)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{db: db, provider: p}, nil
}

// Close releases the migrator's database handle (not the pool).
func (m *Migrator) Close() error { return m.db.Close() }

// Result is one applied migration.
type Result struct {
	File     string
	Version  int64
	Duration string
}

// Up applies every pending migration, each in its own transaction, holding
// the advisory lock for the whole run.
func (m *Migrator) Up(ctx context.Context) ([]Result, error) {
	res, err := m.provider.Up(ctx)
	out := make([]Result, 0, len(res))
	for _, r := range res {
		out = append(out, Result{File: r.Source.Path, Version: r.Source.Version, Duration: r.Duration.String()})
	}
	if err != nil {
		var partial *goose.PartialError
		if errors.As(err, &partial) && partial.Failed != nil {
			return out, fmt.Errorf("migration %s failed and was rolled back: %w", partial.Failed.Source.Path, partial.Err)
		}
		return out, fmt.Errorf("migrate up: %w", err)
	}
	return out, nil
}

// Status is the state of one embedded migration.
type Status struct {
	File      string
	Version   int64
	Applied   bool
	AppliedAt string
}

// Status lists every embedded migration and whether it has been applied.
func (m *Migrator) Status(ctx context.Context) ([]Status, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]Status, 0, len(st))
	for _, s := range st {
		row := Status{File: s.Source.Path, Version: s.Source.Version, Applied: s.State == goose.StateApplied}
		if row.Applied {
			row.AppliedAt = s.AppliedAt.Format("2006-01-02 15:04:05")
		}
		out = append(out, row)
	}
	return out, nil
}

// Pending reports whether the database lacks any embedded migration.
func (m *Migrator) Pending(ctx context.Context) (bool, error) {
	p, err := m.provider.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("pending migrations: %w", err)
	}
	return p, nil
}

// Up is the one-call form: migrate the database behind pool.
func Up(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) ([]Result, error) {
	m, err := New(pool, logger)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	return m.Up(ctx)
}
