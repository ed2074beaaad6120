package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

func municipioDef(table, title string) tableschema.Resource {
	return tableschema.Resource{
		Name: table, Title: title, Description: "Municipios del estado con su población.",
		Schema: tableschema.Schema{
			Fields: []tableschema.Field{
				{Name: "id_municipio", Type: "string", Description: "Clave INEGI del municipio.", Constraints: tableschema.Constraints{Required: true}},
				{Name: "nombre_municipio", Type: "string", Description: "Nombre oficial."},
				{Name: "poblacion", Type: "integer", Description: "Habitantes en 2020."},
				{Name: "fecha_corte", Type: "date", Description: "Fecha del dato."},
				{Name: "superficie", Type: "number", Description: "Kilómetros cuadrados."},
			},
			PrimaryKey: tableschema.StringList{"id_municipio"},
		},
	}
}

var municipioCols = []string{"id_municipio", "nombre_municipio", "poblacion", "fecha_corte", "superficie"}

// publishedCatalog registers a catalog (published or a draft) with rows as
// version 1 and, when v2 is not nil, v2 as version 2.
func (b *bundle) publishedCatalog(t *testing.T, def tableschema.Resource, dep int64, publish bool, kw []string, v1, v2 [][]any) *catalog.Catalog {
	t.Helper()
	ctx := context.Background()
	store := catalog.NewStore(b.pool, nil)
	c, err := store.Create(ctx, catalog.System(), catalog.NewCatalog{Resource: def, DependenciaID: dep, Publish: publish,
		Metadata: catalog.Metadata{Steward: "Coordinación de Datos Maestros", StewardEmail: "datos@guanajuato.gob.mx", Keywords: kw,
			License: "https://creativecommons.org/licenses/by/4.0/", Periodicity: "anual", UpdateMechanism: "carga de archivo"}})
	require.NoError(t, err)
	require.NoError(t, pgdb.WithTx(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"cat", c.Table}, municipioCols, pgx.CopyFromRows(v1)); err != nil {
			return err
		}
		_, err := catalog.PublishFirstLoad(ctx, tx, c, catalog.System(), nil)
		return err
	}))
	if v2 != nil {
		b.publishVersion(t, c, v2)
	}
	c, err = store.ByClave(ctx, c.Clave)
	require.NoError(t, err)
	return c
}

