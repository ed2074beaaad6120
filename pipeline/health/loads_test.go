package health_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
)

const entidadCatalog = `{"name": "cat_entidad", "title": "Entidades federativas", "description": "Entidades federativas de México.",
 "schema": {"fields": [
   {"name": "id_entidad", "type": "string", "description": "Clave INEGI de la entidad.", "constraints": {"required": true, "maxLength": 2, "pattern": "[0-9]{2}"}},
   {"name": "nombre", "type": "string", "description": "Nombre oficial.", "constraints": {"required": true, "maxLength": 100}}
 ], "primaryKey": "id_entidad"}}`

// A scheduled load publishes; a rejected one, and one stopped at its
// timeout, are reported to the stewards once each and change nothing.
func TestScheduledLoads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		switch r.URL.Path {
		case "/ok.csv":
			fmt.Fprint(w, "id_entidad,nombre\n01,Aguascalientes\n11,Guanajuato\n")
		case "/mal.csv":
			fmt.Fprint(w, "id_entidad,nombre\n1x,Aguascalientes\n")
		case "/lento.csv":
			fmt.Fprint(w, "id_entidad,nombre\n01,Aguascalientes\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	b := setup(t, nil)
	res, err := tableschema.Parse(strings.NewReader(entidadCatalog))
	require.NoError(t, err)
	var seg int64
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT id FROM meta.dependencia WHERE clave = 'SEG'`).Scan(&seg))
	cats := catalog.NewStore(b.pool, nil)
	_, err = cats.Create(ctx, catalog.System(), catalog.NewCatalog{Resource: res, DependenciaID: seg, Publish: true})
	require.NoError(t, err)
	loads := &health.Loads{Loader: &pipeline.Loader{Pool: b.pool}, Catalogs: cats, Connectors: b.reg,
		Alerts: health.Alerts{Webhooks: []string{"https://hooks.seg.gob.mx/gobdatos"}}}

	connector := func(path string) registry.Connector {
		c, err := b.reg.Create(ctx, registry.Input{Dependencia: "SEG", Name: "Entidades " + path, Kind: "http",
			Address: srv.URL + path, Options: json.RawMessage(`{"format": "csv"}`), TargetCatalog: "entidad", LoadCron: "0 3 * * *"}, who)
		require.NoError(t, err)
		return c
	}
	outbox := func() int {
		var n int
		require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM meta.outbox`).Scan(&n))
		return n
	}

	run, err := loads.Run(ctx, connector("/ok.csv").ID)
	require.NoError(t, err)
	require.Equal(t, pipeline.Succeeded, run.State, run.Error)
	require.Equal(t, pipeline.Schedule, run.Trigger)
	require.EqualValues(t, 2, run.RowsAdded)
	require.Zero(t, outbox(), "a successful load tells nobody")

	run, err = loads.Run(ctx, connector("/mal.csv").ID)
	require.NoError(t, err)
	require.Equal(t, pipeline.Rejected, run.State)
	require.Equal(t, 3, outbox(), "two stewards and one webhook")
	var subject, body string
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT subject, body FROM meta.outbox WHERE kind = 'email' ORDER BY id LIMIT 1`).Scan(&subject, &body))
	require.Contains(t, subject, "Carga programada sin éxito: entidad (SEG)")
	require.Contains(t, body, "no pasaron la validación")

	slow := connector("/lento.csv")
	_, err = b.pool.Exec(ctx, `UPDATE meta.connector SET load_timeout = interval '1 second' WHERE id = $1`, slow.ID)
	require.NoError(t, err)
	run, err = loads.Run(ctx, slow.ID)
	require.NoError(t, err)
	require.Equal(t, pipeline.Failed, run.State, "a run stuck past its timeout is failed")
	require.Equal(t, 6, outbox())
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT body FROM meta.outbox WHERE kind = 'email' ORDER BY id DESC LIMIT 1`).Scan(&body))
	require.Contains(t, body, "excedió su tiempo límite")

	var live int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM cat.cat_entidad`).Scan(&live))
	require.Equal(t, 2, live, "only the good load published")

	off := registry.Input{Name: "Sin catálogo", Kind: "http", Address: srv.URL + "/ok.csv", TargetCatalog: "no_existe", LoadCron: "0 3 * * *"}
	c, err := b.reg.Create(ctx, registry.Input{Dependencia: "SEG", Name: off.Name, Kind: off.Kind, Address: off.Address,
		TargetCatalog: off.TargetCatalog, LoadCron: off.LoadCron}, who)
	require.NoError(t, err)
	_, err = loads.Run(ctx, c.ID)
	require.ErrorContains(t, err, "el catálogo destino «no_existe» no existe")
	require.Equal(t, 9, outbox(), "reported too")
}
