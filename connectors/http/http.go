// Package http is the connector for a URL that returns CSV, a JSON array,
// NDJSON, Arrow IPC or Parquet, fetched with go-retryablehttp: retries with
// backoff on 5xx and connection errors, never on 4xx; a timeout for the
// answer's headers and another for a body that stops arriving; bearer or
// basic authentication; a size limit.
package http

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/url"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/decode"
)

// Defaults of a Source's zero fields.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultIdleTimeout  = 30 * time.Second
	DefaultRetryMax     = 3
	DefaultRetryWaitMin = 500 * time.Millisecond
	DefaultRetryWaitMax = 10 * time.Second
)

// Source is a URL. Secrets (Token, Password) are never marshalled nor
// printed.
type Source struct {
	URL string `json:"url"`
	// Token is sent as «Authorization: Bearer …».
	Token string `json:"-"`
	// Username and Password are sent as basic authentication.
	Username string `json:"username,omitempty"`
	Password string `json:"-"`
	// Timeout bounds the wait for the answer's headers (DefaultTimeout).
	Timeout time.Duration `json:"timeout,omitempty"`
	// IdleTimeout bounds a pause in the body (DefaultIdleTimeout): a server
	// that stalls mid-body fails the load instead of hanging it.
	IdleTimeout time.Duration `json:"idleTimeout,omitempty"`
	// RetryMax is the number of retries after the first attempt
	// (DefaultRetryMax; negative for none).
	RetryMax int `json:"retryMax,omitempty"`
	// RetryWaitMin and RetryWaitMax bound the exponential backoff.
	RetryWaitMin time.Duration `json:"retryWaitMin,omitempty"`
	RetryWaitMax time.Duration `json:"retryWaitMax,omitempty"`
	// Options are the defaults for Check; Open takes its own.
	Options connectors.Options `json:"options"`
	// Client, when set, replaces the default HTTP client (custom CAs,
	// proxies); Timeout then only applies when its transport has none.
	Client *nethttp.Client `json:"-"`
}

var _ connectors.Source = Source{}

// String shows the source without its secrets.
func (s Source) String() string { return "http " + Redact(s.URL) }

// MarshalJSON shows the source without its secrets, the URL's included.
func (s Source) MarshalJSON() ([]byte, error) {
	type plain Source
	p := plain(s)
	p.URL = Redact(s.URL)
	return json.Marshal(p)
}

// GoString keeps %#v from printing the secrets.
func (s Source) GoString() string { return s.String() }

// Redact hides the user information and the query of a URL (tokens often
// travel there).
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(URL no válida)"
	}
	if u.User != nil {
		u.User = url.User("xxxxx")
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}

func (s Source) client() *retryablehttp.Client {
	c := retryablehttp.NewClient()
	c.Logger = nil // URLs may carry tokens; the caller logs what it needs
	c.RetryMax = s.RetryMax
	if c.RetryMax == 0 {
		c.RetryMax = DefaultRetryMax
	} else if c.RetryMax < 0 {
		c.RetryMax = 0
	}
	c.RetryWaitMin, c.RetryWaitMax = or(s.RetryWaitMin, DefaultRetryWaitMin), or(s.RetryWaitMax, DefaultRetryWaitMax)
	c.CheckRetry = checkRetry
	c.ErrorHandler = retryablehttp.PassthroughErrorHandler
	if s.Client != nil {
		c.HTTPClient = s.Client
		return c
	}
	tr := nethttp.DefaultTransport.(*nethttp.Transport).Clone()
	tr.ResponseHeaderTimeout = or(s.Timeout, DefaultTimeout)
	tr.TLSHandshakeTimeout = or(s.Timeout, DefaultTimeout)
	tr.DialContext = (&net.Dialer{Timeout: or(s.Timeout, DefaultTimeout), KeepAlive: 30 * time.Second}).DialContext
	c.HTTPClient = &nethttp.Client{Transport: tr}
	return c
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// checkRetry retries connection errors and 5xx answers (but 501), never a
// 4xx — not even 429: a source that limits us is not hammered — and never
// errors no retry can fix (a bad certificate, a bad URL).
func checkRetry(ctx context.Context, resp *nethttp.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		var certErr *x509.UnknownAuthorityError
		var urlErr *url.Error
		if errors.As(err, &certErr) || connectors.Classify(err) == connectors.StatusTLS {
			return false, err
		}
		if errors.As(err, &urlErr) && urlErr.Op == "parse" {
			return false, err
		}
		return true, nil
	}
	return resp.StatusCode >= 500 && resp.StatusCode != nethttp.StatusNotImplemented, nil
}

