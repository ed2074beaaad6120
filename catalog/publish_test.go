package catalog_test

import (
	"fmt"
	"maps"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

func pruebaDef(name string) tableschema.Resource {
	ten := 10
	return tableschema.Resource{
		Name: name, Title: "Catálogo de prueba", Description: "Catálogo de prueba para versiones e historia.",
		Schema: tableschema.Schema{
			Fields: []tableschema.Field{
				{Name: "id_prueba", Type: "string", Description: "Clave del registro.", Constraints: tableschema.Constraints{Required: true, MaxLength: &ten}},
				{Name: "nombre", Type: "string", Description: "Nombre, puede faltar."},
				{Name: "valor", Type: "integer", Description: "Un valor entero.", Constraints: tableschema.Constraints{Required: true}},
			},
			PrimaryKey: tableschema.StringList{"id_prueba"},
		},
	}
}

// keySecond is def with its key moved after the first column, so that the
// key is not the leading column of the tables.
func keySecond(def tableschema.Resource) tableschema.Resource {
	f := def.Schema.Fields
	def.Schema.Fields = []tableschema.Field{f[1], f[0], f[2]}
	return def
}

// row is one record of the test catalog: nombre may be NULL.
type row struct {
	nombre *string
	valor  int32
}

type state map[string]row

func (s state) rows() [][]any {
	keys := slices.Sorted(maps.Keys(s))
	out := make([][]any, len(keys))
	for i, k := range keys {
		var nombre any
		if r := s[k]; r.nombre != nil {
			nombre = *r.nombre
		}
		out[i] = []any{k, nombre, s[k].valor}
	}
	return out
}

func stage(t *testing.T, b *bundle, tx pgx.Tx, name string, s state) {
	t.Helper()
	require.NoError(t, stageRows(b, tx, name, s))
}

// stageRows copies s into a new temporary table name.
func stageRows(b *bundle, tx pgx.Tx, name string, s state) error {
	if _, err := tx.Exec(b.ctx, `CREATE TEMP TABLE `+name+` (id_prueba text, nombre text, valor integer) ON COMMIT DROP`); err != nil {
		return err
	}
	_, err := tx.CopyFrom(b.ctx, pgx.Identifier{name}, []string{"id_prueba", "nombre", "valor"}, pgx.CopyFromRows(s.rows()))
	return err
}

// TestPublishVersions publishes random loads (changes, removals, additions,
// re-additions, NULLs, unchanged loads) and checks every version and every
// diff between two versions against a model kept in Go.
func TestPublishVersions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		publish publishFunc
	}{
		{"staged", publishAll},
		{"delta", publishDelta},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testPublishVersions(t, tc.publish)
		})
	}
}

// publishFunc publishes cur over prev, the published rows of version base.
type publishFunc func(t *testing.T, b *bundle, tx pgx.Tx, c *catalog.Catalog, prev, cur state, base int) (catalog.Version, error)

// publishAll stages every row of the load.
func publishAll(t *testing.T, b *bundle, tx pgx.Tx, c *catalog.Catalog, _, cur state, _ int) (catalog.Version, error) {
	stage(t, b, tx, "stg", cur)
	return catalog.PublishStaged(b.ctx, tx, c, "stg", b.admin, nil)
}

// publishDelta publishes what stageDelta stages.
func publishDelta(t *testing.T, b *bundle, tx pgx.Tx, c *catalog.Catalog, prev, cur state, base int) (catalog.Version, error) {
	require.NoError(t, stageDelta(b, tx, prev, cur))
	return catalog.PublishDelta(b.ctx, tx, c, "stg", "rem", base, b.admin, nil)
}

// stageDelta stages, in stg and rem, what a re-load stages: the new and
// changed rows (and, to show they are harmless, every sixteenth unchanged
// one), and as removed the keys of the published rows not found unchanged.
func stageDelta(b *bundle, tx pgx.Tx, prev, cur state) error {
	staged, removed := state{}, state{}
	for i, k := range slices.Sorted(maps.Keys(cur)) {
		p, ok := prev[k]
		if !ok || !equalRow(p, cur[k]) || i%16 == 0 {
			staged[k] = cur[k]
		}
		if ok && !equalRow(p, cur[k]) {
			removed[k] = p
		}
	}
	for k, p := range prev {
		if _, ok := cur[k]; !ok {
			removed[k] = p
		}
	}
	if err := stageRows(b, tx, "stg", staged); err != nil {
		return err
	}
	if _, err := tx.Exec(b.ctx, `CREATE TEMP TABLE rem ON COMMIT DROP AS SELECT id_prueba FROM stg WHERE false`); err != nil {
		return err
	}
	keys := slices.Sorted(maps.Keys(removed))
	_, err := tx.CopyFrom(b.ctx, pgx.Identifier{"rem"}, []string{"id_prueba"}, pgx.CopyFromSlice(len(keys), func(i int) ([]any, error) {
		return []any{keys[i]}, nil
	}))
	return err
}

