package pipeline

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

// digestState is a catalog's digest as stored.
type digestState struct {
	token   int64
	version *int
	rows    *int64
	stale   bool
	keys    []string // the entries' keys, in order
	others  int      // chunks under another token
}

func (b *loadBundle) digestOf(t *testing.T, c *catalog.Catalog) digestState {
	t.Helper()
	var d digestState
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT token, version, rows, stale FROM meta.catalog_digest WHERE catalog_id = $1`, c.ID).
		Scan(&d.token, &d.version, &d.rows, &d.stale))
	rows, err := b.pool.Query(b.ctx, `SELECT token, rows, entries FROM meta.catalog_digest_chunk WHERE catalog_id = $1 ORDER BY token, n`, c.ID)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var token int64
		var n int
		var entries []byte
		require.NoError(t, rows.Scan(&token, &n, &entries))
		if token != d.token {
			d.others++
			continue
		}
		for range n {
			l, w := binary.Uvarint(entries)
			d.keys = append(d.keys, string(entries[w:w+int(l)]))
			entries = entries[w+int(l)+8:]
		}
		require.Empty(t, entries, "a chunk holds exactly its rows")
	}
	require.NoError(t, rows.Err())
	return d
}

func keysUpTo(n int) []string {
	var keys []string
	for i := range n {
		keys = append(keys, fmt.Sprintf("%04d", i+1))
	}
	return keys
}

// TestDigestFollowsPublications: every publication stores the digest of
// what it published, in the source's order; a load with errors stores none
// and leaves the last one in place.
func TestDigestFollowsPublications(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	c := b.create(t, localidadCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "localidad", localidades(3000, nil), 256).State)
	first := b.digestOf(t, c)
	require.Equal(t, 1, *first.version)
	require.EqualValues(t, 3000, *first.rows)
	require.False(t, first.stale)
	require.Equal(t, keysUpTo(3000), first.keys)

	changed := localidades(3001, func(i int, r []string) bool {
		if i == 10 {
			r[1] = "Cambiada"
		}
		return i != 20
	})
	run := b.load(t, "localidad", changed, 256)
	require.Equal(t, Succeeded, run.State, run.Error)
	require.EqualValues(t, []int64{1, 1, 1}, []int64{run.RowsAdded, run.RowsChanged, run.RowsRemoved})
	second := b.digestOf(t, c)
	require.Equal(t, 2, *second.version)
	require.EqualValues(t, 3000, *second.rows)
	require.NotEqual(t, first.token, second.token)
	require.Zero(t, second.others, "the old digest's chunks are gone")
	want := append(keysUpTo(20), keysUpTo(3001)[21:]...)
	require.Equal(t, want, second.keys)

	bad := localidades(3001, func(i int, r []string) bool {
		if i == 5 {
			r[2] = "-4"
		}
		return true
	})
	require.Equal(t, Rejected, b.load(t, "localidad", bad, 256).State)
	after := b.digestOf(t, c)
	require.Equal(t, second.token, after.token, "a rejected load keeps the digest")
	require.Zero(t, after.others, "and leaves none of its own chunks")

	run = b.load(t, "localidad", changed, 256)
	require.Equal(t, "unchanged", run.ErrorCode)
	require.Equal(t, 2, *b.digestOf(t, c).version)
}

// TestDigestGoesStaleOnDirectWrites: a write to the live table that is not
// a publication (an entity's role writing its table, a DBA) marks the
// digest stale, and the next load compares with the live rows: it puts back
// what the source says. With a stale digest it would find nothing to do.
func TestDigestGoesStaleOnDirectWrites(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name                    string
		sql                     string
		added, changed, removed int64
		owner                   bool // needs more than the entity roles' rights
	}{
		{"update", `UPDATE cat.cat_localidad SET nombre = 'Otro' WHERE id_localidad = '0007'`, 0, 1, 0, false},
		{"insert", `INSERT INTO cat.cat_localidad (id_localidad, nombre) VALUES ('9999', 'Nueva')`, 0, 0, 1, false},
		{"delete", `DELETE FROM cat.cat_localidad WHERE id_localidad = '0007'`, 1, 0, 0, false},
		{"truncate", `TRUNCATE cat.cat_localidad`, 300, 0, 0, true},
		// As logical replication and pg_restore write: ordinary triggers
		// do not fire.
		{"replica", `SET LOCAL session_replication_role = replica;
			UPDATE cat.cat_localidad SET nombre = 'Otro' WHERE id_localidad = '0007'`, 0, 1, 0, true},
	}
	for _, tc := range cases {
		for _, asEntity := range []bool{false, true} {
			if asEntity && tc.owner {
				continue
			}
			t.Run(fmt.Sprintf("%s/entity=%v", tc.name, asEntity), func(t *testing.T) {
				t.Parallel()
				b := setupLoad(t)
				c := b.create(t, localidadCatalog, false)
				text := localidades(300, nil)
				require.Equal(t, Succeeded, b.load(t, "localidad", text, 64).State)
				want := b.live(t, "cat_localidad", "id_localidad, nombre, poblacion")
				require.False(t, b.digestOf(t, c).stale)

				require.NoError(t, pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
					if asEntity {
						role := pgtest.Role(t)
						q := pgdb.QuoteIdent(role)
						if _, err := tx.Exec(b.ctx, "CREATE ROLE "+q+"; GRANT USAGE ON SCHEMA cat TO "+q+
							"; GRANT SELECT, INSERT, UPDATE, DELETE ON cat.cat_localidad TO "+q+"; SET LOCAL ROLE "+q); err != nil {
							return err
						}
					}
					_, err := tx.Exec(b.ctx, tc.sql)
					return err
				}))
				require.True(t, b.digestOf(t, c).stale)

				run := b.load(t, "localidad", text, 64)
				require.Equal(t, Succeeded, run.State, run.Error)
				require.Equal(t, []int64{tc.added, tc.changed, tc.removed}, []int64{run.RowsAdded, run.RowsChanged, run.RowsRemoved})
				require.Equal(t, want, b.live(t, "cat_localidad", "id_localidad, nombre, poblacion"))
				d := b.digestOf(t, c)
				require.False(t, d.stale, "the load stored a new digest")
				require.Equal(t, 2, *d.version)
			})
		}
	}
}

// TestDigestNotStoredOverAnotherWrite: a publication stores its digest only
// when nobody but itself wrote the table since the load began.
func TestDigestNotStoredOverAnotherWrite(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	c := b.create(t, localidadCatalog, false)
	require.Equal(t, Succeeded, b.load(t, "localidad", localidades(30, nil), 64).State)
	c, err := b.store.ByClave(b.ctx, c.Clave)
	require.NoError(t, err)
	shape, err := digestShape(c.Resource)
	require.NoError(t, err)
	before := b.digestOf(t, c)

	store := func(t *testing.T, plan digestPlan, other, own string) bool {
		spill := newDigestSpill(b.ctx, b.pool, c.ID, newDigestKey())
		defer spill.close()
		spill.add([]byte("0001"), 1)
		if other != "" {
			_, err := b.pool.Exec(b.ctx, other)
			require.NoError(t, err)
		}
		var stored bool
		require.NoError(t, pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(b.ctx, own); err != nil {
				return err
			}
			var err error
			stored, err = spill.store(b.ctx, tx, plan, 2)
			return err
		}))
		return stored
	}
	plan, err := prepareDigest(b.ctx, b.pool, c, shape)
	require.NoError(t, err)
	require.Equal(t, before.token, plan.token, "a good digest is kept")
	require.False(t, store(t, plan, `UPDATE cat.cat_localidad SET nombre = 'x' WHERE id_localidad = '0002'`,
		`UPDATE cat.cat_localidad SET nombre = 'y' WHERE id_localidad = '0001'`))
	d := b.digestOf(t, c)
	require.True(t, d.stale)
	require.Equal(t, 1, *d.version)
	require.Zero(t, d.others, "the spill that was not stored took its chunks away")

	plan, err = prepareDigest(b.ctx, b.pool, c, shape)
	require.NoError(t, err)
	require.NotEqual(t, before.token, plan.token, "a stale digest is replaced by an empty one")
	require.True(t, store(t, plan, "", `UPDATE cat.cat_localidad SET nombre = 'y' WHERE id_localidad = '0001'`))
	d = b.digestOf(t, c)
	require.False(t, d.stale)
	require.Equal(t, []string{"0001"}, d.keys)
}

const municipioPruebaCatalog = `{"name": "cat_municipio_prueba", "title": "Municipios", "description": "Municipios de prueba.",
 "schema": {"fields": [
   {"name": "cve_ent", "type": "string", "description": "Entidad.", "constraints": {"required": true}},
   {"name": "nombre", "type": "string", "description": "Nombre."},
   {"name": "cve_mun", "type": "integer", "description": "Municipio.", "constraints": {"required": true}}
 ], "primaryKey": ["cve_mun", "cve_ent"]}}`

// TestDigestAcrossOrders: a composite key out of the columns' order, and
// sources whose rows come in another order than the published ones: each
// load compares with the digest the one before stored.
func TestDigestAcrossOrders(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	c := b.create(t, municipioPruebaCatalog, false)
	rows := func(reverse bool, edit func(ent string, mun int) string) string {
		out := "cve_ent,nombre,cve_mun\n"
		for i := range 200 {
			if reverse {
				i = 199 - i
			}
			ent, mun := fmt.Sprintf("%02d", 1+i%4), 1+i/4
			name := fmt.Sprintf("Municipio %d-%d", 1+i%4, mun)
			if edit != nil {
				name = edit(ent, mun)
			}
			if name != "" {
				out += fmt.Sprintf("%s,%s,%d\n", ent, name, mun)
			}
		}
		return out
	}
	first := rows(false, nil)
	require.Equal(t, Succeeded, b.load(t, c.Clave, first, 16).State)
	copies := 0
	d := b.digestOf(t, c)
	require.Len(t, d.keys, 200)
	require.Equal(t, "1\t01", d.keys[0], "the key in primaryKey's order, as COPY text")

	for _, step := range []struct {
		name                    string
		text                    string
		added, changed, removed int64
	}{
		{"same rows, reversed", rows(true, nil), 0, 0, 0},
		{"reversed, one changed, one left out", rows(true, func(ent string, mun int) string {
			switch {
			case ent == "03" && mun == 7:
				return "Cambiado"
			case ent == "02" && mun == 9:
				return ""
			}
			return fmt.Sprintf("Municipio %s-%d", ent[1:], mun)
		}), 0, 1, 1},
		{"back in the first order", first, 1, 1, 0},
		{"the same again", first, 0, 0, 0},
	} {
		copies++
		run := b.load(t, c.Clave, step.text, 16)
		require.Equal(t, Succeeded, run.State, step.name+": "+run.Error)
		require.Equal(t, []int64{step.added, step.changed, step.removed}, []int64{run.RowsAdded, run.RowsChanged, run.RowsRemoved}, step.name)
		require.Equal(t, b.live(t, "cat_municipio_prueba", "cve_ent, nombre, cve_mun"), reloadedAs(t, b, municipioPruebaCatalog, "cat_municipio_prueba", fmt.Sprintf("cat_municipio_copia_%d", copies), step.text), step.name)
		require.False(t, b.digestOf(t, c).stale, step.name)
	}
}

// reloadedAs is what a first load of text into a fresh copy of def, as
// table copyTable, shows.
func reloadedAs(t *testing.T, b *loadBundle, def, table, copyTable, text string) string {
	c := b.create(t, strings.ReplaceAll(def, `"name": "`+table+`"`, `"name": "`+copyTable+`"`), false)
	require.Equal(t, Succeeded, b.load(t, c.Clave, text, 100).State)
	return b.live(t, copyTable, "cve_ent, nombre, cve_mun")
}

// TestDigestDoesNotWaitForWriters: putting the trigger on a table waits for
// the transactions that write it; a load waits for that only a moment, then
// goes on without a digest, and the next one makes it.
func TestDigestDoesNotWaitForWriters(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	c := b.create(t, localidadCatalog, false)
	writer, err := b.pool.Begin(b.ctx)
	require.NoError(t, err)
	defer pgdb.Rollback(b.ctx, writer)
	_, err = writer.Exec(b.ctx, `LOCK TABLE cat.cat_localidad IN ROW EXCLUSIVE MODE`)
	require.NoError(t, err)

	text := localidades(40, nil)
	run := b.load(t, "localidad", text, 16)
	require.Equal(t, Succeeded, run.State, run.Error)
	var heads int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM meta.catalog_digest WHERE catalog_id = $1`, c.ID).Scan(&heads))
	require.Zero(t, heads, "no digest while the trigger could not be made")

	require.NoError(t, writer.Rollback(b.ctx))
	run = b.load(t, "localidad", text, 16)
	require.Equal(t, "unchanged", run.ErrorCode)
	d := b.digestOf(t, c)
	require.Equal(t, 1, *d.version)
	require.Len(t, d.keys, 40)
}

// TestDigestUnreadable: a digest that cannot be read is a cache that
// failed: the load reads the live rows and stores a good one.
func TestDigestUnreadable(t *testing.T) {
	t.Parallel()
	b := setupLoad(t)
	c := b.create(t, localidadCatalog, false)
	text := localidades(600, nil)
	require.Equal(t, Succeeded, b.load(t, "localidad", text, 64).State)
	_, err := b.pool.Exec(b.ctx, `UPDATE meta.catalog_digest_chunk SET entries = '\x05303030'::bytea WHERE catalog_id = $1`, c.ID)
	require.NoError(t, err)

	changed := localidades(600, func(i int, r []string) bool {
		if i == 3 {
			r[1] = "Cambiada"
		}
		return true
	})
	run := b.load(t, "localidad", changed, 64)
	require.Equal(t, Succeeded, run.State, run.Error)
	require.Equal(t, []int64{0, 1, 0}, []int64{run.RowsAdded, run.RowsChanged, run.RowsRemoved})
	d := b.digestOf(t, c)
	require.Equal(t, 2, *d.version)
	require.Len(t, d.keys, 600)
}
