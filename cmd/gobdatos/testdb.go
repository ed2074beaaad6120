package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/localpg"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

type testdbCmd struct {
	Command []string `arg:"" passthrough:"" help:"The command to run, e.g. go test ./..."`
}

func (c *testdbCmd) Help() string {
	return `Uses, in order: TEST_DATABASE_URL if set; the PostgreSQL at 127.0.0.1:5432 (user postgres) if it answers;
otherwise a private PostgreSQL in <data-dir>/pgtest, started for the command and stopped after it.
make test runs: gobdatos testdb -- go test -race ./...`
}

func (c *testdbCmd) Run(ctx context.Context, g *Globals, logger *slog.Logger) error {
	if len(c.Command) > 0 && c.Command[0] == "--" {
		c.Command = c.Command[1:]
	}
	if len(c.Command) == 0 {
		return errors.New("nothing to run: gobdatos testdb -- COMMAND [ARGS…]")
	}
	env := os.Environ()
	if os.Getenv("TEST_DATABASE_URL") == "" {
		if answers(ctx, pgtest.DefaultURL) {
			env = append(env, "TEST_DATABASE_URL="+pgtest.DefaultURL)
		} else {
			logger.Info("no PostgreSQL at 127.0.0.1:5432: starting a private one for the tests")
			pg, err := localpg.Start(ctx, localpg.Options{DataDir: filepath.Join(g.DataDir, "pgtest"), Logger: logger})
			if err != nil {
				return err
			}
			defer pg.Stop(context.WithoutCancel(ctx))
			env = append(env, "TEST_DATABASE_URL="+pg.AdminURL())
		}
	}
	cmd := exec.Command(c.Command[0], c.Command[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return exitError{code: ee.ExitCode()}
		}
		return fmt.Errorf("run %s: %w", c.Command[0], err)
	}
	return nil
}

func answers(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return false
	}
	conn.Close(ctx)
	return true
}
