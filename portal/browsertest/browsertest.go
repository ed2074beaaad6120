// Package browsertest drives the real portal through a headless Chromium
// (chromedp), for end-to-end tests of every area of the portal:
//
//	env := browsertest.New(t)                       // portal on a fresh database
//	admin := env.User(t, "ana", account.Admin, nil) // password browsertest.Password("ana")
//	b := env.Browser(t)                             // its own cookies
//	b.SignIn("ana", browsertest.Password("ana"))
//	b.Open("/usuarios")
//	b.Fill("#login", "beto")
//	status := b.Click("#guardar-usuario")           // waits for the page it loads
//	require.Contains(t, b.Text("#mensaje"), "…")
//	body := env.Mail(t, "beto@…")                   // the outbox, delivered to a folder
//
// Tests skip with a clear message when Chromium is not installed, except
// under CI (CI set), where they fail: .ci/run installs it.
package browsertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net/http/httptest"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
	"github.com/dgtit-gto/gobdatos/portal"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Timeout bounds each browser step.
const Timeout = 20 * time.Second

// Env is the portal running on its own database, and a Chromium to drive it.
type Env struct {
	Pool    *pgxpool.Pool
	Server  *portal.Server
	URL     string
	MailDir string
	alloc   context.Context
}

// chromium finds the browser: $CHROME_PATH, else Debian's and Google's names.
func chromium() string {
	if p := os.Getenv("CHROME_PATH"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts the portal (with opts applied to its Options) on a fresh
// migrated database, which ends with the test, and the test binary's
// headless Chromium when not yet running.
func New(t *testing.T, opts ...func(*portal.Options)) *Env {
	t.Helper()
	path := chromium()
	if path == "" {
		msg := "browsertest: Chromium no está instalado (apt-get install -y chromium chromium-driver; .ci/run lo instala)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	o := portal.Options{
		Pool:    pgtest.New(t),
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Version: "browsertest",
		// sign-in limits per address: every browser here comes from 127.0.0.1
		SignInThrottle: account.Throttle{PerLogin: 5, PerAddr: 1000, Window: 15 * time.Minute},
	}
	for _, f := range opts {
		f(&o)
	}
	srv, err := portal.New(o)
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)

	browser, err := shared.start(path)
	require.NoError(t, err, "start Chromium at %s", path)
	return &Env{Pool: o.Pool, Server: srv, URL: ts.URL, MailDir: t.TempDir(), alloc: browser}
}

// sharedBrowser is one Chromium per test binary: tests get their own browser
// contexts (cookies, storage) in it, which costs far less than a process
// each. chromedp starts it with Pdeathsig, so it ends with the test binary.
type sharedBrowser struct {
	once sync.Once
	ctx  context.Context
	err  error
}

var shared sharedBrowser

func (s *sharedBrowser) start(path string) (context.Context, error) {
	s.once.Do(func() {
		removeStale()
		dir, err := os.MkdirTemp("", "gobdatos-browsertest-")
		if err != nil {
			s.err = err
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path),
			chromedp.Flag("headless", true),
			chromedp.DisableGPU,
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.UserDataDir(dir),
		)
		if os.Geteuid() == 0 {
			opts = append(opts, chromedp.NoSandbox) // Chromium refuses its sandbox as root
		}
		alloc, _ := chromedp.NewExecAllocator(context.Background(), opts...)
		s.ctx, _ = chromedp.NewContext(alloc)
		s.err = chromedp.Do(s.ctx) // the first action starts the browser
	})
	return s.ctx, s.err
}

// removeStale deletes the profile folders of earlier test runs.
func removeStale() {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "gobdatos-browsertest-*"))
	for _, dir := range old {
		if fi, err := os.Stat(dir); err == nil && time.Since(fi.ModTime()) > time.Hour {
			_ = os.RemoveAll(dir)
		}
	}
}

// Password is the password User gives login.
func Password(login string) string { return login + "-clave-larga" }

// User creates an active user whose password is Password(login).
func (e *Env) User(t *testing.T, login string, p account.Profile, dependenciaID *int64) account.User {
	t.Helper()
	u, err := account.NewStore(e.Pool).Create(context.Background(), account.NewUser{Login: login, Email: login + "@guanajuato.gob.mx",
		FullName: "Usuario " + login, Profile: p, DependenciaID: dependenciaID, Password: Password(login)})
	require.NoError(t, err)
	return u
}

// Dependencia creates a dependencia and returns its id.
func (e *Env) Dependencia(t *testing.T, clave, nombre string) *int64 {
	t.Helper()
	var id int64
	require.NoError(t, e.Pool.QueryRow(context.Background(),
		`INSERT INTO meta.dependencia (clave, nombre) VALUES ($1, $2) RETURNING id`, clave, nombre).Scan(&id))
	return &id
}

