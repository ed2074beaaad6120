package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/pipeline/namingaudit"
	"github.com/dgtit-gto/gobdatos/pipeline/schedule"
)

type connectorsCmd struct {
	secretConfig
	Check     connectorsCheckCmd     `cmd:"" help:"Check connectors (and entity roles) now and print a table; the results are recorded like scheduled ones."`
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
	AlertAfter       int           `name:"alert-after" env:"GOBDATOS_ALERT_AFTER" default:"3" help:"Consecutive failed checks of a connector or entity role before its owner and the stewards are alerted."`
	AlertWebhooks    []string      `name:"alert-webhooks" env:"GOBDATOS_ALERT_WEBHOOKS" help:"URLs (comma-separated) that receive every connectivity alert as signed JSON."`
	CheckConcurrency int           `name:"check-concurrency" env:"GOBDATOS_CHECK_CONCURRENCY" default:"32" help:"Connectivity checks running at once, at most."`
	CheckRetention   time.Duration `name:"check-retention" env:"GOBDATOS_CHECK_RETENTION" default:"2160h" help:"How long each connectivity check is kept (default 90 days; at least 744h, 31 days); older ones are deleted every six hours, their hourly totals with them."`
	NomenclatureCron string        `name:"nomenclature-audit" env:"GOBDATOS_NOMENCLATURE_AUDIT" default:"0 2 * * *" help:"When the nightly nomenclature audit of every table in cat runs (cron, America/Mexico_City); \"off\" disables it."`
}

// checker builds the connectivity checker of the process.
func (c checksConfig) checker(sc secretConfig, baseURL string, pool *pgxpool.Pool, secret []byte, logger *slog.Logger) (*health.Checker, error) {
	if c.AlertAfter < 1 {
		return nil, errors.New("GOBDATOS_ALERT_AFTER must be at least 1")
	}
	if c.CheckRetention < health.MinRetention {
		return nil, fmt.Errorf("GOBDATOS_CHECK_RETENTION must be at least %s (the 30-day uptime reads them), got %s", health.MinRetention, c.CheckRetention)
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
		Probe:      health.SourceProbe,
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
		_, err := health.Prune(ctx, pool, cfg.CheckRetention)
		return err
	}); err != nil {
		return nil, err
	}
	if cfg.NomenclatureCron != "off" {
		rules, err := nomenclature.LoadRules(cfg.NomenclatureRules)
		if err != nil {
			return nil, err
		}
		auditor := &namingaudit.Auditor{DB: pool, Rules: rules, Webhooks: cfg.AlertWebhooks, BaseURL: cfg.BaseURL, Logger: logger}
		if err := sched.Cron("nomenclature audit", cfg.NomenclatureCron, func(ctx context.Context) error {
			_, err := auditor.Run(ctx)
			return err
		}); err != nil {
			return nil, fmt.Errorf("GOBDATOS_NOMENCLATURE_AUDIT: %w", err)
		}
	}
	loads := &health.Loads{Loader: &pipeline.Loader{Pool: pool, Logger: logger}, Catalogs: catalog.NewStore(pool, nil),
		Connectors: ch.Connectors, Alerts: ch.Alerts, Logger: logger}
	// Runs orphaned by an instance that died are failed on the leader too,
	// not only when some instance restarts.
	if err := sched.Every("recover orphaned loads", 5*time.Minute, func(ctx context.Context) error {
		n, err := pipeline.RecoverRuns(ctx, pool)
		if n > 0 {
			logger.Warn("orphaned loads marked failed", "runs", n)
		}
		return err
	}); err != nil {
		return nil, err
	}
	return &health.Jobs{Sched: sched, Checker: ch, Loads: loads, Logger: logger}, nil
}

type connectorsCheckCmd struct {
	checksConfig
	ID  []int64 `arg:"" optional:"" help:"Connector ids to check."`
	All bool    `name:"all" help:"Check every enabled connector and every active entity role."`
}

func (c *connectorsCheckCmd) Help() string {
	return `Runs the connectivity checks now, at most GOBDATOS_CHECK_CONCURRENCY at a time, and prints one line
per connector or entity role: status, latency and the Spanish explanation. Results are recorded
and raise alerts exactly like scheduled checks. Exit status 1 when any check failed.`
}

func (c *connectorsCheckCmd) Run(ctx context.Context, g *Globals, parent *connectorsCmd, logger *slog.Logger) error {
	if len(c.ID) == 0 && !c.All {
		return errors.New("indique los números de conector o --all")
	}
	secret, err := parent.resolve(g.DataDir, logger)
	if err != nil {
		return err
	}
	pool, err := g.openDB(ctx, "gobdatos-connectors")
	if err != nil {
		return err
	}
	defer pool.Close()
	ch, err := c.checker(parent.secretConfig, "", pool, secret, logger)
	if err != nil {
		return err
	}
	type row struct {
		kind health.TargetKind
		id   int64
		name string
		dep  string
		res  health.Result
		err  error
	}
	var rows []*row
	if c.All {
		list, err := ch.Connectors.List(ctx, registry.Filter{OnlyEnabled: true})
		if err != nil {
			return err
		}
		for _, x := range list {
			rows = append(rows, &row{kind: health.KindConnector, id: x.ID, name: x.Name, dep: x.Dependencia})
		}
		grants, err := ch.Access.List(ctx, false)
		if err != nil {
			return err
		}
		for _, x := range grants {
			rows = append(rows, &row{kind: health.KindAccess, id: x.ID, name: x.Role, dep: x.Dependencia})
		}
	}
	for _, id := range c.ID {
		x, err := ch.Connectors.Get(ctx, id)
		if errors.Is(err, registry.ErrNotFound) {
			return fmt.Errorf("no existe el conector %d", id)
		}
		if err != nil {
			return err
		}
		rows = append(rows, &row{kind: health.KindConnector, id: x.ID, name: x.Name, dep: x.Dependencia})
	}
	var wg sync.WaitGroup
	for _, r := range rows {
		wg.Go(func() {
			if r.kind == health.KindConnector {
				r.res, r.err = ch.Connector(ctx, r.id, true)
			} else {
				r.res, r.err = ch.EntityAccess(ctx, r.id, health.DefaultAccessInterval, true)
			}
		})
	}
	wg.Wait()
	t := newTable(os.Stdout, "TIPO", "ID", "NOMBRE", "DEPENDENCIA", "ESTADO", "LATENCIA", "DETALLE")
	failed := 0
	for _, r := range rows {
		kind := "conector"
		if r.kind == health.KindAccess {
			kind = "acceso"
		}
		status, detail := r.res.Status, r.res.Message
		switch {
		case errors.Is(r.err, health.ErrSkipped):
			status, detail = "-", "eliminado o revocado durante la revisión"
		case r.err != nil:
			status, detail = "error", r.err.Error()
		}
		if status != health.StatusOK {
			failed++
		}
		t.row(kind, r.id, r.name, r.dep, status, r.res.Latency.Round(time.Millisecond), detail)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if failed > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%d de %d revisiones fallaron", failed, len(rows))}
	}
	return nil
}
