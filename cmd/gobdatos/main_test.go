package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations"
	"github.com/dgtit-gto/gobdatos/migrations/localpg"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// binary is the gobdatos built once for the end-to-end tests of this file.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gobdatos-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "gobdatos")
	out, err := exec.Command("go", "build", "-race", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running gobdatos whose output lines are scanned as they come.
type proc struct {
	cmd   *exec.Cmd
	lines chan string
	all   strings.Builder
	mu    sync.Mutex
	done  chan struct{}
}

func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	require.NoError(t, cmd.Start())
	p := &proc{cmd: cmd, lines: make(chan string, 1000), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			p.mu.Lock()
			p.all.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
	}()
	go func() {
		_ = cmd.Wait()
		w.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	})
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.all.String()
}

// waitFor returns the first submatch of re in the output, failing after timeout.
func (p *proc) waitFor(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("process ended before %q; output:\n%s", re, p.output())
			}
			if m := re.FindStringSubmatch(line); m != nil {
				if len(m) > 1 {
					return m[1]
				}
				return m[0]
			}
		case <-deadline:
			t.Fatalf("no %q within %s; output:\n%s", re, timeout, p.output())
		}
	}
}

func (p *proc) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("did not stop; output:\n%s", p.output())
	}
	return p.cmd.ProcessState.ExitCode()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// cleanEnv is the environment without any database or data-folder setting.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DATABASE_URL") || strings.HasPrefix(kv, "GOBDATOS_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

var readyRe = regexp.MustCompile(`portal ready:\s+(http://\S+)`)

// The newcomer's path: `dev` with no database starts a private PostgreSQL,
// seeds, prints the administrator's password, serves; Ctrl-C leaves no
// PostgreSQL behind; the next run reuses the data.
func TestDevEmbeddedDefault(t *testing.T) {
	if _, err := localpg.FindBinaries(); err != nil {
		t.Skip(err)
	}
	t.Parallel()
	base, err := os.MkdirTemp("", "gobdatos-dev-")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(base, 0o755))
	t.Cleanup(func() { os.RemoveAll(base) })
	dataDir := filepath.Join(base, "var")
	env := cleanEnv()
	args := []string{"dev", "--addr", "127.0.0.1:0", "--data-dir", dataDir}

	p := start(t, env, args...)
	url := p.waitFor(t, readyRe, 90*time.Second)
	require.Contains(t, p.output(), "contraseña temporal:")
	status, body := get(t, url+"/healthz")
	require.Equal(t, 200, status)
	status, body = get(t, url+"/")
	require.Equal(t, 200, status)
	require.Contains(t, body, "Catálogos transversales")
	require.Contains(t, body, "cat_municipio")
	require.Equal(t, 0, p.stop(t, syscall.SIGINT), p.output())
	requireNoPostgres(t, filepath.Join(dataDir, "pg"))

	p = start(t, env, args...)
	url = p.waitFor(t, readyRe, 90*time.Second)
	require.NotContains(t, p.output(), "contraseña temporal:", "the administrator is created once")
	status, _ = get(t, url+"/readyz")
	require.Equal(t, 200, status)
	require.Equal(t, 0, p.stop(t, syscall.SIGTERM), p.output())
	requireNoPostgres(t, filepath.Join(dataDir, "pg"))
}

// requireNoPostgres fails when any process still runs on the cluster folder.
func requireNoPostgres(t *testing.T, dir string) {
	t.Helper()
	_, err := os.Stat(filepath.Join(dir, "postmaster.pid"))
	require.True(t, os.IsNotExist(err), "postmaster.pid left behind")
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.Contains(string(cmdline), dir) {
			t.Fatalf("process %s still runs on %s: %q", e.Name(), dir, cmdline)
		}
	}
}

var listenRe = regexp.MustCompile(`"msg":"portal escuchando","addr":"([^"]+)"`)

// Three instances started at once on an empty database all come up, and
// each migration is recorded once.
func TestServeThreeInstancesMigrateOnce(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.NewEmpty(t)
	dataDir := t.TempDir()
	env := cleanEnv("DATABASE_URL="+dbURL, "GOBDATOS_LOG_FORMAT=json")
	var procs []*proc
	for range 3 {
		procs = append(procs, start(t, env, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir))
	}
	for _, p := range procs {
		addr := p.waitFor(t, listenRe, 90*time.Second)
		status, _ := get(t, "http://"+addr+"/readyz")
		require.Equal(t, 200, status)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var total, distinct int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id) FROM `+migrations.Table+` WHERE version_id > 0`).
		Scan(&total, &distinct))
	require.Equal(t, distinct, total, "a migration was recorded twice")
	files, err := iofs.ReadDir(migrations.FS(), ".")
	require.NoError(t, err)
	require.Equal(t, len(files), distinct)
	for _, p := range procs {
		require.Equal(t, 0, p.stop(t, syscall.SIGTERM), p.output())
	}
}

func TestServeNeedsDatabase(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(binary, "serve").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "DATABASE_URL")
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"serve", "--help"}, {"dev", "--help"}, {"migrate", "--help"}, {"version"}} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		require.NoError(t, err, "%v: %s", args, out)
		require.NotEmpty(t, out)
	}
	out, _ := exec.Command(binary, "--help").CombinedOutput()
	for _, env := range []string{"DATABASE_URL", "GOBDATOS_DATA_DIR"} {
		require.Contains(t, string(out), env)
	}
	out, _ = exec.Command(binary, "serve", "--help").CombinedOutput()
	for _, env := range []string{"GOBDATOS_ADDR", "GOBDATOS_BASE_URL", "GOBDATOS_SECRET_KEY", "SMTP_URL"} {
		require.Contains(t, string(out), env)
	}
}
