// Package pgtest gives each test its own fresh, migrated PostgreSQL database.
//
// The first call in a test binary migrates a template database, named by the
// migrations' checksum and shared by every test binary with the same
// migrations; each test then gets a clone of it (CREATE DATABASE … TEMPLATE),
// dropped when the test ends. The server is the one at TEST_DATABASE_URL, else
// the one at 127.0.0.1:5432; `make test` starts a private one when neither
// answers.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/migrations"
)

// DefaultURL is the server tried when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// templateLock serializes template creation across test binaries.
const templateLock int64 = 0x676f6264_74706c00

// ServerURL is the maintenance URL of the test server.
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

type template struct {
	once sync.Once
	name string
	err  error
}

// tpl is per test binary: the template is made once, then only cloned.
var tpl template

// New returns a pool on a fresh migrated database, closed and dropped at the
// end of the test.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return connect(t, NewURL(t))
}

// NewURL returns the URL of a fresh migrated database, dropped at the end of
// the test.
func NewURL(t testing.TB) string {
	t.Helper()
	tpl.once.Do(func() { tpl.name, tpl.err = ensureTemplate() })
	if tpl.err != nil {
		t.Fatalf("pgtest: %v", tpl.err)
	}
	return clone(t, tpl.name)
}

// NewEmpty returns the URL of a fresh database with no migrations applied,
// for tests of the migrations themselves.
func NewEmpty(t testing.TB) string {
	t.Helper()
	return clone(t, "template0")
}

func clone(t testing.TB, from string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		t.Fatalf("pgtest: no PostgreSQL at %s (set TEST_DATABASE_URL, or run `make test`, which starts one): %v", redact(ServerURL()), err)
	}
	defer admin.Close(ctx)
	name := "gobdatos_test_" + randomHex(6)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{from}.Sanitize())); err != nil {
		t.Fatalf("pgtest: create database from %s: %v", from, err)
	}
	t.Cleanup(func() { drop(name) })
	return withDatabase(ServerURL(), name)
}

func drop(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return
	}
	defer admin.Close(ctx)
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
}

func connect(t testing.TB, u string) *pgxpool.Pool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if err := pool.Ping(ctx); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close) // registered after drop, so it runs before it
	return pool
}

// ensureTemplate makes the migrated template once per set of migrations:
// built under another name and renamed when complete, so a crash halfway
// never leaves a template that looks finished.
func ensureTemplate() (string, error) {
	sum, err := migrations.Checksum()
	if err != nil {
		return "", err
	}
	name := "gobdatos_tpl_" + sum
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerURL())
	if err != nil {
		return "", fmt.Errorf("no PostgreSQL at %s (set TEST_DATABASE_URL, or run `make test`, which starts one): %w", redact(ServerURL()), err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", templateLock); err != nil {
		return "", err
	}
	defer admin.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", templateLock)

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()+" TEMPLATE template0"); err != nil {
		return "", err
	}
	pool, err := pgxpool.New(ctx, withDatabase(ServerURL(), building))
	if err != nil {
		return "", err
	}
	_, err = migrations.Up(ctx, pool, nil)
	pool.Close()
	if err != nil {
		return "", fmt.Errorf("migrate template: %w", err)
	}
	if _, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s",
		pgx.Identifier{building}.Sanitize(), pgx.Identifier{name}.Sanitize())); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH IS_TEMPLATE true"); err != nil {
		return "", err
	}
	return name, nil
}

func withDatabase(server, db string) string {
	u, err := url.Parse(server)
	if err != nil {
		return server
	}
	u.Path = "/" + db
	return u.String()
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Role returns a free, cluster-unique role name ("t_ent_" and ten hex
// digits) and drops that role when the test ends: roles belong to the
// server, not to the test's database. Call it before New, so the role is
// dropped after the database that granted it privileges.
func Role(t testing.TB) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	name := "t_ent_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if admin, err := pgx.Connect(ctx, ServerURL()); err == nil {
			_, _ = admin.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{name}.Sanitize())
			_ = admin.Close(ctx)
		}
	})
	return name
}
