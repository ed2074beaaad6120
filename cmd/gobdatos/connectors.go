package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/pipeline/schedule"
)

type connectorsCmd struct {
	secretConfig
	RotateKey connectorsRotateKeyCmd `cmd:"" name:"rotate-key" help:"Re-seal every stored credential under the current GOBDATOS_SECRET_KEY (give the old one in GOBDATOS_SECRET_KEY_PREVIOUS)."`
}

type connectorsRotateKeyCmd struct{}

func (connectorsRotateKeyCmd) Run(ctx context.Context, g *Globals, parent *connectorsCmd, logger *slog.Logger) error {
	keys, err := keyringOf(parent.secretConfig, g.DataDir, logger)
	if err != nil {
		return err
	}
	pool, err := g.openDB(ctx, "gobdatos-connectors")
	if err != nil {
		return err
	}
	defer pool.Close()
	nc, err := (&registry.Store{DB: pool, Keys: keys}).Reseal(ctx)
	if err != nil {
		return err
	}
	na, err := (&access.Store{DB: pool, Keys: keys}).Reseal(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("Credenciales cifradas de nuevo con la clave %s: %d de conectores, %d de accesos de entidades.\n", keys.CurrentID(), nc, na)
	return nil
}

// checksConfig is how connectivity checks run and alert.
type checksConfig struct {
	AlertAfter       int      `name:"alert-after" env:"GOBDATOS_ALERT_AFTER" default:"3" help:"Consecutive failed checks of a connector or entity role before its owner and the stewards are alerted."`
	AlertWebhooks    []string `name:"alert-webhooks" env:"GOBDATOS_ALERT_WEBHOOKS" help:"URLs (comma-separated) that receive every connectivity alert as signed JSON."`
	CheckConcurrency int      `name:"check-concurrency" env:"GOBDATOS_CHECK_CONCURRENCY" default:"32" help:"Connectivity checks running at once, at most."`
}

// checker builds the connectivity checker of the process.
func (c checksConfig) checker(sc secretConfig, baseURL string, pool *pgxpool.Pool, secret []byte, logger *slog.Logger) (*health.Checker, error) {
	if c.AlertAfter < 1 {
		return nil, errors.New("GOBDATOS_ALERT_AFTER must be at least 1")
	}
	for _, u := range c.AlertWebhooks {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("GOBDATOS_ALERT_WEBHOOKS: %q is not an http(s) URL", u)
		}
	}
	keys, err := sc.keyring(secret)
	if err != nil {
		return nil, err
	}
	return health.NewChecker(health.Checker{
		DB:         pool,
		Connectors: &registry.Store{DB: pool, Keys: keys},
		Access:     &access.Store{DB: pool, Keys: keys},
		Alerts:     health.Alerts{Threshold: c.AlertAfter, Webhooks: c.AlertWebhooks, BaseURL: baseURL},
		Logger:     logger,
	}, c.CheckConcurrency), nil
}

// newCheckJobs schedules the connectivity checks and the pruning of their
// history on sched.
func newCheckJobs(cfg portalConfig, pool *pgxpool.Pool, secret []byte, sched *schedule.Scheduler, logger *slog.Logger) (*health.Jobs, error) {
	ch, err := cfg.checker(cfg.secretConfig, cfg.BaseURL, pool, secret, logger)
	if err != nil {
		return nil, err
	}
	if err := sched.Every("prune connectivity checks", 6*time.Hour, func(ctx context.Context) error {
		_, err := health.Prune(ctx, pool, 35*24*time.Hour)
		return err
	}); err != nil {
		return nil, err
	}
	return &health.Jobs{Sched: sched, Checker: ch, Logger: logger}, nil
}
