package portal

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) bindHealth() {
	// /healthz: the process is alive and serving; nothing else is checked,
	// so an orchestrator does not restart us for a database outage.
	s.echo.GET("/healthz", func(c *echo.Context) error {
		noStore(c)
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	// /readyz: the database answers and its schema is current.
	s.echo.GET("/readyz", func(c *echo.Context) error {
		noStore(c)
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		defer cancel()
		if err := s.opts.Pool.Ping(ctx); err != nil {
			return &Problem{Status: http.StatusServiceUnavailable, Code: "base_de_datos_no_disponible",
				Title: "La base de datos no responde", Detail: "El portal no puede conectarse a la base de datos.", cause: err}
		}
		if s.opts.Ready != nil {
			if err := s.opts.Ready(ctx); err != nil {
				return &Problem{Status: http.StatusServiceUnavailable, Code: "migraciones_pendientes",
					Title: "El esquema de la base de datos no está al día", Detail: err.Error(), cause: err}
			}
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	metrics := promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{Registry: s.metrics})
	s.echo.GET("/metrics", echo.WrapHandler(metrics))
}
