package pipeline

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/decode"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

const entidadCatalog = `{"name": "cat_entidad", "title": "Entidades federativas", "description": "Entidades federativas de México.",
 "schema": {"fields": [
   {"name": "id_entidad", "type": "string", "description": "Clave INEGI de la entidad.", "constraints": {"required": true, "maxLength": 2, "pattern": "[0-9]{2}"}},
   {"name": "nombre", "type": "string", "description": "Nombre oficial.", "constraints": {"required": true, "maxLength": 100}}
 ], "primaryKey": "id_entidad"}}`

const municipioCatalog = `{"name": "cat_municipio", "title": "Municipios", "description": "Municipios de México.",
 "schema": {"fields": [
   {"name": "id_municipio", "type": "string", "description": "Clave completa.", "constraints": {"required": true, "maxLength": 5, "pattern": "[0-9]{5}"}},
   {"name": "id_entidad", "type": "string", "description": "Entidad.", "constraints": {"required": true, "maxLength": 2}},
   {"name": "nombre", "type": "string", "description": "Nombre oficial.", "constraints": {"required": true, "maxLength": 150}},
   {"name": "poblacion_total", "type": "integer", "description": "Población 2020.", "constraints": {"minimum": 0}}
 ], "primaryKey": "id_municipio",
 "foreignKeys": [{"fields": "id_entidad", "reference": {"resource": "cat_entidad", "fields": "id_entidad"}}]}}`

type loadBundle struct {
	ctx    context.Context
	pool   *pgxpool.Pool
	store  *catalog.Store
	actor  catalog.Actor
	loader *Loader
	dep    int64
}

func setupLoad(t *testing.T) *loadBundle {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	b := &loadBundle{ctx: ctx, pool: pool, store: catalog.NewStore(pool, nil), loader: &Loader{Pool: pool, MaxErrors: 50}}
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SFIA', 'Secretaría de Finanzas') RETURNING id`).Scan(&b.dep))
	var id int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.app_user (login, email, full_name, profile)
		VALUES ('super', 'super@example.mx', 'Super', 'superadmin') RETURNING id`).Scan(&id))
	b.actor = catalog.Actor{UserID: id, Login: "super", Profile: account.SuperAdmin}
	return b
}

func (b *loadBundle) create(t *testing.T, def string, validRows bool) *catalog.Catalog {
	t.Helper()
	c, err := b.store.Create(b.ctx, b.actor, catalog.NewCatalog{Resource: *resource(t, def), DependenciaID: b.dep, Publish: true, PublishValidRows: validRows})
	require.NoError(t, err)
	return c
}

// load runs a load of text (CSV with a header) in batches of chunk rows.
func (b *loadBundle) load(t *testing.T, clave, text string, chunk int) *Run {
	t.Helper()
	return b.loadWith(t, clave, text, connectors.Options{Format: connectors.FormatCSV, BatchSize: chunk, Delimiter: ','})
}

func (b *loadBundle) loadWith(t *testing.T, clave, text string, opt connectors.Options) *Run {
	t.Helper()
	c, err := b.store.ByClave(b.ctx, clave)
	require.NoError(t, err)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opt.Allocator = mem
	run, err := b.loader.Run(b.ctx, Request{Catalog: c, Actor: b.actor, Source: "prueba.csv", RowBase: 2,
		Open: func(ctx context.Context) (Stream, error) {
			return decode.Open(ctx, decode.Input{R: strings.NewReader(text), Name: "prueba.csv"}, opt)
		}})
	require.NoError(t, err)
	return run
}

// live is the published rows of a catalog, in key order: cols of each
// active row of cat.table.
func (b *loadBundle) live(t *testing.T, table, cols string) string {
	t.Helper()
	var s string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT coalesce(string_agg(x::text, ';' ORDER BY x::text), '') FROM (SELECT `+cols+` FROM cat.`+table+` WHERE activo) x`).Scan(&s))
	return s
}

const entidades = "id_entidad,nombre\n01,Aguascalientes\n11,Guanajuato\n14,Jalisco\n"