// publishVersion publishes rows as the next version of c, as a load does.
func (b *bundle) publishVersion(t *testing.T, c *catalog.Catalog, rows [][]any) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, pgdb.WithTx(ctx, b.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stg ON COMMIT DROP AS SELECT `+strings.Join(municipioCols, ", ")+` FROM cat.`+c.Table+` WITH NO DATA`); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stg"}, municipioCols, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		_, err := catalog.PublishStaged(ctx, tx, c, "stg", catalog.System(), nil)
		return err
	}))
}

func municipioRows(n int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		name := fmt.Sprintf("Municipio %d", i)
		if i == 2 {
			name = "Acámbaro"
		}
		rows[i] = []any{fmt.Sprintf("11%03d", i+1), name, int64(1000 + i), "2020-03-15", fmt.Sprintf("%d.25", 100+i)}
	}
	return rows
}

// apiSetup: a published catalog with two versions, a draft, and a token of
// a Consulta user (who may read drafts).
type apiBundle struct {
	*bundle
	pub, draft *catalog.Catalog
	token      string
}

func setupAPI(t *testing.T) *apiBundle {
	b := setup(t, Options{BaseURL: "https://datos.guanajuato.gob.mx"})
	dep := b.dependencia(t, "SFIA")
	v1 := municipioRows(250)
	v2 := municipioRows(251)
	v2[0][1] = "Abasolo"
	v2 = append(v2[:5], v2[6:]...)
	a := &apiBundle{bundle: b}
	a.pub = b.publishedCatalog(t, municipioDef("cat_municipio", "Municipios de Guanajuato"), *dep, true, []string{"geografía", "INEGI"}, v1, v2)
	a.draft = b.publishedCatalog(t, municipioDef("cat_municipio_borrador", "Borrador de municipios"), *dep, false, nil, v1[:3], nil)
	u := b.user(t, "consulta", account.Consulta, nil)
	_, secret, err := account.NewStore(b.pool).NewToken(context.Background(), u.ID, "pruebas", nil)
	require.NoError(t, err)
	a.token = secret
	return a
}

func (a *apiBundle) get(t *testing.T, path string, signedIn bool) (*http.Response, string) {
	t.Helper()
	if signedIn {
		return a.do(t, "GET", path, nil, "Authorization", "Bearer "+a.token)
	}
	return a.do(t, "GET", path, nil)
}

func TestCatalogReadAPI(t *testing.T) {
	t.Parallel()
	a := setupAPI(t)
	tests := []struct {
		name        string
		path        string
		signedIn    bool
		status      int
		contains    []string
		notContains []string
	}{
		{"anonymous list: published only", "/api/v1/catalogs", false, 200, []string{`"clave":"municipio"`, `"total":1`, `"rows":250`, `"current_version":2`}, []string{"borrador"}},
		{"signed-in list: drafts too", "/api/v1/catalogs", true, 200, []string{`"clave":"municipio"`, `"clave":"municipio-borrador"`, `"total":2`}, nil},
		{"list paged by clave", "/api/v1/catalogs?limit=1", true, 200, []string{`"next":"municipio"`}, []string{"municipio-borrador"}},
		{"list after", "/api/v1/catalogs?limit=1&after=municipio", true, 200, []string{`"clave":"municipio-borrador"`, `"total":2`}, []string{`"next"`}},
		{"search without accents", "/api/v1/catalogs?q=poblacion", false, 200, []string{`"clave":"municipio"`}, nil},
		{"search by column name", "/api/v1/catalogs?q=superficie", false, 200, []string{`"clave":"municipio"`}, nil},
		{"search misses", "/api/v1/catalogs?q=hospitales", false, 200, []string{`"items":[]`, `"total":0`}, nil},
		{"keyword filter", "/api/v1/catalogs?keyword=INEGI", false, 200, []string{`"clave":"municipio"`}, nil},
		{"state filter", "/api/v1/catalogs?state=borrador", true, 200, []string{`"clave":"municipio-borrador"`, `"total":1`}, nil},
		{"bad state", "/api/v1/catalogs?state=vigente", false, 400, []string{`"code":"parametro_invalido"`, "vigente"}, nil},
		{"bad limit", "/api/v1/catalogs?limit=diez", false, 400, []string{"«limit»", "diez"}, nil},
		{"one catalog", "/api/v1/catalogs/municipio", false, 200, []string{`"clave":"municipio"`, `"state":"publicado"`, `"current_version":2`}, nil},
		{"a draft is hidden from the public", "/api/v1/catalogs/municipio-borrador", false, 404, []string{"application/problem+json", "municipio-borrador"}, nil},
		{"a draft is seen signed in", "/api/v1/catalogs/municipio-borrador", true, 200, []string{`"state":"borrador"`}, nil},
		{"draft rows hidden", "/api/v1/catalogs/municipio-borrador/rows", false, 404, nil, nil},
		{"unknown catalog", "/api/v1/catalogs/no-existe", false, 404, []string{"no-existe"}, nil},
		{"rows first page", "/api/v1/catalogs/municipio/rows?limit=2", false, 200, []string{`"version":2`, `"fields":["id_municipio","nombre_municipio","poblacion","fecha_corte","superficie"]`,
			`{"id_municipio":"11001","nombre_municipio":"Abasolo","poblacion":1000,"fecha_corte":"2020-03-15","superficie":100.25}`, `"next_url":"https://datos.guanajuato.gob.mx/api/v1/catalogs/municipio/rows?after=`}, nil},
		{"rows filter by field", "/api/v1/catalogs/municipio/rows?poblacion=1002&fields=nombre_municipio", false, 200, []string{`"rows":[{"nombre_municipio":"Acámbaro"}]`}, []string{`"next"`}},
		{"rows filter prefix", "/api/v1/catalogs/municipio/rows?filter.id_municipio=11003&fields=id_municipio", false, 200, []string{`"rows":[{"id_municipio":"11003"}]`}, nil},
		{"rows text", "/api/v1/catalogs/municipio/rows?q=acambaro&fields=id_municipio", false, 200, []string{`"rows":[{"id_municipio":"11003"}]`}, nil},
		{"rows sorted descending", "/api/v1/catalogs/municipio/rows?sort=-poblacion&limit=1&fields=poblacion", false, 200, []string{`"rows":[{"poblacion":1250}]`}, nil},
		{"rows of version 1", "/api/v1/catalogs/municipio/rows?version=1&limit=1&fields=nombre_municipio", false, 200, []string{`"version":1`, `"rows":[{"nombre_municipio":"Municipio 0"}]`}, nil},
		{"rows unknown parameter", "/api/v1/catalogs/municipio/rows?colonia=centro", false, 400, []string{"«colonia»", "centro"}, nil},
		{"rows bad value", "/api/v1/catalogs/municipio/rows?poblacion=mucha", false, 422, []string{"«mucha»", "«poblacion»"}, nil},
		{"rows unknown field", "/api/v1/catalogs/municipio/rows?fields=colonia", false, 422, []string{"«colonia»", "id_municipio, nombre_municipio"}, nil},
		{"rows bad cursor", "/api/v1/catalogs/municipio/rows?after=xyz", false, 422, []string{"cursor"}, nil},
		{"rows too many", "/api/v1/catalogs/municipio/rows?limit=5000", false, 400, []string{"1000"}, nil},
		{"rows missing version", "/api/v1/catalogs/municipio/rows?version=9", false, 404, []string{"versión 9"}, nil},
		{"versions", "/api/v1/catalogs/municipio/versions", false, 200, []string{`"number":2`, `"number":1`}, nil},
		{"estado alias", "/api/v1/catalogs?estado=borrador", true, 200, []string{`"clave":"municipio-borrador"`, `"total":1`}, nil},
		{"diff", "/api/v1/catalogs/municipio/versions/2/diff", false, 200, []string{`"from":1`, `"to":2`,
			`{"kind":"changed","key":["11001"],"old":{`, `"nombre_municipio":"Municipio 0"`, `"nombre_municipio":"Abasolo"`,
			`{"kind":"removed","key":["11006"]`, `{"kind":"added","key":["11251"]`}, nil},
		{"diff bad order", "/api/v1/catalogs/municipio/versions/1/diff?from=2", false, 422, nil, nil},
		{"datapackage", "/api/v1/catalogs/municipio/datapackage.json", false, 200, []string{`"profile":"tabular-data-package"`, `"name":"municipio"`,
			`"path":"https://datos.guanajuato.gob.mx/api/v1/catalogs/municipio/download.csv?version=2"`, `"primaryKey":["id_municipio"]`, `"version":"2"`}, nil},
		{"data.json", "/data.json", false, 200, []string{`"conformsTo":"https://project-open-data.cio.gov/v1.1/schema"`, `"title":"Municipios de Guanajuato"`,
			`"hasEmail":"mailto:datos@guanajuato.gob.mx"`, `"accrualPeriodicity":"R/P1Y"`, `"downloadURL":"https://datos.guanajuato.gob.mx/api/v1/catalogs/municipio/download.parquet"`,
			`"publisher":{"@type":"org:Organization","name":"Dependencia SFIA"}`}, []string{"Borrador"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, body := a.get(t, tt.path, tt.signedIn)
			require.Equal(t, tt.status, res.StatusCode, body)
			if tt.status >= 400 {
				require.Contains(t, res.Header.Get("Content-Type"), "application/problem+json")
			}
			for _, s := range tt.contains {
				if s == "application/problem+json" {
					continue
				}
				require.Contains(t, body, s)
			}
			for _, s := range tt.notContains {
				require.NotContains(t, body, s)
			}
		})
	}
}

