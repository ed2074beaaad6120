package introspect_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature/introspect"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// A catalog created from a clean definition (the platform adds the control
// columns, keys, patterns and comments) is a clean live table: the two
// sides of the nomenclature agree with the DDL between them.
func TestCreatedCatalogIsClean(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var dep, uid int64
	require.NoError(t, b.db.QueryRow(b.ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SFIA', 'Secretaría de Finanzas') RETURNING id`).Scan(&dep))
	require.NoError(t, b.db.QueryRow(b.ctx, `INSERT INTO meta.app_user (login, email, full_name, profile)
		VALUES ('super', 'super@example.mx', 'Super', $1) RETURNING id`, string(account.SuperAdmin)).Scan(&uid))
	actor := catalog.Actor{UserID: uid, Login: "super", Profile: account.SuperAdmin}
	store := catalog.NewStore(b.db, catalog.Nomenclature(b.rules))

	two := 2
	entidad := tableschema.Resource{Name: "cat_entidad", Title: "Entidades federativas",
		Description: "Entidades federativas de México según el Marco Geoestadístico del INEGI.",
		Schema: tableschema.Schema{Fields: []tableschema.Field{
			{Name: "id_entidad", Type: "string", Description: "Clave INEGI de la entidad.", Constraints: tableschema.Constraints{Required: true, MaxLength: &two, Pattern: "[0-9]{2}"}},
			{Name: "nombre", Type: "varchar(100)", Description: "Nombre oficial de la entidad."},
		}, PrimaryKey: tableschema.StringList{"id_entidad"}}}
	f, err := os.Open("../../../testdata/catalogs/cat_municipio.json")
	require.NoError(t, err)
	defer f.Close()
	municipio, err := tableschema.Parse(f)
	require.NoError(t, err)

	for _, def := range []tableschema.Resource{entidad, municipio} {
		require.Empty(t, b.rules.CheckResource(&def).Findings, def.Name)
		_, err := store.Create(b.ctx, actor, catalog.NewCatalog{Resource: def, DependenciaID: dep, Publish: true})
		require.NoError(t, err, def.Name)
		live, err := introspect.Read(b.ctx, b.db, "cat", def.Name)
		require.NoError(t, err)
		rep := b.rules.CheckTable(live)
		require.Equal(t, nomenclature.Report{Valid: true, Findings: []nomenclature.Finding{}}, rep, def.Name)
	}
}