func testPublishVersions(t *testing.T, publish publishFunc) {
	b := setup(t)
	c, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: pruebaDef("cat_prueba"), DependenciaID: b.dep, Publish: true})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	cur := firstState(60)
	versions := []state{nil} // versions[n] is version n
	// first load: copied straight into the live table
	v := firstLoad(t, b, c, cur)
	require.Equal(t, [3]int64{1, 60, 60}, [3]int64{int64(v.Number), v.Rows, v.Added})
	versions = append(versions, maps.Clone(cur))
	checksums := map[int]string{}
	loads := &loadMaker{rng: rng, next: 60, every: 10}
	for round := range 14 {
		prev := maps.Clone(cur)
		if round%5 != 3 { // every fifth load changes nothing
			loads.change(cur)
		}
		var v catalog.Version
		err := pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
			var err error
			v, err = publish(t, b, tx, c, prev, cur, len(versions)-1)
			return err
		})
		require.NoError(t, err, "round %d", round)
		var add, chg, rem int64
		for k, r := range cur {
			p, ok := prev[k]
			switch {
			case !ok:
				add++
			case !equalRow(p, r):
				chg++
			}
		}
		for k := range prev {
			if _, ok := cur[k]; !ok {
				rem++
			}
		}
		if add+chg+rem == 0 {
			require.True(t, v.Unchanged, "round %d", round)
			require.Equal(t, len(versions)-1, v.Number)
			continue
		}
		require.False(t, v.Unchanged)
		require.Equal(t, len(versions), v.Number, "round %d", round)
		require.Equal(t, [4]int64{int64(len(cur)), add, chg, rem}, [4]int64{v.Rows, v.Added, v.Changed, v.Removed}, "round %d", round)
		checksums[v.Number] = v.Checksum
		versions = append(versions, maps.Clone(cur))
	}
	last := len(versions) - 1
	require.Greater(t, last, 10)
	got, err := b.store.ByClave(b.ctx, c.Clave)
	require.NoError(t, err)
	require.Equal(t, last, got.CurrentVersion)
	vs, err := b.store.Versions(b.ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, vs, last)
	require.Equal(t, last, vs[0].Number)
	require.Equal(t, "admin", vs[0].By)

	for n := 1; n <= last; n++ {
		var rows [][]any
		require.NoError(t, b.store.ScanVersion(b.ctx, c, n, func(r []any) error { rows = append(rows, r); return nil }))
		require.Equal(t, versions[n].rows(), rows, "version %d", n)
	}
	for from := 0; from < last; from++ {
		for to := from + 1; to <= last; to++ {
			var want []string
			before := versions[from]
			for _, k := range slices.Sorted(maps.Keys(mergeKeys(before, versions[to]))) {
				a, inA := before[k]
				z, inB := versions[to][k]
				switch {
				case inA && inB && !equalRow(a, z):
					want = append(want, "changed "+k)
				case inB && !inA:
					want = append(want, "added "+k)
				case inA && !inB:
					want = append(want, "removed "+k)
				}
			}
			var diff []string
			require.NoError(t, b.store.Diff(b.ctx, c, from, to, func(d catalog.DiffRow) error {
				diff = append(diff, string(d.Kind)+" "+d.Key[0].(string))
				if d.Kind == catalog.Changed {
					require.NotEqual(t, d.Old, d.New)
				}
				return nil
			}))
			require.Equal(t, want, diff, "diff %d..%d", from, to)
		}
	}
	// a load equal to version 1 gives version 1's checksum
	err = pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		stage(t, b, tx, "stg", versions[1])
		v, err := catalog.PublishStaged(b.ctx, tx, c, "stg", b.admin, nil)
		require.NoError(t, err)
		vs, err := b.store.Versions(b.ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, vs[len(vs)-1].Checksum, v.Checksum)
		require.NotEqual(t, checksums[last], v.Checksum)
		return nil
	})
	require.NoError(t, err)

	err = b.store.ScanVersion(b.ctx, c, last+5, func([]any) error { return nil })
	require.True(t, catalog.IsKind(err, catalog.KindNotFound), err)
}

func TestPublishRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: pruebaDef("cat_prueba"), DependenciaID: b.dep, Publish: true})
	require.NoError(t, err)
	str := func(s string) *string { return &s }
	// duplicate keys in staging
	err = pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		stage(t, b, tx, "stg", state{"a": {str("x"), 1}})
		_, err := tx.Exec(b.ctx, `INSERT INTO stg VALUES ('a', 'y', 2)`)
		require.NoError(t, err)
		_, err = catalog.PublishStaged(b.ctx, tx, c, "stg", b.admin, nil)
		return err
	})
	require.True(t, catalog.IsKind(err, catalog.KindInvalid), err)
	// a NULL in a required column
	err = pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		stage(t, b, tx, "stg", state{"a": {str("x"), 1}})
		_, err := tx.Exec(b.ctx, `INSERT INTO stg VALUES ('b', 'y', NULL)`)
		require.NoError(t, err)
		_, err = catalog.PublishStaged(b.ctx, tx, c, "stg", b.admin, nil)
		return err
	})
	require.True(t, catalog.IsKind(err, catalog.KindInvalid), err)
	// hostile staging names never reach SQL
	err = pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		_, err := catalog.PublishStaged(b.ctx, tx, c, `stg"; DROP TABLE meta.catalog; --`, b.admin, nil)
		return err
	})
	require.Error(t, err)
	vs, err := b.store.Versions(b.ctx, c.ID)
	require.NoError(t, err)
	require.Empty(t, vs)
	// a first load only applies to a catalog without versions
	err = pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		stage(t, b, tx, "stg", state{"a": {str("x"), 1}})
		_, err := catalog.PublishStaged(b.ctx, tx, c, "stg", b.admin, nil)
		return err
	})
	require.NoError(t, err)
	err = pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		_, err := catalog.PublishFirstLoad(b.ctx, tx, c, b.admin, nil)
		return err
	})
	require.True(t, catalog.IsKind(err, catalog.KindConflict), err)
	// a delta compared with another version than the current one
	err = pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		stage(t, b, tx, "stg", state{"a": {str("z"), 2}})
		_, err := tx.Exec(b.ctx, `CREATE TEMP TABLE rem (id_prueba text) ON COMMIT DROP`)
		require.NoError(t, err)
		_, err = catalog.PublishDelta(b.ctx, tx, c, "stg", `rem"; DROP TABLE meta.catalog; --`, 1, b.admin, nil)
		require.Error(t, err)
		_, err = catalog.PublishDelta(b.ctx, tx, c, "stg", "rem", 0, b.admin, nil)
		return err
	})
	require.True(t, catalog.IsKind(err, catalog.KindConflict), err)
	require.Contains(t, err.Error(), "cambió durante la carga")
	vs, err = b.store.Versions(b.ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, vs, 1)
}

// firstLoad copies s straight into c's live table and publishes it as
// version 1.
func firstLoad(t *testing.T, b *bundle, c *catalog.Catalog, s state) catalog.Version {
	t.Helper()
	var v catalog.Version
	require.NoError(t, pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		_, err := tx.CopyFrom(b.ctx, pgx.Identifier{"cat", c.Table}, []string{"id_prueba", "nombre", "valor"}, pgx.CopyFromRows(s.rows()))
		if err != nil {
			return err
		}
		v, err = catalog.PublishFirstLoad(b.ctx, tx, c, b.super, nil)
		return err
	}))
	return v
}

// firstState is n rows, k000 …, with a name and a value.
func firstState(n int) state {
	s := state{}
	for i := range n {
		nombre := fmt.Sprintf("nombre %d", i)
		s[fmt.Sprintf("k%03d", i)] = row{nombre: &nombre, valor: int32(i)}
	}
	return s
}

// loadMaker makes random loads: about one row in every changes its value,
// one its name (to or from NULL), one goes away; three keys are new, and
// half the time a removed key comes back.
type loadMaker struct {
	rng     *rand.Rand
	every   int
	next    int
	removed []string
}