// Open fetches the URL and decodes its body as it arrives.
func (s Source) Open(ctx context.Context, opt connectors.Options) (connectors.Stream, error) {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &connectors.SourceError{Status: connectors.StatusError,
			Message: fmt.Sprintf("la dirección «%s» no es un URL http(s) válido", Redact(s.URL))}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	req, err := retryablehttp.NewRequestWithContext(ctx, nethttp.MethodGet, s.URL, nil)
	if err != nil {
		cancel(nil)
		return nil, &connectors.SourceError{Status: connectors.StatusError, Message: "no se pudo preparar la solicitud a " + Redact(s.URL), Err: err}
	}
	switch {
	case s.Token != "":
		req.Header.Set("Authorization", "Bearer "+s.Token)
	case s.Username != "" || s.Password != "":
		req.SetBasicAuth(s.Username, s.Password)
	}
	req.Header.Set("Accept", "text/csv, application/json, application/x-ndjson, application/vnd.apache.arrow.stream, application/vnd.apache.parquet;q=0.9, */*;q=0.5")
	client := s.client()
	attempts := 0
	client.RequestLogHook = func(_ retryablehttp.Logger, _ *nethttp.Request, _ int) { attempts++ }
	resp, err := client.Do(req)
	where := "el servidor de " + Redact(s.URL)
	if err != nil {
		cancel(nil)
		return nil, connectors.Unreachable(where, stripURL(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
		_ = resp.Body.Close()
		cancel(nil)
		return nil, statusError(Redact(s.URL), resp.StatusCode, attempts)
	}
	if opt.MaxBytes > 0 && resp.ContentLength > opt.MaxBytes {
		_ = resp.Body.Close()
		cancel(nil)
		return nil, &connectors.SourceError{Status: connectors.StatusError, Message: fmt.Sprintf(
			"la respuesta de %s mide %d bytes y excede el límite de %d bytes", Redact(s.URL), resp.ContentLength, opt.MaxBytes)}
	}
	body := newIdleReader(ctx, resp.Body, or(s.IdleTimeout, DefaultIdleTimeout), cancel)
	size := resp.ContentLength
	if size < 0 {
		size = 0
	}
	st, err := decode.Open(ctx, decode.Input{R: body, Name: u.Path, ContentType: resp.Header.Get("Content-Type"), Size: size, Closer: body}, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", Redact(s.URL), err)
	}
	return st, nil
}

// stripURL removes the URL that net/http puts in its errors: it may carry a
// token.
func stripURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}

func statusError(where string, code, attempts int) error {
	st, what := connectors.StatusError, fmt.Sprintf("el servidor respondió %d %s", code, nethttp.StatusText(code))
	switch code {
	case nethttp.StatusUnauthorized:
		st, what = connectors.StatusAuth, "el servidor rechazó las credenciales (401)"
	case nethttp.StatusForbidden:
		st, what = connectors.StatusPermission, "las credenciales no tienen permiso para leer el recurso (403)"
	case nethttp.StatusNotFound, nethttp.StatusGone:
		st, what = connectors.StatusMissing, fmt.Sprintf("el recurso no existe (%d)", code)
	}
	if attempts > 1 {
		what += fmt.Sprintf(" tras %d intentos", attempts)
	}
	return &connectors.SourceError{Status: st, Message: where + ": " + what}
}

// Check fetches the URL and reads its columns.
func (s Source) Check(ctx context.Context, expect []string) connectors.CheckResult {
	return connectors.CheckByOpening(ctx, s, s.Options, expect)
}

// idleReader cancels the request when no byte arrives for a while: a body
// that stalls ends the load with a clear error instead of hanging it.
type idleReader struct {
	ctx     context.Context
	body    io.ReadCloser
	timeout time.Duration
	timer   *time.Timer
	cancel  context.CancelCauseFunc
	once    sync.Once
}

var errStalled = errors.New("body stalled")

func newIdleReader(ctx context.Context, body io.ReadCloser, timeout time.Duration, cancel context.CancelCauseFunc) *idleReader {
	r := &idleReader{ctx: ctx, body: body, timeout: timeout, cancel: cancel}
	r.timer = time.AfterFunc(timeout, func() { cancel(errStalled) })
	return r
}

func (r *idleReader) Read(p []byte) (int, error) {
	n, err := r.body.Read(p)
	if n > 0 {
		r.timer.Reset(r.timeout)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(context.Cause(r.ctx), errStalled) {
			return n, &connectors.SourceError{Status: connectors.StatusTimeout, Message: fmt.Sprintf(
				"el servidor dejó de enviar datos durante %s", r.timeout), Err: errStalled}
		}
		return n, &connectors.SourceError{Status: connectors.StatusError, Message: "se interrumpió la descarga", Err: stripURL(err)}
	}
	return n, err
}

func (r *idleReader) Close() error {
	var err error
	r.once.Do(func() {
		r.timer.Stop()
		err = r.body.Close()
		r.cancel(nil)
	})
	return err
}
