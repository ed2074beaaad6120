// Package localpg runs a private PostgreSQL server from the machine's own
// binaries in a data folder, for `gobdatos dev` and for tests on a machine
// without a database. It never touches a system cluster: the server listens
// only on a free loopback port, with no Unix socket, and a password kept next
// to the data folder.
package localpg

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries means no PostgreSQL server binaries were found.
var ErrNoBinaries = errors.New("no se encontraron los programas de PostgreSQL (initdb, postgres) / PostgreSQL server binaries (initdb, postgres) not found: install them (Debian: apt-get install -y postgresql) or set DATABASE_URL")

// Options configure a private server.
type Options struct {
	// DataDir is the cluster folder (created on first start), e.g. ./var/pg.
	DataDir string
	// Database is created on start when missing; default "datosigto".
	Database string
	// Logger receives progress lines; nil discards them.
	Logger *slog.Logger
	// StartTimeout bounds how long the server may take to accept connections.
	StartTimeout time.Duration
}

// Server is a running private PostgreSQL.
type Server struct {
	opts     Options
	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	port     int
	password string
	logPath  string
}

// FindBinaries returns the folder holding initdb and postgres: the PATH
// first, then the newest /usr/lib/postgresql/*/bin.
func FindBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs2, _ := filepath.Glob("/usr/local/pgsql/bin")
	dirs = append(dirs, dirs2...)
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(binDir)), 64)
	return v
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start initializes the cluster when the folder is new, stops a server a
// crashed earlier run left behind, starts PostgreSQL on a free loopback port
// and creates the database.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Database == "" {
		opts.Database = "datosigto"
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	opts.DataDir = dir
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	owner, err := runAs()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, exited: make(chan struct{}), logPath: dir + ".log"}
	if s.password, err = s.ensureCluster(ctx, bin, owner); err != nil {
		return nil, err
	}
	if err := stopStale(dir, opts.Logger); err != nil {
		return nil, err
	}
	if s.port, err = freePort(); err != nil {
		return nil, err
	}
	if err := s.start(bin, owner); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		s.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	if err := s.createDatabase(ctx); err != nil {
		s.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	opts.Logger.Info("PostgreSQL privado listo", "dir", dir, "port", s.port)
	return s, nil
}

// URL is the connection URL of the server's database.
func (s *Server) URL() string { return s.urlFor(s.opts.Database) }

// AdminURL is the connection URL of the maintenance database "postgres".
func (s *Server) AdminURL() string { return s.urlFor("postgres") }

func (s *Server) urlFor(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword("postgres", s.password),
		Host:     net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path:     "/" + db,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// Port is the loopback port the server listens on.
func (s *Server) Port() int { return s.port }

// Stop shuts the server down (fast mode: open sessions are ended, data is
// flushed) and waits for it to exit.
func (s *Server) Stop(ctx context.Context) error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	for _, step := range []struct {
		wait time.Duration
		sig  syscall.Signal
	}{{30 * time.Second, syscall.SIGQUIT}, {5 * time.Second, syscall.SIGKILL}} {
		select {
		case <-s.exited:
			s.opts.Logger.Info("PostgreSQL privado detenido", "dir", s.opts.DataDir)
			return nil
		case <-time.After(step.wait):
			_ = s.cmd.Process.Signal(step.sig)
		}
	}
	<-s.exited
	return errors.New("localpg: server had to be killed")
}

// Exited is closed when the server process ends.
func (s *Server) Exited() <-chan struct{} { return s.exited }

// owner is the unprivileged account the server runs as when we are root
// (initdb and postgres refuse to run as root).
type owner struct {
	name     string
	uid, gid uint32
	root     bool
}

func runAs() (owner, error) {
	if os.Geteuid() != 0 {
		return owner{}, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		return owner{name: name, uid: uint32(uid), gid: uint32(gid), root: true}, nil
	}
	return owner{}, errors.New("localpg: running as root and no unprivileged user (postgres, nobody) exists to run PostgreSQL; run as a normal user or set DATABASE_URL")
}

func (o owner) attrs() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT}
	if o.root {
		a.Credential = &syscall.Credential{Uid: o.uid, Gid: o.gid}
	}
	return a
}

func (o owner) chown(path string) error {
	if !o.root {
		return nil
	}
	return os.Chown(path, int(o.uid), int(o.gid))
}