func (m *loadMaker) change(cur state) {
	str := func(s string) *string { return &s }
	for _, k := range slices.Sorted(maps.Keys(cur)) {
		switch m.rng.IntN(m.every) {
		case 0:
			r := cur[k]
			r.valor += 1000
			cur[k] = r
		case 1:
			r := cur[k]
			if r.nombre == nil {
				r.nombre = str("vuelve")
			} else {
				r.nombre = nil
			}
			cur[k] = r
		case 2:
			delete(cur, k)
			m.removed = append(m.removed, k)
		}
	}
	for range 3 {
		cur[fmt.Sprintf("k%03d", m.next)] = row{nombre: str("nuevo"), valor: int32(m.next)}
		m.next++
	}
	if len(m.removed) > 0 && m.rng.IntN(2) == 0 {
		k := m.removed[m.rng.IntN(len(m.removed))]
		cur[k] = row{nombre: str("readmitido"), valor: -1}
	}
}

func equalRow(a, b row) bool {
	if a.valor != b.valor || (a.nombre == nil) != (b.nombre == nil) {
		return false
	}
	return a.nombre == nil || *a.nombre == *b.nombre
}

func mergeKeys(a, b state) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// TestPublishDeltaSmallChange publishes one change, one removal and one
// addition over 200 rows: the small-change plan, whose settings end with
// the publication.
func TestPublishDeltaSmallChange(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: pruebaDef("cat_prueba"), DependenciaID: b.dep, Publish: true})
	require.NoError(t, err)
	str := func(s string) *string { return &s }
	prev := state{}
	for i := range 200 {
		prev[fmt.Sprintf("k%03d", i)] = row{nombre: str("n"), valor: int32(i)}
	}
	firstLoad(t, b, c, prev)
	cur := maps.Clone(prev)
	cur["k007"] = row{nombre: nil, valor: 7}
	delete(cur, "k100")
	cur["k900"] = row{nombre: str("nuevo"), valor: 900}
	settings := func(tx pgx.Tx) string {
		var s string
		require.NoError(t, tx.QueryRow(b.ctx, "SELECT current_setting('enable_seqscan') || current_setting('jit')").Scan(&s))
		return s
	}
	require.NoError(t, pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		before := settings(tx)
		v, err := publishDelta(t, b, tx, c, prev, cur, 1)
		require.NoError(t, err)
		require.Equal(t, [4]int64{2, 1, 1, 1}, [4]int64{int64(v.Number), v.Added, v.Changed, v.Removed})
		require.EqualValues(t, 200, v.Rows)
		require.Equal(t, before, settings(tx))
		return nil
	}))
	var rows [][]any
	require.NoError(t, b.store.ScanVersion(b.ctx, c, 2, func(r []any) error { rows = append(rows, r); return nil }))
	require.Equal(t, cur.rows(), rows)
	rows = nil
	require.NoError(t, b.store.ScanVersion(b.ctx, c, 1, func(r []any) error { rows = append(rows, r); return nil }))
	require.Equal(t, prev.rows(), rows)
}

// TestPublishDeltaMatchesStaged publishes the same random loads into two
// catalogs, one through PublishStaged and one through PublishDelta, and
// checks that every version, the live rows and the history are the same,
// and that each checksum is the sum over the live rows it describes. A
// small change (about one row in two hundred) takes the small-change plan;
// a key that is not the first column must not mix the columns up.
func TestPublishDeltaMatchesStaged(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		rows, every int
		def         func(string) tableschema.Resource
	}{
		{"large change", 60, 10, pruebaDef},
		{"small change", 2000, 200, pruebaDef},
		{"key second, large change", 60, 10, func(name string) tableschema.Resource { return keySecond(pruebaDef(name)) }},
		{"key second, small change", 2000, 200, func(name string) tableschema.Resource { return keySecond(pruebaDef(name)) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			create := func(table string) *catalog.Catalog {
				c, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: tc.def(table), DependenciaID: b.dep, Publish: true})
				require.NoError(t, err)
				return c
			}
			staged, delta := create("cat_prueba_staged"), create("cat_prueba_delta")
			cur := firstState(tc.rows)
			firstLoad(t, b, staged, cur)
			firstLoad(t, b, delta, cur)
			loads := &loadMaker{rng: rand.New(rand.NewPCG(3, 4)), next: tc.rows, every: tc.every}
			for round := range 12 {
				prev := maps.Clone(cur)
				if round%4 != 2 {
					loads.change(cur)
				}
				publish := func(c *catalog.Catalog, fn publishFunc) catalog.Version {
					c, err := b.store.ByClave(b.ctx, c.Clave)
					require.NoError(t, err)
					var v catalog.Version
					require.NoError(t, pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
						v, err = fn(t, b, tx, c, prev, cur, c.CurrentVersion)
						return err
					}), "round %d", round)
					v.At = time.Time{}
					return v
				}
				want, got := publish(staged, publishAll), publish(delta, publishDelta)
				require.Equal(t, want, got, "round %d", round)
				require.Equal(t, liveChecksum(t, b, staged), want.Checksum, "round %d", round)
				require.Equal(t, tableRows(t, b, "cat", staged), tableRows(t, b, "cat", delta), "round %d: live rows", round)
				require.Equal(t, tableRows(t, b, "hist", staged), tableRows(t, b, "hist", delta), "round %d: history", round)
			}
		})
	}
}