// Following next_url from the first page visits every row once, in order.
func TestRowsAPIPaging(t *testing.T) {
	t.Parallel()
	a := setupAPI(t)
	path := "/api/v1/catalogs/municipio/rows?limit=37&fields=id_municipio"
	var ids []string
	for range 20 {
		res, body := a.get(t, path, false)
		require.Equal(t, 200, res.StatusCode, body)
		var page struct {
			Rows []struct {
				ID string `json:"id_municipio"`
			} `json:"rows"`
			NextURL string `json:"next_url"`
		}
		require.NoError(t, json.Unmarshal([]byte(body), &page))
		for _, r := range page.Rows {
			ids = append(ids, r.ID)
		}
		if page.NextURL == "" {
			break
		}
		u, err := url.Parse(page.NextURL)
		require.NoError(t, err)
		path = u.RequestURI()
	}
	require.Len(t, ids, 250)
	require.IsIncreasing(t, ids)
}

func TestDownloads(t *testing.T) {
	t.Parallel()
	a := setupAPI(t)

	res, body := a.get(t, "/api/v1/catalogs/municipio/download.csv?bom=1", false)
	require.Equal(t, 200, res.StatusCode, body)
	require.Equal(t, `attachment; filename="municipio-v2.csv"; filename*=UTF-8''municipio-v2.csv`, res.Header.Get("Content-Disposition"))
	require.True(t, strings.HasPrefix(body, "\ufeffid_municipio,nombre_municipio,poblacion,fecha_corte,superficie\n11001,Abasolo,1000,2020-03-15,100.25\n"), body[:100])
	require.Equal(t, 251, strings.Count(body, "\n"))

	res, body = a.get(t, "/api/v1/catalogs/municipio/download.csv?version=1", false)
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Disposition"), "municipio-v1.csv")
	require.True(t, strings.HasPrefix(body, "id_municipio,"))
	require.Contains(t, body, "\n11001,Municipio 0,1000,2020-03-15,100.25\n")

	res, body = a.get(t, "/api/v1/catalogs/municipio/download.json?version=1", false)
	require.Equal(t, 200, res.StatusCode)
	var objs []map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &objs))
	require.Len(t, objs, 250)
	require.Equal(t, map[string]any{"id_municipio": "11003", "nombre_municipio": "Acámbaro", "poblacion": 1002.0, "fecha_corte": "2020-03-15", "superficie": 102.25}, objs[2])

	res, body = a.get(t, "/api/v1/catalogs/municipio/download.arrow", false)
	require.Equal(t, 200, res.StatusCode, body)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	fr, err := ipc.NewFileReader(bytes.NewReader([]byte(body)), ipc.WithAllocator(mem))
	require.NoError(t, err)
	require.Equal(t, "utf8", fr.Schema().Field(0).Type.String())
	require.Equal(t, "date32", fr.Schema().Field(3).Type.String())
	var n int64
	for i := 0; i < fr.NumRecords(); i++ {
		rec, err := fr.RecordBatchAt(i)
		require.NoError(t, err)
		if i == 0 {
			require.Equal(t, "Abasolo", rec.Column(1).(*array.String).Value(0))
			require.Equal(t, int32(1000), rec.Column(2).(*array.Int32).Value(0))
			require.Equal(t, "2020-03-15", rec.Column(3).(*array.Date32).Value(0).FormattedString())
			require.Equal(t, "100.25", rec.Column(4).(*array.String).Value(0))
		}
		n += rec.NumRows()
		rec.Release()
	}
	require.EqualValues(t, 250, n)
	require.NoError(t, fr.Close())

	res, body = a.get(t, "/api/v1/catalogs/municipio/download.parquet?version=1", false)
	require.Equal(t, 200, res.StatusCode, body)
	pf, err := file.NewParquetReader(bytes.NewReader([]byte(body)))
	require.NoError(t, err)
	require.EqualValues(t, 250, pf.NumRows())
	fr2, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, mem)
	require.NoError(t, err)
	tbl, err := fr2.ReadTable(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 250, tbl.NumRows())
	require.Equal(t, "nombre_municipio", tbl.Schema().Field(1).Name)
	tbl.Release()
	require.NoError(t, pf.Close())

	res, body = a.get(t, "/api/v1/catalogs/municipio/download.csv?version=7", false)
	require.Equal(t, 404, res.StatusCode)
	require.Contains(t, body, "versión 7")
	res, _ = a.get(t, "/api/v1/catalogs/municipio-borrador/download.csv", false)
	require.Equal(t, 404, res.StatusCode)
	res, body = a.get(t, "/api/v1/catalogs/municipio-borrador/download.csv", true)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, 4, strings.Count(body, "\n"))
}