// Mail delivers the outbox into MailDir (as the portal does in dev, without
// SMTP_URL) and returns the decoded text of the newest mail to recipient.
func (e *Env) Mail(t *testing.T, recipient string) string {
	t.Helper()
	d := &outbox.Deliverer{DB: e.Pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Email: outbox.DirMailer{Dir: e.MailDir}},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, err := d.DeliverDue(context.Background())
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(e.MailDir, "*.eml"))
	require.NoError(t, err)
	sort.Sort(sort.Reverse(sort.StringSlice(files)))
	for _, f := range files {
		body, to := readMail(t, f)
		if strings.EqualFold(to, recipient) {
			return body
		}
	}
	t.Fatalf("browsertest: no mail to %s in %s", recipient, e.MailDir)
	return ""
}

func readMail(t *testing.T, path string) (body, to string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := mail.ReadMessage(f)
	require.NoError(t, err)
	addrs, err := m.Header.AddressList("To")
	require.NoError(t, err)
	var r io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	raw, err := io.ReadAll(r)
	require.NoError(t, err)
	if len(addrs) == 0 {
		return string(raw), ""
	}
	return string(raw), addrs[0].Address
}

// Browser is one visitor with his own cookies (a separate browser context).
type Browser struct {
	t   *testing.T
	env *Env
	ctx context.Context
}

// Browser opens a new visitor; he shares nothing with the others.
func (e *Env) Browser(t *testing.T) *Browser {
	t.Helper()
	ctx, cancel := chromedp.NewContext(e.alloc, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	// the first action opens the tab, on the context it lives on: a step's
	// timeout must not close it
	require.NoError(t, chromedp.Do(ctx))
	return &Browser{t: t, env: e, ctx: ctx}
}

func (b *Browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, steps...))
}

func (b *Browser) navigate(steps ...chromedp.Action[chromedp.Void]) int {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	res, err := chromedp.RunResponse(ctx, steps...)
	require.NoError(b.t, err)
	return int(res.Status)
}

// Open loads a page of the portal (path like "/usuarios") and returns the
// HTTP status of the document.
func (b *Browser) Open(path string) int {
	b.t.Helper()
	return b.navigate(chromedp.Navigate(b.env.URL + path))
}

// Fill types value into the input or textarea that matches the CSS selector.
func (b *Browser) Fill(sel, value string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value))
}

// Select chooses the option with value in the select that matches sel.
func (b *Browser) Select(sel, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), value))
}

// Check sets a checkbox, clicking it when it is not as wanted.
func (b *Browser) Check(sel string, on bool) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	checked, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked"))
	require.NoError(b.t, err)
	if checked != on {
		b.do(chromedp.Click(chromedp.CSS(sel)))
	}
}

// Click clicks what sel matches (a button, a link) and waits for the page
// it loads; it returns that page's HTTP status.
func (b *Browser) Click(sel string) int {
	b.t.Helper()
	return b.navigate(chromedp.Click(chromedp.CSS(sel)))
}

// Text is the visible text of the first element that matches sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, "text of %s", sel)
	return s
}

// Has reports whether the page has an element that matches sel (no waiting).
func (b *Browser) Has(sel string) bool {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
	require.NoError(b.t, err)
	return n
}

// Path is the path (and query) of the page shown.
func (b *Browser) Path() string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(b.t, err)
	return strings.TrimPrefix(loc, b.env.URL)
}

// SignIn signs in through /entrar and returns the status of the page after.
func (b *Browser) SignIn(login, password string) int {
	b.t.Helper()
	b.Open("/entrar")
	b.Fill("#login", login)
	b.Fill("#password", password)
	return b.Click("#entrar")
}

// SignOut signs out with the navigation's «Salir».
func (b *Browser) SignOut() int {
	b.t.Helper()
	return b.Click("#nav-salir")
}

// Wait waits until the page has an element that matches sel (one a script
// adds, such as a drawn diagram).
func (b *Browser) Wait(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitReady(chromedp.CSS(sel)))
}

// Upload puts the file at path into the file input sel.
func (b *Browser) Upload(sel, path string) {
	b.t.Helper()
	b.do(chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path}))
}

// Attr is the attribute name of the first element that matches sel.
func (b *Browser) Attr(sel, name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("document.querySelector(%q).getAttribute(%q) || ''", sel, name)))
	require.NoError(b.t, err, "attribute %s of %s", name, sel)
	return v
}
