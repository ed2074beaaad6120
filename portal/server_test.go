package portal

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

type bundle struct {
	srv  *Server
	pool *pgxpool.Pool
	http *httptest.Server
}

func setup(t *testing.T, opts Options) *bundle {
	t.Helper()
	if opts.Pool == nil {
		opts.Pool = pgtest.New(t)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts.Version = "test"
	srv, err := New(opts)
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &bundle{srv: srv, pool: opts.Pool, http: ts}
}

func (b *bundle) do(t *testing.T, method, path string, body io.Reader, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, b.http.URL+path, body)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.http.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(raw)
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	tests := []struct {
		name, method, path string
		status             int
		contentType        string
		contains           []string
		notContains        []string
	}{
		{"healthz", "GET", "/healthz", 200, "application/json", []string{`"ok"`}, nil},
		{"readyz", "GET", "/readyz", 200, "application/json", []string{`"ready"`}, nil},
		{"home in Spanish", "GET", "/", 200, "text/html", []string{`lang="es-MX"`, "Catálogos transversales", "dependencias"}, nil},
		{"head on a page", "HEAD", "/", 200, "text/html", nil, nil},
		{"metrics", "GET", "/metrics", 200, "text/plain", []string{"go_goroutines", "process_"}, nil},
		{"api not found is a problem", "GET", "/api/v1/no-existe", 404, "application/problem+json",
			[]string{`"code":"no_encontrado"`, `"title":"No encontrado"`, `"status":404`, `"instance":"/api/v1/no-existe"`}, []string{"<html"}},
		{"page not found is HTML", "GET", "/no-existe", 404, "text/html", []string{"No encontrado", "Volver al inicio"}, []string{`"code"`}},
		{"wrong method", "DELETE", "/healthz", 405, "application/problem+json", []string{"Método no permitido"}, nil},
		{"wrong method on a page", "POST", "/", 405, "text/html", []string{"Método no permitido"}, nil},
		{"static css", "GET", "/static/app.css", 200, "text/css", []string{"--acento"}, nil},
		{"no directory listing", "GET", "/static/../server.go", 404, "", nil, []string{"package portal"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, body := b.do(t, tc.method, tc.path, nil)
			require.Equal(t, tc.status, res.StatusCode, body)
			require.Contains(t, res.Header.Get("Content-Type"), tc.contentType)
			for _, s := range tc.contains {
				require.Contains(t, body, s)
			}
			for _, s := range tc.notContains {
				require.NotContains(t, body, s)
			}
			require.NotEmpty(t, res.Header.Get("X-Request-Id"))
			require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
			require.Equal(t, "DENY", res.Header.Get("X-Frame-Options"))
			require.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'self'")
		})
	}
	// the request above is counted by route and status
	_, metrics := b.do(t, "GET", "/metrics", nil)
	require.Contains(t, metrics, `gobdatos_http_requests_total{code="200",method="GET",route="/healthz"}`)
}

func TestReadyzNotReady(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{Ready: func(context.Context) error { return errors.New("hay migraciones pendientes") }})
	res, body := b.do(t, "GET", "/readyz", nil)
	require.Equal(t, 503, res.StatusCode)
	require.Contains(t, body, "migraciones_pendientes")
	res, _ = b.do(t, "GET", "/healthz", nil)
	require.Equal(t, 200, res.StatusCode, "liveness does not depend on the schema")
}

func TestReadyzDatabaseDown(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	b := setup(t, Options{Pool: pool})
	pool.Close()
	res, body := b.do(t, "GET", "/readyz", nil)
	require.Equal(t, 503, res.StatusCode)
	require.Contains(t, body, "base_de_datos_no_disponible")
}

func TestPanicIsRecovered(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.srv.echo.GET("/api/v1/panic", func(c *echo.Context) error { panic("boom") })
	b.srv.echo.GET("/panic", func(c *echo.Context) error { panic("boom") })
	res, body := b.do(t, "GET", "/api/v1/panic", nil)
	require.Equal(t, 500, res.StatusCode)
	require.Equal(t, "application/problem+json; charset=utf-8", res.Header.Get("Content-Type"))
	require.Contains(t, body, "error_interno")
	require.NotContains(t, body, "boom", "internal details never reach the client")
	res, body = b.do(t, "GET", "/panic", nil)
	require.Equal(t, 500, res.StatusCode)
	require.Contains(t, body, "Error interno del servidor")
	// and the server keeps serving
	res, _ = b.do(t, "GET", "/healthz", nil)
	require.Equal(t, 200, res.StatusCode)
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{MaxBody: 1024, MaxUpload: 4096})
	read := func(c *echo.Context) error {
		n, err := io.Copy(io.Discard, c.Request().Body)
		if err != nil {
			return err
		}
		return c.JSON(200, map[string]int64{"read": n})
	}
	b.srv.echo.POST("/api/v1/echo", read)
	b.srv.echo.POST("/api/v1/upload", read)
	b.srv.allowLargeBody("/api/v1/upload")

	res, _ := b.do(t, "POST", "/api/v1/echo", strings.NewReader(strings.Repeat("x", 1000)))
	require.Equal(t, 200, res.StatusCode)
	res, body := b.do(t, "POST", "/api/v1/echo", strings.NewReader(strings.Repeat("x", 2000)))
	require.Equal(t, 413, res.StatusCode)
	require.Contains(t, body, "cuerpo_demasiado_grande")
	require.Contains(t, body, "1.0 KiB")
	// without Content-Length: the limit still holds while reading
	res, _ = b.do(t, "POST", "/api/v1/echo", io.MultiReader(strings.NewReader(strings.Repeat("x", 2000))), "Transfer-Encoding", "chunked")
	require.Equal(t, 413, res.StatusCode)
	res, _ = b.do(t, "POST", "/api/v1/upload", strings.NewReader(strings.Repeat("x", 3000)))
	require.Equal(t, 200, res.StatusCode)
}

// Shutdown lets a request in flight finish before Run returns.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{ShutdownTimeout: 10 * time.Second})
	started := make(chan struct{})
	release := make(chan struct{})
	b.srv.echo.GET("/slow", func(c *echo.Context) error {
		close(started)
		<-release
		return c.String(200, "terminado")
	})

	ctx, cancel := context.WithCancel(context.Background())
	addrCh := make(chan net.Addr, 1)
	runErr := make(chan error, 1)
	go func() { runErr <- b.srv.Run(ctx, "127.0.0.1:0", func(a net.Addr) { addrCh <- a }) }()
	addr := <-addrCh

	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		res, err := http.Get("http://" + addr.String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		got <- result{status: res.StatusCode, body: string(raw)}
	}()
	<-started
	cancel() // begin shutdown while /slow is in flight
	select {
	case err := <-runErr:
		t.Fatalf("Run returned before the request finished: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	r := <-got
	require.NoError(t, r.err)
	require.Equal(t, 200, r.status)
	require.Equal(t, "terminado", r.body)
	require.NoError(t, <-runErr)
}

func TestFormatThousands(t *testing.T) {
	t.Parallel()
	miles := templateFuncs()["miles"].(func(int64) string)
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -2500: "-2,500"} {
		require.Equal(t, want, miles(in))
	}
}

func TestHumanBytes(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]string{512: "512 B", 1024: "1.0 KiB", 2 << 20: "2.0 MiB", 1 << 30: "1.0 GiB"} {
		require.Equal(t, want, humanBytes(in))
	}
}