// canReach checks that the unprivileged owner can traverse every folder
// above dir; PostgreSQL would fail later with a less helpful message.
func (o owner) canReach(dir string) error {
	if !o.root {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("localpg: %w", err)
		}
		sys, _ := st.Sys().(*syscall.Stat_t)
		mode := st.Mode().Perm()
		ok := mode&0o001 != 0 ||
			(sys != nil && sys.Uid == o.uid && mode&0o100 != 0) ||
			(sys != nil && sys.Gid == o.gid && mode&0o010 != 0)
		if !ok {
			return fmt.Errorf("localpg: PostgreSQL runs as user %q, which cannot enter %s (mode %v); "+
				"choose a data folder it can reach, e.g. GOBDATOS_DATA_DIR=/var/tmp/gobdatos", o.name, p, mode)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// ensureCluster runs initdb on a new folder and returns the superuser password.
func (s *Server) ensureCluster(ctx context.Context, bin string, o owner) (string, error) {
	dir := s.opts.DataDir
	pwPath := dir + ".password"
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		b, err := os.ReadFile(pwPath)
		if err != nil {
			return "", fmt.Errorf("localpg: cluster %s exists but its password file %s cannot be read: %w", dir, pwPath, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", fmt.Errorf("localpg: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("localpg: %w", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		return "", fmt.Errorf("localpg: %s is not empty and holds no PostgreSQL cluster; move it away or choose another data folder", dir)
	}
	if err := o.chown(dir); err != nil {
		return "", fmt.Errorf("localpg: hand %s to user %s: %w", dir, o.name, err)
	}
	if err := o.canReach(dir); err != nil {
		return "", err
	}
	pw := randomHex(24)
	pwFile, err := os.CreateTemp("", "gobdatos-pw-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(pwFile.Name())
	if _, err := pwFile.WriteString(pw + "\n"); err != nil {
		return "", err
	}
	pwFile.Close()
	if err := o.chown(pwFile.Name()); err != nil {
		return "", err
	}
	s.opts.Logger.Info("creando el clúster de PostgreSQL", "dir", dir)
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "initdb"),
		"-D", dir, "-U", "postgres", "--auth=scram-sha-256", "--pwfile="+pwFile.Name(),
		"--encoding=UTF8", "--locale=C.UTF-8")
	cmd.SysProcAttr = o.attrs()
	cmd.Dir = os.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		hint := ""
		if o.root {
			hint = fmt.Sprintf(" (PostgreSQL runs as user %q: every folder above %s must be readable by it)", o.name, dir)
		}
		return "", fmt.Errorf("localpg: initdb failed%s: %w\n%s", hint, err, out.String())
	}
	if err := os.WriteFile(pwPath, []byte(pw+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("localpg: save password: %w", err)
	}
	return pw, nil
}

// stopStale ends a server that an earlier run left behind (killed with
// SIGKILL, say), so the folder can be reused.
func stopStale(dir string, logger *slog.Logger) error {
	b, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return nil // stale file: postgres removes it itself
	}
	logger.Warn("deteniendo un PostgreSQL que quedó de una ejecución anterior", "pid", pid)
	_ = syscall.Kill(pid, syscall.SIGINT)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // not our child: no exit signal to wait on
	}
	return fmt.Errorf("localpg: the server (pid %d) left by an earlier run does not stop", pid)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("localpg: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start(bin string, o owner) error {
	logFile, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("localpg: log file: %w", err)
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", s.opts.DataDir,
		"-p", strconv.Itoa(s.port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "max_connections=200",
	)
	cmd.Dir = os.TempDir()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = o.attrs()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("localpg: start postgres: %w", err)
	}
	s.cmd = cmd
	go func() {
		s.waitErr = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	return nil
}

func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.StartTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := pgx.Connect(ctx, s.AdminURL())
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("localpg: postgres exited while starting (%v); its log %s says:\n%s", s.waitErr, s.logPath, tail(s.logPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("localpg: postgres did not accept connections in %s: %w", s.opts.StartTimeout, err)
		case <-tick.C:
		}
	}
}

func (s *Server) createDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.AdminURL())
	if err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", s.opts.Database).Scan(&exists); err != nil {
		return fmt.Errorf("localpg: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{s.opts.Database}.Sanitize()); err != nil {
		return fmt.Errorf("localpg: create database %s: %w", s.opts.Database, err)
	}
	return nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
