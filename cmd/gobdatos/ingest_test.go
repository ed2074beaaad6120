package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

const ingestDef = `{"name": "cat_localidad", "title": "Localidades de prueba", "description": "Localidades para probar la carga.",
 "schema": {"fields": [
   {"name": "id_localidad", "type": "string", "description": "Clave.", "constraints": {"required": true, "maxLength": 9, "pattern": "[0-9]{9}"}},
   {"name": "nombre", "type": "string", "description": "Nombre.", "constraints": {"required": true, "maxLength": 120}},
   {"name": "poblacion", "type": "integer", "description": "Habitantes.", "constraints": {"minimum": 0}}
 ], "primaryKey": "id_localidad"}}`

type ingestBundle struct {
	ctx  context.Context
	url  string
	pool *pgxpool.Pool
	dir  string
}

func setupIngest(t *testing.T) *ingestBundle {
	t.Helper()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	var dep, uid int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SFIA', 'Secretaría de Finanzas') RETURNING id`).Scan(&dep))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.app_user (login, email, full_name, profile) VALUES ('super', 'super@example.mx', 'Super', 'superadmin') RETURNING id`).Scan(&uid))
	res, err := tableschema.Parse(strings.NewReader(ingestDef))
	require.NoError(t, err)
	_, err = catalog.NewStore(pool, nil).Create(ctx, catalog.Actor{UserID: uid, Login: "super", Profile: account.SuperAdmin},
		catalog.NewCatalog{Resource: res, DependenciaID: dep, Publish: true})
	require.NoError(t, err)
	return &ingestBundle{ctx: ctx, url: url, pool: pool, dir: t.TempDir()}
}

func (b *ingestBundle) file(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(b.dir, name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

func (b *ingestBundle) ingest(t *testing.T, args ...string) cliResult {
	t.Helper()
	return runCLI(t, cleanEnv("DATABASE_URL="+b.url), "", append([]string{"ingest", "--catalog", "localidad"}, args...)...)
}

func (b *ingestBundle) version(t *testing.T) (int, string) {
	t.Helper()
	var v int
	var rows string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT current_version FROM meta.catalog WHERE clave = 'localidad'`).Scan(&v))
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT coalesce(string_agg(id_localidad || '=' || nombre || '=' || coalesce(poblacion::text, ''), ';' ORDER BY id_localidad), '')
		FROM cat.cat_localidad WHERE activo`).Scan(&rows))
	return v, rows
}

func localidades(n int, name string) string {
	var b strings.Builder
	b.WriteString("id_localidad,nombre,poblacion\n")
	for i := range n {
		fmt.Fprintf(&b, "%09d,%s %d,%d\n", 110010001+i, name, i, i*7)
	}
	return b.String()
}

func TestIngestFileSummaryJSONAndExitCodes(t *testing.T) {
	t.Parallel()
	b := setupIngest(t)
	good := b.file(t, "localidades.csv", localidades(50, "Localidad"))
	r := b.ingest(t, "--source", good)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "publicada como versión 1")
	require.Contains(t, r.stdout, "50 leídas, 50 válidas, 0 rechazadas")

	r = b.ingest(t, "--source", good)
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "sin cambios (sigue la versión 1)")
	_, before := b.version(t)

	bad := b.file(t, "malas.csv", "id_localidad,nombre,poblacion\n110010001,Uno,-1\n11001000X,Dos,3\n110010001,Tres,4\n")
	r = b.ingest(t, "--source", bad)
	require.Equal(t, 2, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "rechazada")
	require.Contains(t, r.stdout, "fila 2, columna «poblacion», valor «-1»: el valor es menor que el mínimo 0")
	require.Contains(t, r.stdout, "fila 3, columna «id_localidad», valor «11001000X»: no cumple el patrón")

	r = b.ingest(t, "--source", bad, "--json")
	require.Equal(t, 2, r.code)
	var run pipeline.Run
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &run), r.stdout)
	require.Equal(t, pipeline.Rejected, run.State)
	require.False(t, run.Report.Valid)
	require.EqualValues(t, 2, run.Report.Stats.Errors) // row 4 repeats the key of row 2, which was rejected
	require.Equal(t, "constraint-error", run.Report.Errors[0].Type)
	require.Equal(t, "poblacion", run.Report.Errors[0].FieldName)
	require.EqualValues(t, 2, run.Report.Errors[0].RowNumber)
	require.Equal(t, "-1", run.Report.Errors[0].Cell)

	v, after := b.version(t)
	require.Equal(t, 1, v)
	require.Equal(t, before, after, "rejected loads leave the published catalog as it was")

	for _, tc := range []struct{ name, text, want string }{
		{"empty.csv", "", "vacío"},
		{"header-only.csv", "id_localidad,nombre,poblacion\n", "no trae filas"},
		{"wrong-header.csv", "clave,nombre,habitantes\n110010001,Uno,1\n", "falta la columna «id_localidad»"},
		{"missing-column.csv", "id_localidad,nombre\n110010001,Uno\n", "falta la columna «poblacion»"},
		{"extra-column.csv", "id_localidad,nombre,poblacion,otra\n110010001,Uno,1,x\n", "la columna «otra» (posición 4) no está en la definición"},
		{"out-of-range.csv", "id_localidad,nombre,poblacion\n110010001,Uno,99999999999\n", "fuera del rango del tipo integer"},
	} {
		r := b.ingest(t, "--source", b.file(t, tc.name, tc.text))
		require.NotEqual(t, 0, r.code, tc.name)
		require.Contains(t, r.stdout+r.stderr, tc.want, tc.name)
		v, rows := b.version(t)
		require.Equal(t, 1, v, tc.name)
		require.Equal(t, before, rows, tc.name)
	}
}

