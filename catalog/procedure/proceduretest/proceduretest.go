// Package proceduretest gives tests of other packages an engine on the
// shipped definitions and the platform state the procedures check (a
// catalog table in cat that follows the nomenclature, registered).
package proceduretest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature/introspect"
	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/schemas"
)

// Engine returns an engine on pool for the shipped definitions and
// calendar, with its definitions recorded.
func Engine(t testing.TB, pool *pgxpool.Pool) *procedure.Engine {
	t.Helper()
	reg, err := procedure.Load(schemas.Procedures())
	require.NoError(t, err)
	cal, err := procedure.ParseCalendar("gto.yaml", schemas.Calendar())
	require.NoError(t, err)
	eng := procedure.NewEngine(pool, reg, cal)
	eng.BaseURL = "https://datos.guanajuato.gob.mx"
	eng.UsePlatform(Platform(t, pool))
	require.NoError(t, eng.Sync(context.Background()))
	DropGrantedRoles(t, pool)
	return eng
}

// Keys is the keyring the test engines seal secrets with.
func Keys(t testing.TB) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New([]byte(strings.Repeat("p", 32)))
	require.NoError(t, err)
	return k
}

// Platform is what the test engines' effects act on: the catalog registry
// with the DAID nomenclature, and Keys.
func Platform(t testing.TB, pool *pgxpool.Pool) procedure.Platform {
	t.Helper()
	rules, err := nomenclature.DefaultRules()
	require.NoError(t, err)
	return procedure.Platform{Catalogs: catalog.NewStore(pool, catalog.Nomenclature(rules)), Keys: Keys(t)}
}

// RoleName returns a cluster-unique role name for an F-5 grant (roles
// belong to the server, not to the test's database).
func RoleName(t testing.TB) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "t_proc_" + hex.EncodeToString(b)
}

// DropGrantedRoles drops, when the test ends, every role granted on pool's
// database (the procedures' F-5 access), so no test leaves roles behind.
func DropGrantedRoles(t testing.TB, pool *pgxpool.Pool) {
	t.Cleanup(func() {
		ctx := context.Background()
		rows, err := pool.Query(ctx, `SELECT role_name FROM meta.entity_access`)
		if err != nil {
			return
		}
		roles, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil || len(roles) == 0 {
			return
		}
		server, err := pgx.Connect(ctx, pgtest.ServerURL())
		if err != nil {
			return
		}
		defer server.Close(ctx)
		for _, r := range roles {
			_, _ = pool.Exec(ctx, "DROP OWNED BY "+pgdb.QuoteIdent(r))
			_, _ = server.Exec(ctx, "DROP ROLE IF EXISTS "+pgdb.QuoteIdent(r))
		}
	})
}

// CheckConnectivity runs, now, the connectivity check of every access and
// connector the case folio's steps linked, as the scheduler would.
func CheckConnectivity(t testing.TB, eng *procedure.Engine, pool *pgxpool.Pool, folio string) {
	t.Helper()
	ctx := context.Background()
	c, err := eng.Get(ctx, folio)
	require.NoError(t, err)
	links, err := eng.Links(ctx, c)
	require.NoError(t, err)
	keys := Keys(t)
	checker := health.NewChecker(health.Checker{DB: pool, Connectors: &registry.Store{DB: pool, Keys: keys},
		Access: &access.Store{DB: pool, Keys: keys}, Probe: health.SourceProbe, AccessTimeout: 10 * time.Second}, 2)
	for _, l := range links {
		switch l.Kind {
		case procedure.LinkAccess:
			var id int64
			require.NoError(t, pool.QueryRow(ctx, `SELECT id FROM meta.entity_access WHERE role_name = $1 AND revoked_at IS NULL`, l.Ref).Scan(&id))
			_, err := checker.EntityAccess(ctx, id, time.Minute, true)
			require.NoError(t, err)
		case procedure.LinkConnector:
			var id int64
			require.NoError(t, pool.QueryRow(ctx, `SELECT $1::bigint`, l.Ref).Scan(&id))
			_, err := checker.Connector(ctx, id, true)
			require.NoError(t, err)
		}
	}
}

// Table is the catalog table PublishedCatalog creates; it is the example
// of the formatos' table fields.
const Table = "cat_municipio"

// catalogDDL is a catalog that follows the DAID nomenclature — the clean
// live table of the nomenclature corpus, beside this file's package in the
// source tree — and its history table.
func catalogDDL(t testing.TB) string {
	t.Helper()
	_, here, _, ok := runtime.Caller(0)
	require.True(t, ok, "the source file of proceduretest")
	ddl, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "..", "testdata", "nomenclature", "tables", "clean-municipio.sql"))
	require.NoError(t, err)
	return string(ddl) + `
CREATE TABLE hist.cat_municipio (LIKE cat.cat_municipio,
  _v_desde integer NOT NULL, _v_hasta integer NOT NULL, _ausente boolean NOT NULL DEFAULT false);`
}

// CatalogTable creates cat.cat_municipio (and the cat_entidad it refers
// to), following the nomenclature, with its history table.
func CatalogTable(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(context.Background(), catalogDDL(t))
	require.NoError(t, err)
}

// PublishedCatalog creates the table and registers it in meta.catalog as a
// published catalog of dependencia.
func PublishedCatalog(t testing.TB, pool *pgxpool.Pool, dependenciaID int64) {
	t.Helper()
	CatalogTable(t, pool)
	ctx := context.Background()
	live, err := introspect.Read(ctx, pool, "cat", Table)
	require.NoError(t, err)
	res, err := catalog.DefinitionFromTable(live, false)
	require.NoError(t, err)
	def, err := json.Marshal(res)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `
		INSERT INTO meta.catalog (clave, table_name, title, description, state, definition, dependencia_id, created_by, published_at)
		VALUES ('municipios', $1, 'Municipios', 'Municipios de México', 'publicado', $3, $2, 'proceduretest', now())`, Table, dependenciaID, def)
	require.NoError(t, err)
}
