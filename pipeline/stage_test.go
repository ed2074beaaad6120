package pipeline

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

const municipioDef = `{"name": "cat_municipio", "schema": {
  "fields": [
    {"name": "id_municipio", "constraints": {"required": true, "pattern": "[0-9]{5}"}},
    {"name": "id_entidad", "constraints": {"required": true, "maxLength": 2}},
    {"name": "nombre", "constraints": {"required": true, "maxLength": 150}},
    {"name": "poblacion", "type": "integer", "constraints": {"minimum": 0}},
    {"name": "clave_corta", "constraints": {"unique": true}}
  ],
  "primaryKey": "id_municipio",
  "foreignKeys": [{"fields": "id_entidad", "reference": {"resource": "cat_entidad", "fields": "id_entidad"}}]
}}`

func resource(t testing.TB, js string) *tableschema.Resource {
	t.Helper()
	r, err := tableschema.Parse(strings.NewReader(js))
	require.NoError(t, err)
	return &r
}

// stageCSV runs the staging half of a load over text, in batches of chunk
// rows, and returns the collector and the staging table.
func stageCSV(t *testing.T, pool *pgxpool.Pool, res *tableschema.Resource, text string, chunk int) (*collector, *staging, *rowSource) {
	t.Helper()
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	cols, err := columnsOf(res, pgtype.NewMap())
	require.NoError(t, err)
	stream := newCSVStream(t, mem, text, chunk)
	defer stream.Close()
	errs := newCollector(100)
	src, labels := bindColumns(cols, stream.Schema())
	require.Empty(t, labels)
	v := &validator{cols: cols, src: src, missing: map[string]bool{"": true}, errs: errs, rowBase: 2}
	st := &staging{name: "run_test", cols: cols}
	require.NoError(t, st.create(ctx, pool))
	rs := newRowSource(ctx, stream, v, 0)
	n, err := st.copyFrom(ctx, pool, rs)
	require.NoError(t, err)
	require.Equal(t, rs.valid.Load(), n)
	return errs, st, rs
}

func setupEntidades(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `CREATE TABLE cat.cat_entidad (id_entidad varchar(2) PRIMARY KEY, nombre text);
		INSERT INTO cat.cat_entidad VALUES ('01', 'Aguascalientes'), ('11', 'Guanajuato')`)
	require.NoError(t, err)
}

func TestStageValidatesAcrossBatches(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	setupEntidades(t, pool)
	ctx := context.Background()
	res := resource(t, municipioDef)
	text := "id_municipio,id_entidad,nombre,poblacion,clave_corta\n" +
		"11001,11,Abasolo,90000,ABA\n" + // row 2
		"11002,11,Acámbaro,100000,ACA\n" + // row 3
		"11003,11,San Miguel de Allende,,SMA\n" + // row 4: empty optional
		"1100X,11,Apaseo,1,APA\n" + // row 5: pattern
		"11005,11,,2,APG\n" + // row 6: required
		"11006,11,Atarjea,-5,ATA\n" + // row 7: minimum
		"11001,11,Abasolo otra vez,3,AB2\n" + // row 8: duplicate key of row 2, next batch
		"11008,99,Inexistente,4,INX\n" + // row 9: foreign key
		"11009,11,Celaya,5,ACA\n" // row 10: unique clave_corta repeats row 3
	errs, st, rs := stageCSV(t, pool, res, text, 3)

	require.EqualValues(t, 9, rs.read.Load())
	require.EqualValues(t, 3, rs.rejected.Load())
	keys := keySets(res)
	require.Len(t, keys, 2)
	for _, k := range keys {
		n, err := st.checkKeys(ctx, pool, k, errs, 10)
		require.NoError(t, err)
		require.EqualValues(t, 1, n, k.typ)
	}
	n, err := st.checkForeignKey(ctx, pool, res.Schema.ForeignKeys[0], errs, 10)
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	var r Report
	errs.fill(&r)
	require.False(t, r.Valid)
	require.EqualValues(t, 6, r.Stats.Errors)
	got := map[int64]string{}
	for _, e := range r.Errors {
		got[e.RowNumber] = e.Type + " " + e.FieldName + " " + e.Message
	}
	require.Contains(t, got[5], "constraint-error id_municipio")
	require.Contains(t, got[5], "fila 5, columna «id_municipio», valor «1100X»: no cumple el patrón")
	require.Contains(t, got[6], "obligatorio")
	require.Contains(t, got[7], "menor que el mínimo 0")
	require.Contains(t, got[8], "primary-key id_municipio")
	require.Contains(t, got[8], "ya aparece en la fila 2")
	require.Contains(t, got[9], "foreign-key id_entidad")
	require.Contains(t, got[9], "«cat_entidad»")
	require.Contains(t, got[10], "unique-error clave_corta")

	// What stays staged is exactly the valid rows, converted.
	var count int64
	var pob *int64
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*), max(poblacion) FILTER (WHERE id_municipio = '11003') FROM `+st.qualified()).Scan(&count, &pob))
	require.EqualValues(t, 3, count)
	require.Nil(t, pob)
	require.NoError(t, st.drop(ctx, pool))
}

func TestStageLabelsMustMatch(t *testing.T) {
	t.Parallel()
	cols, err := columnsOf(resource(t, municipioDef), pgtype.NewMap())
	require.NoError(t, err)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s := newCSVStream(t, mem, "ID_MUNICIPIO,id_entidad,nombre,poblacion,sobra\n", 10)
	defer s.Close()
	_, errs := bindColumns(cols, s.Schema())
	b, _ := json.Marshal(errs)
	require.Len(t, errs, 2, string(b))
	require.Equal(t, ErrMissingLbl, errs[0].Type)
	require.Equal(t, "falta la columna «clave_corta» que la definición del catálogo exige (campo 5)", errs[0].Message)
	require.Equal(t, ErrExtraLbl, errs[1].Type)
	require.Contains(t, errs[1].Message, "«sobra» (posición 5)")
}

func TestForeignKeyToMissingCatalog(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	res := resource(t, municipioDef)
	errs, st, _ := stageCSV(t, pool, res, "id_municipio,id_entidad,nombre,poblacion,clave_corta\n11001,11,Abasolo,1,A\n", 10)
	_, err := st.checkForeignKey(context.Background(), pool, res.Schema.ForeignKeys[0], errs, 10)
	require.ErrorContains(t, err, "apunta al catálogo «cat_entidad», que no existe")
}
