package catalog_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

type bundle struct {
	ctx   context.Context
	pool  *pgxpool.Pool
	store *catalog.Store
	dep   int64 // a dependencia
	other int64 // another one
	super catalog.Actor
	admin catalog.Actor
	pub   catalog.Actor // Publicador of dep
	query catalog.Actor // Consulta
}

func setup(t testing.TB) *bundle {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.New(t)
	b := &bundle{ctx: ctx, pool: pool, store: catalog.NewStore(pool, nil)}
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SFIA', 'Secretaría de Finanzas') RETURNING id`).Scan(&b.dep))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Educación') RETURNING id`).Scan(&b.other))
	user := func(login string, p account.Profile, dep *int64) catalog.Actor {
		var id int64
		require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.app_user (login, email, full_name, profile, dependencia_id)
			VALUES ($1, $1 || '@example.mx', $1, $2, $3) RETURNING id`, login, string(p), dep).Scan(&id))
		return catalog.Actor{UserID: id, Login: login, Profile: p, DependenciaID: dep}
	}
	b.super = user("super", account.SuperAdmin, nil)
	b.admin = user("admin", account.Admin, nil)
	b.pub = user("publica", account.Publicador, &b.dep)
	b.query = user("consulta", account.Consulta, nil)
	return b
}

func readDef(t testing.TB, path string) tableschema.Resource {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	res, err := tableschema.Parse(f)
	require.NoError(t, err)
	return res
}

func entidadDef() tableschema.Resource {
	two := 2
	return tableschema.Resource{
		Name: "cat_entidad", Title: "Entidades federativas",
		Description: "Entidades federativas de México según el Marco Geoestadístico del INEGI.",
		Schema: tableschema.Schema{
			Fields: []tableschema.Field{
				{Name: "id_entidad", Type: "string", Description: "Clave INEGI de la entidad.", Constraints: tableschema.Constraints{Required: true, MaxLength: &two, Pattern: "[0-9]{2}"}},
				{Name: "nombre", Type: "string", Description: "Nombre oficial de la entidad.", Constraints: tableschema.Constraints{Required: true}},
			},
			PrimaryKey: tableschema.StringList{"id_entidad"},
		},
	}
}

