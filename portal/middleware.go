package portal

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// contentSecurityPolicy allows only the portal's own scripts, styles and
// images: no inline script, nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"

func (s *Server) middleware() error {
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gobdatos_http_requests_total",
		Help: "HTTP requests answered, by method, route and status.",
	}, []string{"method", "route", "code"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "gobdatos_http_request_duration_seconds",
		Help:    "Time to answer HTTP requests, by method and route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
	}, []string{"method", "route"})
	for _, c := range []prometheus.Collector{reqs, latency, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := s.metrics.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				return err
			}
		}
	}

	s.echo.Use(
		middleware.RequestID(),
		middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
			HandleError:  true,
			LogLatency:   true,
			LogMethod:    true,
			LogURIPath:   true,
			LogRoutePath: true,
			LogStatus:    true,
			LogRequestID: true,
			LogRemoteIP:  true,
			LogValuesFunc: func(c *echo.Context, v middleware.RequestLoggerValues) error {
				route := v.RoutePath
				if route == "" {
					route = "(sin ruta)"
				}
				reqs.WithLabelValues(v.Method, route, strconv.Itoa(v.Status)).Inc()
				latency.WithLabelValues(v.Method, route).Observe(v.Latency.Seconds())
				level := slog.LevelInfo
				attrs := []slog.Attr{
					slog.String("method", v.Method), slog.String("path", v.URIPath),
					slog.Int("status", v.Status), slog.Duration("latency", v.Latency),
					slog.String("request_id", v.RequestID), slog.String("remote", v.RemoteIP),
				}
				if v.Error != nil && v.Status >= 500 {
					level = slog.LevelError
					attrs = append(attrs, slog.String("err", v.Error.Error()))
				}
				s.log.LogAttrs(c.Request().Context(), level, "http", attrs...)
				return nil
			},
		}),
		middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true}),
		middleware.SecureWithConfig(middleware.SecureConfig{
			ContentTypeNosniff:    "nosniff",
			XFrameOptions:         "DENY",
			HSTSMaxAge:            31536000,
			ContentSecurityPolicy: contentSecurityPolicy,
			ReferrerPolicy:        "same-origin",
		}),
		s.limitBody,
		s.authenticate,
	)
	return nil
}

// limitBody caps request bodies: MaxUpload on routes marked with
// allowLargeBody, MaxBody everywhere else.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		limit := s.opts.MaxBody
		if s.largeBody[c.Path()] {
			limit = s.opts.MaxUpload
		}
		req := c.Request()
		if req.ContentLength > limit {
			return tooLarge(limit)
		}
		if req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
		}
		err := next(c)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return err
	}
}

func tooLarge(limit int64) error {
	return &Problem{
		Status: http.StatusRequestEntityTooLarge,
		Code:   "cuerpo_demasiado_grande",
		Title:  "La solicitud es demasiado grande",
		Detail: "El cuerpo de la solicitud excede el límite de " + humanBytes(limit) + ".",
	}
}

// allowLargeBody lets a route (by its path pattern) take uploads up to MaxUpload.
func (s *Server) allowLargeBody(path string) { s.largeBody[path] = true }

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + " " + string("KMGTPE"[exp]) + "iB"
}

// noStore marks answers that must not be cached (probes, personal pages).
func noStore(c *echo.Context) {
	c.Response().Header().Set("Cache-Control", "no-store")
}
