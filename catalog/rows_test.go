package catalog_test

import (
	"bytes"
	"cmp"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

type jsonRow struct {
	ID     string  `json:"id_prueba"`
	Nombre *string `json:"nombre"`
	Valor  int32   `json:"valor"`
}

// publishState creates cat_prueba published with version 1 = first and,
// when second is not nil, version 2 = second.
func publishState(t *testing.T, b *bundle, first, second state) *catalog.Catalog {
	t.Helper()
	c, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: pruebaDef("cat_prueba"), DependenciaID: b.dep, Publish: true})
	require.NoError(t, err)
	require.NoError(t, pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(b.ctx, pgx.Identifier{"cat", "cat_prueba"}, []string{"id_prueba", "nombre", "valor"}, pgx.CopyFromRows(first.rows())); err != nil {
			return err
		}
		_, err := catalog.PublishFirstLoad(b.ctx, tx, c, b.super, nil)
		return err
	}))
	if second != nil {
		require.NoError(t, pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
			stage(t, b, tx, "stg", second)
			_, err := catalog.PublishStaged(b.ctx, tx, c, "stg", b.admin, nil)
			return err
		}))
	}
	c, err = b.store.ByClave(b.ctx, c.Clave)
	require.NoError(t, err)
	return c
}

func allPages(t *testing.T, b *bundle, c *catalog.Catalog, q catalog.RowsQuery) []jsonRow {
	t.Helper()
	var out []jsonRow
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000)
		p, err := b.store.Rows(b.ctx, c, q)
		require.NoError(t, err)
		for _, raw := range p.Rows {
			var r jsonRow
			require.NoError(t, json.Unmarshal(raw, &r))
			out = append(out, r)
		}
		if p.Next == "" {
			return out
		}
		require.Len(t, p.Rows, q.Limit, "only the last page is short")
		q.After = p.Next
	}
}

func (s state) sorted(less func(a, b jsonRow) int) []jsonRow {
	var out []jsonRow
	for _, k := range slices.Sorted(maps.Keys(s)) {
		out = append(out, jsonRow{ID: k, Nombre: s[k].nombre, Valor: s[k].valor})
	}
	slices.SortStableFunc(out, less)
	return out
}

func TestRowsKeysetPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	str := func(s string) *string { return &s }
	v1, v2 := state{}, state{}
	for i := range 257 {
		var nombre *string
		if i%7 != 0 {
			nombre = str(fmt.Sprintf("Nombre %d", i%23))
		}
		v1[fmt.Sprintf("k%04d", i)] = row{nombre: nombre, valor: int32(i)}
	}
	for k, r := range v1 {
		if r.valor%3 != 0 {
			r.valor += 1000
			v2[k] = r
		}
	}
	v2["k9999"] = row{nombre: str("Acámbaro"), valor: 1}
	c := publishState(t, b, v1, v2)
	require.Equal(t, 2, c.CurrentVersion)

	byKey := func(a, b jsonRow) int { return cmp.Compare(a.ID, b.ID) }
	// NULLs last ascending, first descending, as PostgreSQL orders them.
	byNombre := func(a, b jsonRow) int {
		switch {
		case a.Nombre == nil && b.Nombre == nil:
			return cmp.Compare(a.ID, b.ID)
		case a.Nombre == nil:
			return 1
		case b.Nombre == nil:
			return -1
		}
		return cmp.Or(cmp.Compare(*a.Nombre, *b.Nombre), cmp.Compare(a.ID, b.ID))
	}
	rev := func(f func(a, b jsonRow) int) func(a, b jsonRow) int {
		return func(a, b jsonRow) int { return f(b, a) }
	}
	tests := []struct {
		name string
		q    catalog.RowsQuery
		want []jsonRow
	}{
		{"current by key", catalog.RowsQuery{Limit: 50}, v2.sorted(byKey)},
		{"current by key, descending", catalog.RowsQuery{Limit: 33, Sort: "id_prueba", Desc: true}, v2.sorted(rev(byKey))},
		{"version 1 by key", catalog.RowsQuery{Version: 1, Limit: 40}, v1.sorted(byKey)},
		{"explicit current version", catalog.RowsQuery{Version: 2, Limit: 100}, v2.sorted(byKey)},
		{"by nullable column", catalog.RowsQuery{Limit: 7, Sort: "nombre"}, v2.sorted(byNombre)},
		{"by nullable column descending", catalog.RowsQuery{Limit: 9, Sort: "nombre", Desc: true}, v2.sorted(rev(byNombre))},
		{"version 1 by valor", catalog.RowsQuery{Version: 1, Limit: 64, Sort: "valor"}, v1.sorted(func(a, b jsonRow) int { return cmp.Compare(a.Valor, b.Valor) })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, allPages(t, b, c, tt.q))
		})
	}

	t.Run("filters, text and fields", func(t *testing.T) {
		p, err := b.store.Rows(b.ctx, c, catalog.RowsQuery{Filters: []catalog.RowFilter{{Field: "nombre", Value: "Nombre 5"}, {Field: "valor", Value: "1005"}}})
		require.NoError(t, err)
		require.Len(t, p.Rows, 1)
		require.JSONEq(t, `{"id_prueba":"k0005","nombre":"Nombre 5","valor":1005}`, string(p.Rows[0]))

		p, err = b.store.Rows(b.ctx, c, catalog.RowsQuery{Text: "acambaro", Fields: []string{"nombre", "id_prueba"}})
		require.NoError(t, err)
		require.Len(t, p.Rows, 1)
		require.Equal(t, `{"nombre":"Acámbaro","id_prueba":"k9999"}`, string(p.Rows[0]), "fields in the asked order")

		n, err := b.store.CountRows(b.ctx, c, catalog.RowsQuery{Version: 1, Filters: []catalog.RowFilter{{Field: "nombre", Value: "Nombre 5"}}})
		require.NoError(t, err)
		var want int64
		for _, r := range v1 {
			if r.nombre != nil && *r.nombre == "Nombre 5" {
				want++
			}
		}
		require.Equal(t, want, n)

		p, err = b.store.Rows(b.ctx, c, catalog.RowsQuery{Fields: []string{"id_prueba"}, Filters: []catalog.RowFilter{
			{Field: "id_prueba", Value: "k0001"}, {Field: "id_prueba", Value: "k0002"}, {Field: "valor", Value: "1001"}}})
		require.NoError(t, err)
		require.Len(t, p.Rows, 1, "OR within a field, AND across fields")
		require.Equal(t, `{"id_prueba":"k0001"}`, string(p.Rows[0]))

		p, err = b.store.Rows(b.ctx, c, catalog.RowsQuery{Offset: 150, Limit: 100})
		require.NoError(t, err)
		require.Len(t, p.Rows, len(v2)-150)
	})

	t.Run("bad input", func(t *testing.T) {
		for _, q := range []catalog.RowsQuery{
			{Fields: []string{"no_existe"}},
			{Filters: []catalog.RowFilter{{Field: "valor", Value: "diez"}}},
			{Sort: "nada"},
			{After: "%%%"},
			{After: "WyJ4IiwieSJd"}, // ["x","y"]: two values for a one-column key
			{Version: 3},
			{Limit: catalog.MaxPageRows + 1},
		} {
			_, err := b.store.Rows(b.ctx, c, q)
			require.Error(t, err, "%+v", q)
			var ce *catalog.Error
			require.ErrorAs(t, err, &ce, "%+v", q)
			require.Contains(t, []catalog.ErrorKind{catalog.KindInvalid, catalog.KindNotFound}, ce.Kind)
		}
		_, err := b.store.Rows(b.ctx, c, catalog.RowsQuery{Filters: []catalog.RowFilter{{Field: "valor", Value: "diez"}}})
		require.ErrorContains(t, err, "«diez»")
	})
}

