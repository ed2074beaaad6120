package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/migrations"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
	"github.com/dgtit-gto/gobdatos/pipeline/schedule"
	"github.com/dgtit-gto/gobdatos/portal"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// portalConfig is what running the portal takes, shared by serve and dev.
type portalConfig struct {
	secretConfig
	procedureConfig
	checksConfig
	Addr           string        `name:"addr" env:"GOBDATOS_ADDR" default:"127.0.0.1:8080" help:"Address to listen on; use :8080 to accept connections from other machines."`
	BaseURL        string        `name:"base-url" env:"GOBDATOS_BASE_URL" help:"Public URL of the portal (e.g. https://datos.guanajuato.gob.mx), used in e-mails, DCAT and download links."`
	SMTPURL        string        `name:"smtp-url" env:"SMTP_URL" help:"Mail server for notifications: smtp://user:pass@host:587?from=datos@… (smtps:// for TLS). In dev, mails are written to the data folder instead."`
	MaxUpload      int64         `name:"max-upload" env:"GOBDATOS_MAX_UPLOAD" default:"1073741824" help:"Largest file an upload may send, in bytes."`
	Migrate        bool          `name:"migrate" env:"GOBDATOS_MIGRATE" default:"true" negatable:"" help:"Apply pending migrations at start (under an advisory lock, so several instances may start at once)."`
	TrustedProxies []string      `name:"trusted-proxies" env:"GOBDATOS_TRUSTED_PROXIES" help:"Comma-separated networks (CIDR) of load balancers whose X-Forwarded-For is trusted, e.g. 10.0.0.0/8."`
	Scheduler      bool          `name:"scheduler" env:"GOBDATOS_SCHEDULER" default:"true" negatable:"" help:"Run scheduled work (checks, scheduled loads, audits, mail delivery) when this instance is the elected leader; --no-scheduler never runs it here."`
	SchedulerOnly  bool          `name:"scheduler-only" env:"GOBDATOS_SCHEDULER_ONLY" help:"Run only the scheduled work, without the portal."`
	SessionIdle    time.Duration `name:"session-idle" env:"GOBDATOS_SESSION_IDLE" default:"2h" help:"A sign-in session nobody used for this long ends."`
	SessionMax     time.Duration `name:"session-max" env:"GOBDATOS_SESSION_MAX" default:"12h" help:"A sign-in session ends this long after sign-in, used or not."`

	NomenclatureRules string `name:"nomenclature-rules" env:"GOBDATOS_NOMENCLATURE_RULES" type:"path" help:"Nomenclature rules file (YAML, the shape of schemas/nomenclature.yaml); default: the rules built in."`

	mailDir string // where mails are written without SMTP (set by runPortal)
}

// Validate checks the combinations kong cannot.
func (c portalConfig) Validate() error {
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("GOBDATOS_BASE_URL must be an http(s) URL, got %q", c.BaseURL)
		}
	}
	if _, err := c.proxies(); err != nil {
		return err
	}
	if c.SchedulerOnly && !c.Scheduler {
		return errors.New("--scheduler-only and --no-scheduler contradict each other")
	}
	if c.SessionIdle < time.Minute || c.SessionMax < c.SessionIdle {
		return errors.New("GOBDATOS_SESSION_IDLE must be at least 1m and GOBDATOS_SESSION_MAX at least as long")
	}
	if c.MaxUpload < 1<<20 {
		return errors.New("GOBDATOS_MAX_UPLOAD must be at least 1 MiB")
	}
	return nil
}