func TestIngestHTTP(t *testing.T) {
	t.Parallel()
	b := setupIngest(t)
	body := localidades(20, "Remota")
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		switch r.URL.Path {
		case "/flaky.csv":
			if n == 1 {
				http.Error(w, "ocupado", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/csv")
			fmt.Fprint(w, body)
		case "/empty.csv":
			w.Header().Set("Content-Type", "text/csv")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	r := b.ingest(t, "--source", srv.URL+"/flaky.csv")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.EqualValues(t, 2, calls.Load(), "a 500 is retried")
	require.Contains(t, r.stdout, "publicada como versión 1")
	_, before := b.version(t)

	calls.Store(0)
	r = b.ingest(t, "--source", srv.URL+"/missing.csv")
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.EqualValues(t, 1, calls.Load(), "a 404 is not retried")
	require.Contains(t, r.stdout, "404")

	r = b.ingest(t, "--source", srv.URL+"/empty.csv")
	require.Equal(t, 1, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "vacío")
	v, after := b.version(t)
	require.Equal(t, 1, v)
	require.Equal(t, before, after)
}

// The process is killed (SIGKILL) while the publication's transaction is
// open: the published version stays exactly what it was, and the run is
// marked failed at the next start.
func TestIngestKilledDuringPublication(t *testing.T) {
	t.Parallel()
	b := setupIngest(t)
	r := b.ingest(t, "--source", b.file(t, "v1.csv", localidades(100, "Original")))
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	_, before := b.version(t)

	// Every row changes, so the publication has work to do.
	big := b.file(t, "v2.csv", localidades(150000, "Cambiada"))
	cmd := exec.Command(binary, "ingest", "--catalog", "localidad", "--source", big, "--max-rows=-1")
	cmd.Env = cleanEnv("DATABASE_URL=" + b.url)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// The catalog's publication marks the statement that writes the
	// version (and names its temporary table) gobdatos_publish: seeing it
	// in a running statement means the transaction is open.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var publishing bool
		require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'gobdatos-ingest'
			AND backend_xid IS NOT NULL AND query LIKE '%gobdatos_publish%')`).Scan(&publishing))
		if publishing {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("ingest ended before it could be killed during publication: %v", err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "the publication never started")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-exited

	// Wait for PostgreSQL to notice the dead sessions and roll back.
	require.Eventually(t, func() bool {
		var n int
		require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'gobdatos-ingest'`).Scan(&n))
		return n == 0
	}, time.Minute, 20*time.Millisecond)

	v, after := b.version(t)
	require.Equal(t, 1, v)
	require.Equal(t, before, after, "the published version is exactly what it was")
	var state string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT state FROM meta.load_run ORDER BY id DESC LIMIT 1`).Scan(&state))
	require.Equal(t, "running", state)

	n, err := pipeline.RecoverRuns(b.ctx, b.pool) // what serve and dev do at start
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var msg string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT state, error FROM meta.load_run ORDER BY id DESC LIMIT 1`).Scan(&state, &msg))
	require.Equal(t, "failed", state)
	require.Contains(t, msg, "se interrumpió")
}

func TestIngestFromDatabases(t *testing.T) {
	t.Parallel()
	b := setupIngest(t)
	srcURL := pgtest.NewURL(t)
	src, err := pgxpool.New(b.ctx, srcURL)
	require.NoError(t, err)
	defer src.Close()
	_, err = src.Exec(b.ctx, `CREATE TABLE origen AS SELECT lpad((110010000 + i)::text, 9, '0') AS id_localidad,
		'Localidad ' || i AS nombre, i * 3 AS poblacion FROM generate_series(1, 500) i`)
	require.NoError(t, err)
	r := b.ingest(t, "--source", srcURL, "--table", "origen")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "publicada como versión 1")
	require.Contains(t, r.stdout, "500 leídas, 500 válidas")
	r = b.ingest(t, "--source", srcURL)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stderr, "--table o --query")

	admin, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/?multiStatements=true")
	require.NoError(t, err)
	defer admin.Close()
	if err := admin.Ping(); err != nil {
		t.Skipf("MariaDB at 127.0.0.1:3306 not reachable: %v", err)
	}
	name := fmt.Sprintf("gobdatos_ingest_%d", time.Now().UnixNano())
	_, err = admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4")
	require.NoError(t, err)
	defer admin.Exec("DROP DATABASE " + name)
	_, err = admin.Exec("USE " + name + `; CREATE TABLE localidad (id_localidad VARCHAR(9) PRIMARY KEY, nombre VARCHAR(120), poblacion INT);
		INSERT INTO localidad VALUES ('110010001', 'Abasolo', 100), ('110010002', 'Acámbaro', 200), ('110010003', 'Cañada de Caracheo', NULL)`)
	require.NoError(t, err)
	r = b.ingest(t, "--source", "mysql://root@tcp(127.0.0.1:3306)/"+name, "--query", "SELECT id_localidad, nombre, poblacion FROM localidad")
	require.Equal(t, 0, r.code, r.stdout+r.stderr)
	require.Contains(t, r.stdout, "publicada como versión 2")
	require.Contains(t, r.stdout, "0 altas, 3 modificaciones, 497 bajas")
	_, rows := b.version(t)
	require.Equal(t, "110010001=Abasolo=100;110010002=Acámbaro=200;110010003=Cañada de Caracheo=", rows)
}
