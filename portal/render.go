package portal

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v5"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed all:templates static
var assets embed.FS

// pages holds one parsed template set per page: the page file plus the
// shared partials (templates/_*.html), so block names never collide.
type pages struct {
	byName map[string]*template.Template
}

// funcs are the helpers every template may call.
func templateFuncs() template.FuncMap {
	loc := mexicoCity()
	esMX := message.NewPrinter(language.MustParse("es-MX"))
	return template.FuncMap{
		"fecha": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(loc).Format("02/01/2006 15:04")
		},
		// miles writes an integer the way es-MX reads it: 1,234,567.
		"miles": func(n int64) string { return esMX.Sprint(n) },
		"lower": strings.ToLower,
	}
}

func parsePages() (*pages, error) {
	files, err := fs.Glob(assets, "templates/*.html")
	if err != nil {
		return nil, err
	}
	var partials []string
	for _, f := range files {
		if strings.HasPrefix(path.Base(f), "_") {
			partials = append(partials, f)
		}
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, f := range files {
		name := path.Base(f)
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(templateFuncs()).ParseFS(assets, append([]string{f}, partials...)...)
		if err != nil {
			return nil, fmt.Errorf("portal: template %s: %w", name, err)
		}
		for _, block := range []string{"layout", "content"} {
			if t.Lookup(block) == nil {
				return nil, fmt.Errorf("portal: template %s has no %q block", name, block)
			}
		}
		p.byName[name] = t
	}
	return p, nil
}

// Context keys the authentication middleware fills and every page reads.
const (
	ctxUser = "gobdatos.user"
	ctxCSRF = "gobdatos.csrf"
)

// view is what every page template receives: the page's own data in .Page,
// and what the layout needs (who is signed in, the CSRF token, the version).
type view struct {
	Page      any
	User      any
	CSRF      string
	Version   string
	Path      string
	RequestID string
	// Mails: the portal lists the mails written to a folder (no SMTP).
	Mails bool
}

// render executes a page into a buffer first, so a template error becomes a
// clean 500 rather than half a page.
func (s *Server) render(c *echo.Context, status int, name string, data any) error {
	t, ok := s.pages.byName[name]
	if !ok {
		return fmt.Errorf("portal: no template %q", name)
	}
	v := view{
		Page:      data,
		User:      c.Get(ctxUser),
		Version:   s.opts.Version,
		Path:      c.Request().URL.Path,
		RequestID: c.Response().Header().Get(echo.HeaderXRequestID),
		Mails:     s.opts.MailDir != "",
	}
	v.CSRF = s.pageCSRF(c)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("portal: render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *Server) bindStatic() {
	static, _ := fs.Sub(assets, "static")
	files := http.FileServer(http.FS(static))
	s.echo.GET("/static/*", func(c *echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		http.StripPrefix("/static/", files).ServeHTTP(c.Response(), c.Request())
		return nil
	})
}

// mexicoCity is the zone dates are shown in; the binary embeds the zone
// database (cmd/gobdatos imports time/tzdata), so this does not fail.
func mexicoCity() *time.Location {
	loc, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		return time.FixedZone("CST", -6*3600)
	}
	return loc
}