func (c portalConfig) proxies() ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, s := range c.TrustedProxies {
		_, n, err := net.ParseCIDR(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("GOBDATOS_TRUSTED_PROXIES: %q is not a network in CIDR form (e.g. 10.0.0.0/8)", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// runPortal migrates (when asked), then runs the portal and the scheduler
// until ctx ends.
func runPortal(ctx context.Context, g *Globals, cfg portalConfig, pool *pgxpool.Pool, logger *slog.Logger, ready func(net.Addr)) error {
	if cfg.Migrate {
		res, err := migrations.Up(ctx, pool, logger)
		if err != nil {
			return err
		}
		if len(res) > 0 {
			logger.Info("migraciones aplicadas", "count", len(res))
		}
	}
	if n, err := pipeline.RecoverRuns(ctx, pool); err != nil {
		return err
	} else if n > 0 {
		logger.Warn("cargas interrumpidas marcadas como fallidas", "count", n)
	}
	secret, err := cfg.resolve(g.DataDir, logger)
	if err != nil {
		return err
	}
	cfg.mailDir = mailDir(g, cfg)
	platform, err := cfg.platform(pool, secret)
	if err != nil {
		return err
	}
	if cfg.engine, err = cfg.procedureConfig.start(ctx, pool, cfg.BaseURL, platform); err != nil {
		return err
	}
	grp, ctx := errgroup.WithContext(ctx)
	if cfg.Scheduler {
		sched, err := newScheduler(g, cfg, pool, secret, logger)
		if err != nil {
			return err
		}
		if err := addProcedureJobs(sched, cfg.engine); err != nil {
			return err
		}
		jobs, err := newCheckJobs(cfg, pool, secret, sched, logger)
		if err != nil {
			return err
		}
		grp.Go(func() error { return jobs.Run(ctx, nil) })
		grp.Go(func() error { return sched.Run(ctx) })
	}
	if !cfg.SchedulerOnly {
		srv, closeSrv, err := newPortal(cfg, pool, secret, logger)
		if err != nil {
			return err
		}
		defer closeSrv()
		grp.Go(func() error { return srv.Run(ctx, cfg.Addr, ready) })
	}
	return grp.Wait()
}

// platform is what the procedures' steps act on: the catalog registry
// with the nomenclature, and the keyring of stored secrets.
func (cfg portalConfig) platform(pool *pgxpool.Pool, secret []byte) (procedure.Platform, error) {
	rules, err := nomenclature.LoadRules(cfg.NomenclatureRules)
	if err != nil {
		return procedure.Platform{}, err
	}
	keys, err := cfg.keyring(secret)
	if err != nil {
		return procedure.Platform{}, err
	}
	return procedure.Platform{Catalogs: catalog.NewStore(pool, catalog.Nomenclature(rules)), Keys: keys}, nil
}

func newPortal(cfg portalConfig, pool *pgxpool.Pool, secret []byte, logger *slog.Logger) (*portal.Server, func(), error) {
	proxies, err := cfg.proxies()
	if err != nil {
		return nil, nil, err
	}
	rules, err := nomenclature.LoadRules(cfg.NomenclatureRules)
	if err != nil {
		return nil, nil, err
	}
	keys, err := cfg.keyring(secret)
	if err != nil {
		return nil, nil, err
	}
	checker, err := cfg.checker(cfg.secretConfig, cfg.BaseURL, pool, secret, logger)
	if err != nil {
		return nil, nil, err
	}
	mig, err := migrations.New(pool, nil)
	if err != nil {
		return nil, nil, err
	}
	srv, err := portal.New(portal.Options{
		Checker:        checker,
		Nomenclature:   rules,
		Keys:           keys,
		Pool:           pool,
		Logger:         logger,
		Version:        version(),
		BaseURL:        cfg.BaseURL,
		SecretKey:      secret,
		Metrics:        prometheus.NewRegistry(),
		MaxUpload:      cfg.MaxUpload,
		TrustedProxies: proxies,
		Sessions:       account.SessionPolicy{Idle: cfg.SessionIdle, MaxAge: cfg.SessionMax},
		Procedures:     cfg.engine,
		MailDir:        cfg.mailDir,
		Ready: func(ctx context.Context) error {
			pending, err := mig.Pending(ctx)
			if err != nil {
				return err
			}
			if pending {
				return fmt.Errorf("hay migraciones pendientes: ejecute `gobdatos migrate up`")
			}
			return nil
		},
	})
	if err != nil {
		mig.Close()
		return nil, nil, err
	}
	return srv, func() { mig.Close() }, nil
}

// mailDir is where mails are written when no SMTP server is configured
// (the portal lists them at /correos); "" when SMTP_URL is set.
func mailDir(g *Globals, cfg portalConfig) string {
	if cfg.SMTPURL != "" {
		return ""
	}
	return filepath.Join(g.DataDir, "mail")
}

// newScheduler registers every scheduled job.
func newScheduler(g *Globals, cfg portalConfig, pool *pgxpool.Pool, secret []byte, logger *slog.Logger) (*schedule.Scheduler, error) {
	sched, err := schedule.New(pool, logger)
	if err != nil {
		return nil, err
	}
	var mailer outbox.Sender
	if cfg.SMTPURL != "" {
		m, err := outbox.NewSMTPMailer(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		mailer = m
	} else {
		dir := mailDir(g, cfg)
		logger.Info("SMTP_URL not set: mails are written as .eml files", "dir", dir)
		mailer = outbox.DirMailer{Dir: dir}
	}
	deliverer := &outbox.Deliverer{
		DB:     pool,
		Logger: logger,
		Senders: map[outbox.Kind]outbox.Sender{
			outbox.Email:   mailer,
			outbox.Webhook: outbox.NewWebhookSender(secret, logger),
		},
	}
	if err := sched.Every("outbox", 10*time.Second, func(ctx context.Context) error {
		_, err := deliverer.DeliverDue(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	sessions := account.SessionPolicy{Idle: cfg.SessionIdle, MaxAge: cfg.SessionMax}
	if err := sched.Every("access-prune", time.Hour, func(ctx context.Context) error {
		_, err := account.NewStore(pool).Prune(ctx, sessions)
		return err
	}); err != nil {
		return nil, err
	}
	return sched, nil
}

type serveCmd struct {
	portalConfig
}

func (c *serveCmd) Help() string {
	return `Serves the portal, the JSON API (/api/v1), the CKAN-compatible API (/api/3/action), /healthz, /readyz and /metrics.

Needs DATABASE_URL. Pending migrations are applied first unless --no-migrate is given.
Several instances can run behind a load balancer: they keep no state of their own; give them the same GOBDATOS_SECRET_KEY.`
}

func (c *serveCmd) Run(ctx context.Context, g *Globals, logger *slog.Logger) error {
	pool, err := g.openDB(ctx, "gobdatos")
	if err != nil {
		return err
	}
	defer pool.Close()
	return runPortal(ctx, g, c.portalConfig, pool, logger, nil)
}
