package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/catalog/demo"
	"github.com/dgtit-gto/gobdatos/migrations"
	"github.com/dgtit-gto/gobdatos/migrations/localpg"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

type devCmd struct {
	portalConfig
	Seed       bool   `name:"seed" default:"true" negatable:"" help:"Load the demo data (dependencias, INEGI states and municipalities) when missing."`
	AdminLogin string `name:"admin-login" default:"admin" help:"Login of the Super Administrador created on first start."`
}

func (c *devCmd) Help() string {
	return `Starts everything a newcomer needs, with no database set up by hand:

  - without DATABASE_URL, a private PostgreSQL from this machine's binaries (on PATH or under
    /usr/lib/postgresql/*/bin) in <data-dir>/pg, on a free loopback port; stopped on Ctrl-C;
  - the migrations, the demo data, and a Super Administrador whose one-time password is printed once;
  - the portal, on --addr (http://127.0.0.1:8080 by default).

A second run reuses the data folder. Remove <data-dir> to start from scratch.`
}

func (c *devCmd) Run(ctx context.Context, g *Globals, logger *slog.Logger) error {
	url, err := g.databaseURL()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if url == "" {
		pg, err := localpg.Start(ctx, localpg.Options{DataDir: filepath.Join(g.DataDir, "pg"), Logger: logger})
		if err != nil {
			if errors.Is(err, localpg.ErrNoBinaries) {
				return exitError{code: 2, msg: err.Error()}
			}
			return err
		}
		defer pg.Stop(context.WithoutCancel(ctx))
		go func() {
			select {
			case <-pg.Exited():
				cancel(errors.New("el PostgreSQL privado terminó inesperadamente; vea " + filepath.Join(g.DataDir, "pg.log")))
			case <-ctx.Done():
			}
		}()
		url = pg.URL()
	}
	pool, err := pgdb.Open(ctx, url, "gobdatos-dev")
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := migrations.Up(ctx, pool, logger); err != nil {
		return err
	}
	if c.Seed {
		res, err := demo.Seed(ctx, pool)
		if err != nil {
			return err
		}
		if res.Municipios > 0 {
			logger.Info("datos de demostración cargados", "dependencias", res.Dependencias, "entidades", res.Entidades, "municipios", res.Municipios)
		}
	}
	if err := ensureSuperAdmin(ctx, pool, c.AdminLogin); err != nil {
		return err
	}
	cfg := c.portalConfig
	cfg.Migrate = false // done above
	err = runPortal(ctx, g, cfg, pool, logger, func(a net.Addr) {
		fmt.Fprintf(os.Stdout, "\n  Portal listo / portal ready:  http://%s\n  Detener / stop: Ctrl-C\n\n", a.String())
	})
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// ensureSuperAdmin creates the first Super Administrador when there is none
// and prints its one-time password: the only time it is ever shown.
func ensureSuperAdmin(ctx context.Context, pool *pgxpool.Pool, login string) error {
	n, err := account.NewStore(pool).CountByProfile(ctx, account.SuperAdmin)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	pw := account.GeneratePassword(16)
	err = pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		u, err := account.NewStore(tx).Create(ctx, account.NewUser{
			Login:              login,
			Email:              login + "@localhost",
			FullName:           "Super Administrador",
			Profile:            account.SuperAdmin,
			Password:           pw,
			MustChangePassword: true,
		})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "user.create", ObjectType: "user", ObjectID: fmt.Sprint(u.ID),
			Detail: map[string]string{"login": u.Login, "profile": string(u.Profile), "via": "dev"}})
	})
	if err != nil {
		if errors.Is(err, account.ErrDuplicate) {
			return fmt.Errorf("the login %q exists but is not an active Super Administrador: choose another with --admin-login", login)
		}
		return err
	}
	fmt.Fprintf(os.Stdout, `
  ┌──────────────────────────────────────────────────────────────┐
  │ Super Administrador creado / first administrator created     │
  │   usuario / login:      %-37s│
  │   contraseña temporal:  %-37s│
  │ Se pedirá cambiarla al entrar; no se volverá a mostrar.      │
  │ (Lost it? gobdatos user reset-password %-22s│
  └──────────────────────────────────────────────────────────────┘
`, login, pw, login+")")
	return nil
}
