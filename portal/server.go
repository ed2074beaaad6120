package portal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Options are what the portal needs from the process that runs it.
type Options struct {
	Pool    *pgxpool.Pool
	Logger  *slog.Logger
	Version string
	// BaseURL is the public address, used in links that leave the page
	// (e-mails, DCAT, datapackage.json). Empty means http://<request host>.
	BaseURL string
	// SecretKey signs sessions and CSRF tokens.
	SecretKey []byte
	// Keys seal stored credentials (connectors); without it the connector
	// API is not served.
	Keys *keyring.Keyring
	// Ready reports whether the database schema is current (no pending
	// migrations); /readyz answers 503 while it returns an error.
	Ready func(ctx context.Context) error
	// Metrics is the registry /metrics serves; the portal adds its HTTP
	// metrics to it. Nil creates a private one.
	Metrics *prometheus.Registry
	// MaxBody limits request bodies (bytes); routes that take uploads have
	// their own, larger limit (MaxUpload).
	MaxBody   int64
	MaxUpload int64
	// ShutdownTimeout is how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration
	// TrustedProxies are the networks of the load balancers whose
	// X-Forwarded-For is believed; empty means clients connect directly.
	TrustedProxies []*net.IPNet
	// Sessions says how long sign-in sessions last (idle and absolute);
	// zero values take account.DefaultSessionPolicy.
	Sessions account.SessionPolicy
	// SignInThrottle limits failed sign-ins; zero takes account.DefaultThrottle.
	SignInThrottle account.Throttle
	// Nomenclature are the DAID naming rules; nil takes the built-in ones.
	Nomenclature *nomenclature.Rules
	// Loads runs catalog loads in the background; nil builds one on Pool
	// that runs two at a time.
	Loads *pipeline.Runner
	// Catalogs is the catalog registry; nil builds one on Pool that checks
	// definitions with Nomenclature.
	Catalogs *catalog.Store
	// Procedures runs the trámites (/tramites, /procedimientos); nil
	// leaves those pages out.
	Procedures *procedure.Engine
	// MailDir is the folder where mails are written when there is no SMTP
	// server (outbox.DirMailer); when set, /correos lists them to those who
	// manage users.
	MailDir string
	// Checker runs «Verificar ahora» on the connector pages; nil builds one
	// on Pool and Keys (without alert webhooks).
	Checker *health.Checker
}

// Server is the portal: an http.Handler plus the means to run it.
type Server struct {
	opts      Options
	echo      *echo.Echo
	pages     *pages
	log       *slog.Logger
	metrics   *prometheus.Registry
	largeBody map[string]bool
	apis      apiRegistry
	// catalogGen and catalogLists keep the answers of the catalog list API
	// (answer_cache.go).
	catalogGen   *freshGeneration
	catalogLists *answerCache
}

// New builds the portal and checks its templates.
func New(opts Options) (*Server, error) {
	if opts.Pool == nil {
		return nil, errors.New("portal: no database pool")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Metrics == nil {
		opts.Metrics = prometheus.NewRegistry()
	}
	if opts.MaxBody == 0 {
		opts.MaxBody = 2 << 20
	}
	if opts.MaxUpload == 0 {
		opts.MaxUpload = 1 << 30
	}
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = 30 * time.Second
	}
	if len(opts.SecretKey) == 0 {
		opts.SecretKey = make([]byte, 32)
		_, _ = rand.Read(opts.SecretKey)
	}
	if opts.Sessions.Idle == 0 {
		opts.Sessions.Idle = account.DefaultSessionPolicy.Idle
	}
	if opts.Sessions.MaxAge == 0 {
		opts.Sessions.MaxAge = account.DefaultSessionPolicy.MaxAge
	}
	if opts.SignInThrottle == (account.Throttle{}) {
		opts.SignInThrottle = account.DefaultThrottle
	}
	if opts.Catalogs == nil {
		rules := opts.Nomenclature
		if rules == nil {
			var err error
			if rules, err = nomenclature.DefaultRules(); err != nil {
				return nil, fmt.Errorf("portal: nomenclature rules: %w", err)
			}
		}
		opts.Catalogs = catalog.NewStore(opts.Pool, catalog.Nomenclature(rules))
	}
	if opts.Loads == nil {
		opts.Loads = pipeline.NewRunner(&pipeline.Loader{Pool: opts.Pool, Logger: opts.Logger}, 2)
	}
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts:         opts,
		pages:        pg,
		log:          opts.Logger,
		metrics:      opts.Metrics,
		largeBody:    map[string]bool{},
		catalogGen:   newFreshGeneration(opts.Catalogs.Generation),
		catalogLists: newAnswerCache(32 << 20),
	}
	ipExtractor := echo.ExtractIPDirect()
	if len(opts.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range opts.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		ipExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	s.echo = echo.NewWithConfig(echo.Config{
		Logger:           opts.Logger,
		HTTPErrorHandler: s.handleError,
		IPExtractor:      ipExtractor,
		// GET handlers have no side effects, so HEAD may run them.
		Router: echo.NewRouter(echo.RouterConfig{AutoHandleHEAD: true}),
	})
	if err := s.middleware(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Handler is the portal as a plain http.Handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.echo }

// Run serves on addr until ctx ends, then lets in-flight requests finish
// (up to ShutdownTimeout). ready, when not nil, receives the bound address.
func (s *Server) Run(ctx context.Context, addr string, ready func(net.Addr)) error {
	sc := echo.StartConfig{
		Address:         addr,
		HideBanner:      true,
		HidePort:        true,
		GracefulTimeout: s.opts.ShutdownTimeout,
		ListenerAddrFunc: func(a net.Addr) {
			s.log.Info("portal escuchando", "addr", a.String())
			if ready != nil {
				ready(a)
			}
		},
		BeforeServeFunc: func(hs *http.Server) error {
			// Uploads and downloads may be long: bound the header, not the body.
			hs.ReadTimeout = 0
			hs.ReadHeaderTimeout = 10 * time.Second
			hs.IdleTimeout = 2 * time.Minute
			return nil
		},
		OnShutdownError: func(err error) { s.log.Error("cierre del portal", "err", err) },
	}
	if err := sc.Start(ctx, s.echo); err != nil {
		return fmt.Errorf("portal: %w", err)
	}
	return nil
}