// tableRows is every row of the catalog's table in schema (cat or hist),
// without the dates of the control columns, in order.
func tableRows(t *testing.T, b *bundle, schema string, c *catalog.Catalog) [][]any {
	t.Helper()
	cols := "id_prueba, nombre, valor, activo"
	if schema == "hist" {
		cols = "id_prueba, nombre, valor, _v_desde, _v_hasta, _ausente"
	}
	rows, err := b.pool.Query(b.ctx, "SELECT "+cols+" FROM "+pgdb.QuoteQualified(schema, c.Table)+" ORDER BY "+cols)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
	require.NoError(t, err)
	return out
}

// liveChecksum is the checksum of the catalog's active rows (their columns
// in the definition's order), summed whole.
func liveChecksum(t *testing.T, b *bundle, c *catalog.Catalog) string {
	t.Helper()
	var cols []string
	for _, f := range c.Resource.Schema.Fields {
		cols = append(cols, pgdb.QuoteIdent(f.Name))
	}
	var sum string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT coalesce(sum(('x' || left(md5(ROW(`+strings.Join(cols, ", ")+`)::text), 16))::bit(64)::bigint::numeric), 0)::text
		FROM `+pgdb.QuoteQualified("cat", c.Table)+` WHERE activo`).Scan(&sum))
	n, ok := new(big.Int).SetString(sum, 10)
	require.True(t, ok, sum)
	return fmt.Sprintf("%016x", n.Mod(n, new(big.Int).Lsh(big.NewInt(1), 64)))
}

// TestPublishDeltaRefusals: a delta that repeats a key, published or new,
// is refused as invalid; one whose live row another transaction changes
// while it publishes is refused as a conflict. Nothing is published.
func TestPublishDeltaRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: pruebaDef("cat_prueba"), DependenciaID: b.dep, Publish: true})
	require.NoError(t, err)
	prev := firstState(200)
	firstLoad(t, b, c, prev)
	cur := maps.Clone(prev)
	cur["k007"] = row{valor: -7}
	for _, key := range []string{"k007", "k900"} {
		err := pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
			stage(t, b, tx, "stg", cur)
			_, err := tx.Exec(b.ctx, `INSERT INTO stg VALUES ($1, 'otra', 1), ($1, 'otra más', 2)`, key)
			require.NoError(t, err)
			_, err = tx.Exec(b.ctx, `CREATE TEMP TABLE rem ON COMMIT DROP AS SELECT 'k007'::text AS id_prueba`)
			require.NoError(t, err)
			_, err = catalog.PublishDelta(b.ctx, tx, c, "stg", "rem", 1, b.admin, nil)
			return err
		})
		require.True(t, catalog.IsKind(err, catalog.KindInvalid), "%s: %v", key, err)
	}

	// Another transaction changes k007 and holds it until the delta waits.
	other, err := b.pool.Begin(b.ctx)
	require.NoError(t, err)
	defer pgdb.Rollback(b.ctx, other)
	_, err = other.Exec(b.ctx, `UPDATE cat.cat_prueba SET valor = 70 WHERE id_prueba = 'k007'`)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		done <- pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
			if err := stageDelta(b, tx, prev, cur); err != nil {
				return err
			}
			_, err := catalog.PublishDelta(b.ctx, tx, c, "stg", "rem", 1, b.admin, nil)
			return err
		})
	}()
	require.Eventually(t, func() bool {
		var waiting bool
		require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT EXISTS (SELECT FROM pg_locks WHERE NOT granted AND locktype = 'transactionid')`).Scan(&waiting))
		return waiting
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, other.Commit(b.ctx))
	err = <-done
	require.True(t, catalog.IsKind(err, catalog.KindConflict), err)
	require.Contains(t, err.Error(), "cambió durante la publicación")

	vs, err := b.store.Versions(b.ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	var n int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM hist.cat_prueba`).Scan(&n))
	require.Zero(t, n)
}