func TestLoadPublishesAndReloads(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	run := b.load(t, "entidad", entidades, 2)
	require.Equal(t, Succeeded, run.State, run.Error)
	require.Equal(t, 1, *run.Version)
	require.EqualValues(t, 3, run.RowsRead)
	require.EqualValues(t, 3, run.RowsAdded)
	require.True(t, run.Report.Valid)
	require.Contains(t, run.Timings, StageValidate)
	require.Contains(t, run.Timings, StagePublish)

	again := b.load(t, "entidad", entidades, 2)
	require.Equal(t, Succeeded, again.State)
	require.Equal(t, "unchanged", again.ErrorCode)
	require.Equal(t, 1, *again.Version, "an unchanged load makes no version")

	changed := b.load(t, "entidad", "id_entidad,nombre\n01,Aguascalientes\n11,Guanajuato (Estado Libre y Soberano)\n15,México\n", 10)
	require.Equal(t, Succeeded, changed.State, changed.Error)
	require.Equal(t, 2, *changed.Version)
	require.EqualValues(t, 1, changed.RowsAdded)
	require.EqualValues(t, 1, changed.RowsChanged)
	require.EqualValues(t, 1, changed.RowsRemoved)
	var staged bool
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'staging')`).Scan(&staged))
	require.False(t, staged, "staging tables are dropped")
}

func TestLoadWithErrorsIsRejectedWhole(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	b.create(t, municipioCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "entidad", entidades, 10).State)
	good := "id_municipio,id_entidad,nombre,poblacion_total\n11001,11,Abasolo,90000\n11002,11,Acámbaro,100000\n"
	require.Equal(t, Succeeded, b.load(t, "municipio", good, 10).State)
	before := b.live(t, "cat_municipio", "id_municipio, nombre, poblacion_total")

	bad := "id_municipio,id_entidad,nombre,poblacion_total\n" +
		"11001,11,Abasolo,1\n" + // row 2
		"11002,11,Acámbaro,-3\n" + // row 3: minimum
		"11003,99,Apaseo,5\n" + // row 4: no such entidad
		"11001,11,Abasolo bis,7\n" // row 5: key repeated across batches
	run := b.load(t, "municipio", bad, 2)
	require.Equal(t, Rejected, run.State)
	require.Equal(t, CodeInvalid, run.ErrorCode)
	require.Contains(t, run.Error, "3 errores")
	require.False(t, run.Report.Valid)
	require.EqualValues(t, 3, run.Report.Stats.Errors)
	require.EqualValues(t, 4, run.Report.Stats.Rows)
	require.EqualValues(t, 3, run.Report.Stats.Rejected)
	var rows []int64
	for _, e := range run.Report.Errors {
		rows = append(rows, e.RowNumber)
	}
	require.Equal(t, []int64{3, 4, 5}, rows)
	require.Equal(t, before, b.live(t, "cat_municipio", "id_municipio, nombre, poblacion_total"), "the published catalog is untouched")
	require.Nil(t, run.Version)
}

func TestLoadPublishValidRows(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, true)
	run := b.load(t, "entidad", "id_entidad,nombre\n01,Aguascalientes\n1X,Mal\n11,Guanajuato\n11,Repetida\n", 10)
	require.Equal(t, Succeeded, run.State, run.Error)
	require.EqualValues(t, 2, run.RowsValid)
	require.EqualValues(t, 2, run.RowsRejected)
	require.EqualValues(t, 2, run.Report.Stats.Errors)
	require.Equal(t, "(01,Aguascalientes);(11,Guanajuato)", b.live(t, "cat_entidad", "id_entidad, nombre"))
}

func TestLoadHeaderMismatchAndEmpty(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	run := b.load(t, "entidad", "clave,nombre\n01,Aguascalientes\n", 10)
	require.Equal(t, Rejected, run.State)
	require.Len(t, run.Report.Errors, 2)
	require.Equal(t, ErrMissingLbl, run.Report.Errors[0].Type)
	require.Contains(t, run.Report.Errors[0].Message, "falta la columna «id_entidad»")

	empty := b.load(t, "entidad", "id_entidad,nombre\n", 10)
	require.Equal(t, Rejected, empty.State)
	require.Equal(t, CodeEmpty, empty.ErrorCode)
	c, err := b.store.ByClave(b.ctx, "entidad")
	require.NoError(t, err)
	require.Equal(t, 0, c.CurrentVersion)
}

func TestLoadsOfOneCatalogNeverOverlap(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.loader.LockWait = 50 * time.Millisecond
	c := b.create(t, entidadCatalog, false)
	unlock, ok, err := lockCatalog(b.ctx, b.pool, c.ID, 0)
	require.NoError(t, err)
	require.True(t, ok)
	defer unlock()
	run := b.load(t, "entidad", entidades, 10)
	require.Equal(t, Failed, run.State)
	require.Equal(t, CodeBusy, run.ErrorCode)
	require.Contains(t, run.Error, "ya hay una carga en curso")
}

// A load started the moment the previous one reads as finished waits the
// instant that one needs to release the catalog, instead of failing busy.
func TestLoadWaitsForThePreviousLoadToRelease(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.loader.LockWait = time.Minute
	c := b.create(t, entidadCatalog, false)
	unlock, ok, err := lockCatalog(b.ctx, b.pool, c.ID, 0)
	require.NoError(t, err)
	require.True(t, ok)
	done := make(chan *Run, 1)
	go func() { done <- b.load(t, "entidad", entidades, 10) }()
	require.Eventually(t, func() bool {
		var waiting bool
		err := b.pool.QueryRow(b.ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted AND classid = $1::oid AND objid = $2::oid)`, lockKey, c.ID).Scan(&waiting)
		return err == nil && waiting
	}, 30*time.Second, 10*time.Millisecond, "the load never waited for the lock")
	unlock()
	run := <-done
	require.Equal(t, Succeeded, run.State, run.Error)
	require.Equal(t, "(01);(11);(14)", b.live(t, "cat_entidad", "id_entidad"))
}

