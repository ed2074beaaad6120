package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/mattn/go-isatty"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Globals are the settings every command shares.
type Globals struct {
	DatabaseURL     string `name:"database-url" env:"DATABASE_URL" help:"PostgreSQL URL of Datosigto, e.g. postgres://user:pass@host:5432/datosigto."`
	DatabaseURLFile string `name:"database-url-file" env:"DATABASE_URL_FILE" help:"File holding the database URL (for secrets mounted as files)." type:"path"`
	DataDir         string `name:"data-dir" env:"GOBDATOS_DATA_DIR" default:"./var" help:"Folder for local state: the embedded PostgreSQL (dev), a generated secret key, mails written in dev." type:"path"`
	LogLevel        string `name:"log-level" env:"GOBDATOS_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Log level: debug, info, warn, error."`
	LogFormat       string `name:"log-format" env:"GOBDATOS_LOG_FORMAT" default:"auto" enum:"auto,text,json" help:"Log format: text, json, or auto (text on a terminal, json otherwise)."`
}

func (g *Globals) logger() *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(g.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	format := g.LogFormat
	if format == "auto" {
		format = "json"
		if isatty.IsTerminal(os.Stderr.Fd()) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// databaseURL returns the configured URL, read from its file when given so.
func (g *Globals) databaseURL() (string, error) {
	return valueOrFile(g.DatabaseURL, g.DatabaseURLFile, "DATABASE_URL")
}

// requireDatabaseURL is databaseURL for commands that cannot run without one.
func (g *Globals) requireDatabaseURL() (string, error) {
	u, err := g.databaseURL()
	if err != nil {
		return "", err
	}
	if u == "" {
		return "", errors.New("falta DATABASE_URL / DATABASE_URL is not set: point it at Datosigto (postgres://…), or use `gobdatos dev` for an embedded database")
	}
	return u, nil
}

// openDB connects to the configured database, for commands that need one.
func (g *Globals) openDB(ctx context.Context, app string) (*pgxpool.Pool, error) {
	url, err := g.requireDatabaseURL()
	if err != nil {
		return nil, err
	}
	return pgdb.Open(ctx, url, app)
}

func valueOrFile(value, file, name string) (string, error) {
	if value != "" || file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read %s_FILE: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// secretConfig is the key that signs sessions and CSRF tokens and encrypts
// connector credentials.
type secretConfig struct {
	SecretKey     string `name:"secret-key" env:"GOBDATOS_SECRET_KEY" help:"Secret key (at least 32 characters) for sessions, CSRF and stored credentials. Several instances must share it. When unset, one is generated and kept in the data folder."`
	SecretKeyFile string `name:"secret-key-file" env:"GOBDATOS_SECRET_KEY_FILE" help:"File holding the secret key." type:"path"`
	// SecretKeyPrevious opens credentials sealed before a key change, until
	// `gobdatos connectors rotate-key` re-seals them under the current key.
	SecretKeyPrevious []string `name:"secret-key-previous" env:"GOBDATOS_SECRET_KEY_PREVIOUS" help:"Previous secret keys (comma-separated), to open credentials sealed before the key changed; see connectors rotate-key."`
}

// resolve returns the configured key, or the one kept in dataDir (created on
// first use) when none is configured.
func (s secretConfig) resolve(dataDir string, logger *slog.Logger) ([]byte, error) {
	key, err := valueOrFile(s.SecretKey, s.SecretKeyFile, "GOBDATOS_SECRET_KEY")
	if err != nil {
		return nil, err
	}
	if key != "" {
		if len(key) < 32 {
			return nil, errors.New("GOBDATOS_SECRET_KEY must have at least 32 characters")
		}
		return []byte(key), nil
	}
	path := filepath.Join(dataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	buf := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, buf); err != nil {
		return nil, err
	}
	k := hex.EncodeToString(buf)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, os.ErrExist) { // another instance won the race: use its key
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, rerr
		}
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err != nil {
		return nil, fmt.Errorf("save generated secret key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(k + "\n"); err != nil {
		return nil, err
	}
	logger.Warn("GOBDATOS_SECRET_KEY not set: generated one and saved it in the data folder; set it explicitly when running several instances", "file", path)
	return []byte(k), nil
}

// exitCoder is an error that carries the process exit status.
type exitCoder interface {
	error
	ExitCode() int
}

func asExitCoder(err error, target *exitCoder) bool { return errors.As(err, target) }

// exitError ends the process with a status and, optionally, a message.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }
func (e exitError) ExitCode() int { return e.code }
