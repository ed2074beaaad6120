package portal

import (
	"net/http"

	"github.com/labstack/echo/v5"
)

type homePage struct {
	Catalogs     []homeCatalog
	Dependencias int64
}

type homeCatalog struct {
	Table       string
	Description string
	Rows        int64
}

func (s *Server) bindHome() {
	s.echo.GET("/", s.home)
}

func (s *Server) home(c *echo.Context) error {
	ctx := c.Request().Context()
	var page homePage
	if err := s.opts.Pool.QueryRow(ctx, `SELECT count(*) FROM meta.dependencia WHERE activo`).Scan(&page.Dependencias); err != nil {
		return err
	}
	rows, err := s.opts.Pool.Query(ctx, `
		SELECT c.relname, coalesce(obj_description(c.oid, 'pg_class'), ''), greatest(c.reltuples, 0)::bigint
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'cat' AND c.relkind IN ('r', 'p')
		ORDER BY c.relname`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var hc homeCatalog
		if err := rows.Scan(&hc.Table, &hc.Description, &hc.Rows); err != nil {
			return err
		}
		page.Catalogs = append(page.Catalogs, hc)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "home.html", page)
}