func TestFirstLoadWithRepeatedKeySaysWhere(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	run := b.load(t, "entidad", "id_entidad,nombre\n01,Aguascalientes\n11,Guanajuato\n14,Jalisco\n11,Otra vez\n", 2)
	require.Equal(t, Rejected, run.State)
	require.Len(t, run.Report.Errors, 1)
	e := run.Report.Errors[0]
	require.Equal(t, ErrPrimaryKey, e.Type)
	require.EqualValues(t, 5, e.RowNumber)
	require.Equal(t, "fila 5, columna «id_entidad», valor «11»: la clave primaria se repite; ya aparece en la fila 3", e.Message)
	require.Equal(t, "", b.live(t, "cat_entidad", "id_entidad"))
}

func TestLoadRaggedRowsKeepTheirNumbers(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	text := "id_entidad,nombre\n01,Aguascalientes\n02,Baja California,sobra\n03\n04,Mal,Nombre\n1X,Fila cinco\n06,Sonora\n07,Chiapas,x\n"
	run := b.load(t, "entidad", text, 2)
	require.Equal(t, Rejected, run.State)
	require.EqualValues(t, 7, run.RowsRead)
	require.EqualValues(t, 5, run.RowsRejected)
	require.EqualValues(t, 5, run.Report.Stats.Errors)
	var got []string
	for _, e := range run.Report.Errors {
		got = append(got, fmt.Sprintf("%d %s", e.RowNumber, e.Type))
	}
	require.Equal(t, []string{"3 extra-cell", "4 missing-cell", "5 extra-cell", "6 constraint-error", "8 extra-cell"}, got)
	require.Equal(t, "", b.live(t, "cat_entidad", "id_entidad"))
}

func TestLoadWrongEncodingFails(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, entidadCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "entidad", entidades, 10).State)
	latin1 := "id_entidad,nombre\n01,Aguascalientes\n16,Michoac\xe1n\n"
	run := b.loadWith(t, "entidad", latin1, connectors.Options{Format: connectors.FormatCSV, Encoding: connectors.EncodingUTF8})
	require.Equal(t, Failed, run.State)
	require.Equal(t, CodeSource, run.ErrorCode)
	require.Contains(t, run.Error, "fila 3")
	require.Contains(t, run.Error, "UTF-8")
	require.Equal(t, "(01,Aguascalientes);(11,Guanajuato);(14,Jalisco)", b.live(t, "cat_entidad", "id_entidad, nombre"))

	// Declared, the same bytes load.
	ok := b.loadWith(t, "entidad", latin1, connectors.Options{Format: connectors.FormatCSV, Encoding: connectors.EncodingISO88591})
	require.Equal(t, Succeeded, ok.State, ok.Error)
	require.Equal(t, "(01,Aguascalientes);(16,Michoacán)", b.live(t, "cat_entidad", "id_entidad, nombre"))
}

// A definition may list the control columns (NOM-C07): on every path they
// stay the platform's, and a source that brings one is told so.
func TestControlColumnsStayThePlatforms(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	b.create(t, `{"name": "cat_entidad", "title": "Entidades federativas", "description": "Entidades federativas de México.",
 "schema": {"fields": [
   {"name": "id_entidad", "type": "string", "description": "Clave INEGI de la entidad.", "constraints": {"required": true, "maxLength": 2, "pattern": "[0-9]{2}"}},
   {"name": "nombre", "type": "string", "description": "Nombre oficial.", "constraints": {"required": true, "maxLength": 100}},
   {"name": "activo", "type": "boolean", "description": "Indica si el registro está vigente.", "constraints": {"required": true}}
 ], "primaryKey": "id_entidad"}}`, false)

	run := b.load(t, "entidad", "id_entidad,nombre,activo\n01,Aguascalientes,false\n11,Guanajuato,true\n", 10)
	require.Equal(t, Rejected, run.State, run.Error)
	require.Len(t, run.Report.Errors, 1)
	require.Equal(t, ErrExtraLbl, run.Report.Errors[0].Type)
	require.Contains(t, run.Report.Errors[0].Message, "la columna «activo» (posición 3) es una columna de control")
	require.Equal(t, "", b.live(t, "cat_entidad", "id_entidad"))

	run = b.load(t, "entidad", entidades, 10) // first load, straight into the live table
	require.Equal(t, Succeeded, run.State, run.Error)
	require.Equal(t, "(01);(11);(14)", b.live(t, "cat_entidad", "id_entidad"))

	run = b.load(t, "entidad", "id_entidad,nombre\n01,Aguascalientes\n11,Guanajuato de Allende\n", 10) // a re-load
	require.Equal(t, Succeeded, run.State, run.Error)
	require.Equal(t, `(01,Aguascalientes);(11,"Guanajuato de Allende")`, b.live(t, "cat_entidad", "id_entidad, nombre"))
}