func TestExports(t *testing.T) {
	t.Parallel()
	b := setup(t)
	str := func(s string) *string { return &s }
	v1 := state{"a": {nombre: str(`Dice "hola", adiós`), valor: 1}, "b": {valor: 2}}
	v2 := state{"a": {nombre: str("otro"), valor: 1}, "c": {valor: 3}}
	c := publishState(t, b, v1, v2)

	for _, tt := range []struct {
		n, version int
		csv        string
	}{
		{0, 2, "id_prueba,nombre,valor\na,otro,1\nc,,3\n"},
		{1, 1, "id_prueba,nombre,valor\na,\"Dice \"\"hola\"\", adiós\",1\nb,,2\n"},
	} {
		var buf bytes.Buffer
		got := -1
		n, err := b.store.CopyCSV(b.ctx, c, tt.n, func(v int) error { got = v; return nil }, &buf)
		require.NoError(t, err)
		require.Equal(t, tt.version, got)
		require.EqualValues(t, 2, n)
		require.Equal(t, tt.csv, buf.String())
	}
	var objs []string
	require.NoError(t, b.store.ScanJSON(b.ctx, c, 1, func(int) error { return nil }, func(obj []byte) error {
		objs = append(objs, string(obj))
		return nil
	}))
	require.Equal(t, `{"id_prueba":"a","nombre":"Dice \"hola\", adiós","valor":1}|{"id_prueba":"b","nombre":null,"valor":2}`, strings.Join(objs, "|"))
	_, err := b.store.CopyCSV(b.ctx, c, 7, func(int) error { return nil }, &bytes.Buffer{})
	require.True(t, catalog.IsKind(err, catalog.KindNotFound), "%v", err)
}

// The row id ("_id" for CKAN clients) is the same integer for a key in
// every version: the key itself when it is one integer column, otherwise
// 52 bits of the MD5 of the key's text.
func TestRowID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	one, two := "uno", "dos"
	c := publishState(t, b, state{"a": {&one, 1}, "b": {&two, 2}, "c": {nil, 3}}, state{"a": {&two, 10}, "c": {nil, 3}, "d": {&one, 4}})
	hashID := func(key string) int64 {
		sum := md5.Sum([]byte("(" + key + ")"))
		n, err := strconv.ParseInt(hex.EncodeToString(sum[:])[:13], 16, 64)
		require.NoError(t, err)
		return n
	}
	ids := func(c *catalog.Catalog, q catalog.RowsQuery) map[string]int64 {
		t.Helper()
		q.RowID = true
		p, err := b.store.Rows(b.ctx, c, q)
		require.NoError(t, err)
		out := map[string]int64{}
		for _, raw := range p.Rows {
			require.True(t, bytes.HasPrefix(raw, []byte(`{"_id":`)), "the id comes first: %s", raw)
			var r struct {
				ID  int64           `json:"_id"`
				Key json.RawMessage `json:"id_prueba"`
				Int *int64          `json:"valor"`
			}
			require.NoError(t, json.Unmarshal(raw, &r))
			k := strings.Trim(string(r.Key), `"`)
			if k == "" {
				k = strconv.FormatInt(*r.Int, 10)
			}
			out[k] = r.ID
		}
		return out
	}
	key, err := catalog.RowIDKey(c)
	require.NoError(t, err)
	require.Empty(t, key, "a text key: the ids are hashes")
	v1, v2 := ids(c, catalog.RowsQuery{Version: 1}), ids(c, catalog.RowsQuery{})
	require.Equal(t, map[string]int64{"a": hashID("a"), "b": hashID("b"), "c": hashID("c")}, v1)
	require.Equal(t, map[string]int64{"a": hashID("a"), "c": hashID("c"), "d": hashID("d")}, v2)
	for _, id := range v2 {
		require.Less(t, id, int64(1)<<53)
	}
	require.Equal(t, map[string]int64{"a": hashID("a")}, ids(c, catalog.RowsQuery{Fields: []string{"id_prueba"}, Filters: []catalog.RowFilter{{Field: "valor", Value: "10"}}, Limit: 1}),
		"with chosen fields and filters too")

	def := pruebaDef("cat_prueba_entero")
	def.Schema.PrimaryKey = []string{"valor"}
	ce, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: def, DependenciaID: b.dep, Publish: true})
	require.NoError(t, err)
	require.NoError(t, pgdb.WithTx(b.ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(b.ctx, pgx.Identifier{"cat", "cat_prueba_entero"}, []string{"id_prueba", "nombre", "valor"},
			pgx.CopyFromRows([][]any{{"x", nil, 7}, {"y", nil, 42}})); err != nil {
			return err
		}
		_, err := catalog.PublishFirstLoad(b.ctx, tx, ce, b.super, nil)
		return err
	}))
	ce, err = b.store.ByClave(b.ctx, ce.Clave)
	require.NoError(t, err)
	key, err = catalog.RowIDKey(ce)
	require.NoError(t, err)
	require.Equal(t, "valor", key)
	require.Equal(t, map[string]int64{"x": 7, "y": 42}, ids(ce, catalog.RowsQuery{}), "an integer key is the id")
}