// TestCreateMunicipio: the municipalities catalog from its definition gives
// a table whose comments, keys and types match the definition.
func TestCreateMunicipio(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ent, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: entidadDef(), DependenciaID: b.dep, Publish: true})
	require.NoError(t, err)
	require.Equal(t, catalog.Publicado, ent.State)
	require.Equal(t, "entidad", ent.Clave)

	def := readDef(t, "../testdata/catalogs/cat_municipio.json")
	c, err := b.store.Create(b.ctx, b.pub, catalog.NewCatalog{Resource: def, DependenciaID: b.dep,
		Metadata: catalog.Metadata{Steward: "Coordinación de Datos Maestros", Keywords: []string{"municipios", "inegi"}}})
	require.NoError(t, err)
	require.Equal(t, "municipio", c.Clave)
	require.Equal(t, "cat_municipio", c.Table)
	require.Equal(t, catalog.Borrador, c.State)
	require.Equal(t, 0, c.CurrentVersion)
	require.Equal(t, []string{"municipios", "inegi"}, c.Keywords)
	require.Equal(t, def.Title, c.Title)

	var tableComment string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT obj_description('cat.cat_municipio'::regclass, 'pg_class')`).Scan(&tableComment))
	require.Equal(t, def.Description, tableComment)

	type col struct {
		typ, comment string
		notNull      bool
	}
	rows, err := b.pool.Query(b.ctx, `
		SELECT a.attname, format_type(a.atttypid, a.atttypmod), coalesce(col_description(a.attrelid, a.attnum), ''), a.attnotnull
		FROM pg_attribute a WHERE a.attrelid = 'cat.cat_municipio'::regclass AND a.attnum > 0 AND NOT a.attisdropped`)
	require.NoError(t, err)
	cols := map[string]col{}
	for rows.Next() {
		var name string
		var c col
		require.NoError(t, rows.Scan(&name, &c.typ, &c.comment, &c.notNull))
		cols[name] = c
	}
	require.NoError(t, rows.Err())
	require.Len(t, cols, len(def.Schema.Fields)+3)
	for _, f := range def.Schema.Fields {
		want, err := f.SQLType()
		require.NoError(t, err)
		got, ok := cols[f.Name]
		require.True(t, ok, f.Name)
		typ, err := tableschema.ParseSQLType(got.typ)
		require.NoError(t, err)
		require.Equal(t, want.String(), typ.String(), f.Name)
		require.Equal(t, f.Description, got.comment, f.Name)
		require.Equal(t, f.Constraints.Required, got.notNull, f.Name)
	}
	for _, cc := range []string{"activo", "fecha_alta", "fecha_modificacion"} {
		require.NotEmpty(t, cols[cc].comment, cc)
	}
	require.Equal(t, "boolean", cols["activo"].typ)
	require.True(t, cols["activo"].notNull)
	require.Equal(t, "timestamp with time zone", cols["fecha_alta"].typ)

	var pk, fk string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'cat.cat_municipio'::regclass AND contype = 'p'`).Scan(&pk))
	require.Equal(t, "PRIMARY KEY (id_municipio)", pk)
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'cat.cat_municipio'::regclass AND contype = 'f'`).Scan(&fk))
	require.Equal(t, "FOREIGN KEY (id_entidad) REFERENCES cat.cat_entidad(id_entidad)", fk)

	// the constraints are enforced by PostgreSQL
	_, err = b.pool.Exec(b.ctx, `INSERT INTO cat.cat_entidad (id_entidad, nombre) VALUES ('11', 'Guanajuato')`)
	require.NoError(t, err)
	for _, bad := range []string{
		`('1101', '11', '001', 'X', 1)`,   // pattern of id_municipio
		`('11001', '11', '1', 'X', 1)`,    // pattern of clave_municipio
		`('11001', '11', '001', 'X', -1)`, // minimum
		`('11001', '99', '001', 'X', 1)`,  // foreign key
		`('11001', '11', '001', NULL, 1)`, // required
	} {
		_, err = b.pool.Exec(b.ctx, `INSERT INTO cat.cat_municipio (id_municipio, id_entidad, clave_municipio, nombre, poblacion_total) VALUES `+bad)
		require.Error(t, err, bad)
	}
	_, err = b.pool.Exec(b.ctx, `INSERT INTO cat.cat_municipio (id_municipio, id_entidad, clave_municipio, nombre, poblacion_total) VALUES ('11001', '11', '001', 'Abasolo', 90000)`)
	require.NoError(t, err)

	got, err := b.store.ByClave(b.ctx, "municipio")
	require.NoError(t, err)
	require.Equal(t, c.ID, got.ID)
	require.Len(t, got.Resource.Schema.Fields, 5)
	list, err := b.store.List(b.ctx, catalog.ListFilter{PublicOnly: true})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "entidad", list[0].Clave)
	list, err = b.store.List(b.ctx, catalog.ListFilter{Search: "Municipios"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "municipio", list[0].Clave)

	_, err = b.store.ByClave(b.ctx, "no-existe")
	require.True(t, catalog.IsKind(err, catalog.KindNotFound), err)
	_, err = b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: def, DependenciaID: b.dep})
	require.True(t, catalog.IsKind(err, catalog.KindConflict), err)
}

func TestCreateRefusesForeignKeyToUnpublished(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.store.Create(b.ctx, b.admin, catalog.NewCatalog{Resource: entidadDef(), DependenciaID: b.dep})
	require.NoError(t, err)
	_, err = b.store.Create(b.ctx, b.admin, catalog.NewCatalog{Resource: readDef(t, "../testdata/catalogs/cat_municipio.json"), DependenciaID: b.dep})
	require.True(t, catalog.IsKind(err, catalog.KindInvalid), err)
	require.ErrorContains(t, err, "no está publicado")
	assertNoTable(t, b, "cat_municipio")
}

func TestCreatePermissions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name    string
		actor   catalog.Actor
		dep     int64
		publish bool
		ok      bool
	}{
		{"consulta", b.query, b.dep, false, false},
		{"publicador de otra dependencia", b.pub, b.other, false, false},
		{"publicador con --publish", b.pub, b.dep, true, false},
		{"administrador con --publish", b.admin, b.dep, true, false},
		{"publicador de su dependencia", b.pub, b.dep, false, true},
	}
	for i, tc := range tests {
		def := entidadDef()
		def.Name = fmt.Sprintf("cat_prueba%d", i)
		def.Schema.Fields[0].Name = "id_prueba" + fmt.Sprint(i)
		def.Schema.PrimaryKey = tableschema.StringList{def.Schema.Fields[0].Name}
		_, err := b.store.Create(b.ctx, tc.actor, catalog.NewCatalog{Resource: def, DependenciaID: tc.dep, Publish: tc.publish})
		if tc.ok {
			require.NoError(t, err, tc.name)
			continue
		}
		require.True(t, catalog.IsKind(err, catalog.KindForbidden), "%s: %v", tc.name, err)
		assertNoTable(t, b, def.Name)
	}
}

// TestHostileNames: names that try to break out of an identifier never
// reach SQL; nothing is created.
func TestHostileNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hostile := []string{
		`cat_x"; DROP TABLE meta.catalog; --`,
		`cat_x'; DROP TABLE meta.catalog; --`,
		`cat_x/*comment*/`,
		"cat_municipi\u043e", // Cyrillic o
		"cat_a\u00f1o",
		"cat_x\x00y",
		"CAT_X",
		"cat x",
		"x_sin_prefijo",
		"cat_" + string(make([]byte, 70)),
	}
	for _, name := range hostile {
		def := entidadDef()
		def.Name = name
		_, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: def, DependenciaID: b.dep})
		require.True(t, catalog.IsKind(err, catalog.KindInvalid), "%q: %v", name, err)
	}
	for _, name := range hostile {
		if name == "x_sin_prefijo" {
			continue // a fine column name
		}
		def := entidadDef()
		def.Name = "cat_columnas"
		def.Schema.Fields[1].Name = name
		_, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: def, DependenciaID: b.dep})
		require.True(t, catalog.IsKind(err, catalog.KindInvalid), "%q: %v", name, err)
	}
	// hostile values are literals, not SQL
	def := entidadDef()
	def.Name = "cat_valores"
	def.Description = `Descripción con 'comillas'; DROP TABLE meta.catalog; -- y más texto`
	def.Schema.Fields[1].Constraints.Enum = []any{"a'); DROP TABLE meta.catalog; --", "b"}
	def.Schema.Fields[1].Constraints.Pattern = ""
	_, err := b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: def, DependenciaID: b.dep})
	require.NoError(t, err)
	var comment string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT obj_description('cat.cat_valores'::regclass, 'pg_class')`).Scan(&comment))
	require.Equal(t, def.Description, comment)
	_, err = b.pool.Exec(b.ctx, `INSERT INTO cat.cat_valores (id_entidad, nombre) VALUES ('01', 'c')`)
	require.Error(t, err) // the enum check holds
	_, err = b.pool.Exec(b.ctx, `INSERT INTO cat.cat_valores (id_entidad, nombre) VALUES ('01', $1)`, "a'); DROP TABLE meta.catalog; --")
	require.NoError(t, err)

	var n int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM meta.catalog`).Scan(&n))
	require.Equal(t, 1, n)
	// a bad pattern is refused before anything is created
	def = entidadDef()
	def.Name = "cat_patron"
	def.Schema.Fields[0].Constraints.Pattern = "[0-9"
	_, err = b.store.Create(b.ctx, b.super, catalog.NewCatalog{Resource: def, DependenciaID: b.dep})
	require.True(t, catalog.IsKind(err, catalog.KindInvalid), err)
	assertNoTable(t, b, "cat_patron")
}

func assertNoTable(t *testing.T, b *bundle, name string) {
	t.Helper()
	var exists bool
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT to_regclass($1) IS NOT NULL`, "cat."+pgx.Identifier{name}.Sanitize()).Scan(&exists))
	require.False(t, exists, name)
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT EXISTS (SELECT 1 FROM meta.catalog WHERE table_name = $1)`, name).Scan(&exists))
	require.False(t, exists, name)
}
