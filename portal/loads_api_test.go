package portal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

func upload(t *testing.T, name, text string, fields map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	f, err := w.CreateFormFile("file", name)
	require.NoError(t, err)
	_, err = f.Write([]byte(text))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return &body, w.FormDataContentType()
}

// waitRun polls the run until it ends, as the portal's page does.
func waitRun(t *testing.T, b *bundle, token string, id int64) pipeline.Run {
	t.Helper()
	var run pipeline.Run
	require.Eventually(t, func() bool {
		res, body := b.do(t, "GET", fmt.Sprintf("/api/v1/runs/%d", id), nil, "Authorization", token)
		require.Equal(t, http.StatusOK, res.StatusCode, body)
		require.NoError(t, json.Unmarshal([]byte(body), &run))
		return run.State.Finished()
	}, time.Minute, 50*time.Millisecond)
	return run
}

func TestLoadsAPI(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	dep := b.dependencia(t, "SFIA")
	other := b.dependencia(t, "SEG")
	cat := b.publishedCatalog(t, municipioDef("cat_municipio", "Municipios de Guanajuato"), *dep, true, nil, municipioRows(3), nil)
	pub := b.token(t, b.user(t, "publica", account.Publicador, dep))
	outsider := b.token(t, b.user(t, "ajeno", account.Publicador, other))
	reader := b.token(t, b.user(t, "lector", account.Consulta, nil))
	path := "/api/v1/catalogs/" + cat.Clave + "/loads"

	csv := "id_municipio,nombre_municipio,poblacion,fecha_corte,superficie\n" +
		"11001,Abasolo,90000,2020-03-15,100.25\n11002,Acámbaro,100000,2020-03-15,101.25\n"
	body, ct := upload(t, "municipios.csv", csv, nil)
	res, out := b.do(t, "POST", path, body, "Authorization", pub, "Content-Type", ct)
	require.Equal(t, http.StatusAccepted, res.StatusCode, out)
	var queued pipeline.Run
	require.NoError(t, json.Unmarshal([]byte(out), &queued))
	require.Equal(t, pipeline.Upload, queued.Trigger)
	require.Equal(t, "municipios.csv", queued.Source)
	require.Equal(t, fmt.Sprintf("/api/v1/runs/%d", queued.ID), res.Header.Get("Location"))
	run := waitRun(t, b, pub, queued.ID)
	require.Equal(t, pipeline.Succeeded, run.State, run.Error)
	require.Equal(t, 2, *run.Version)
	require.EqualValues(t, 2, run.RowsRead)
	require.EqualValues(t, 1, run.RowsRemoved)
	require.True(t, run.Report.Valid)

	// A bad upload is rejected with its report; the catalog stays at 2.
	body, ct = upload(t, "malo.csv", "id_municipio,nombre_municipio,poblacion,fecha_corte,superficie\n11001,Abasolo,muchos,2020-03-15,1\n", map[string]string{"dryRun": "false"})
	res, out = b.do(t, "POST", path, body, "Authorization", pub, "Content-Type", ct)
	require.Equal(t, http.StatusAccepted, res.StatusCode, out)
	require.NoError(t, json.Unmarshal([]byte(out), &queued))
	run = waitRun(t, b, pub, queued.ID)
	require.Equal(t, pipeline.Rejected, run.State, run.Error)
	require.Equal(t, "fila 2, columna «poblacion», valor «muchos»: se esperaba un número entero", run.Report.Errors[0].Message)

	// From a URL.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprint(w, csv+"11003,Apaseo el Alto,60000,2020-03-15,102.25\n")
	}))
	defer srv.Close()
	res, out = b.do(t, "POST", path, strings.NewReader(`{"source": "`+srv.URL+`/municipios.csv"}`), "Authorization", pub, "Content-Type", "application/json")
	require.Equal(t, http.StatusAccepted, res.StatusCode, out)
	require.NoError(t, json.Unmarshal([]byte(out), &queued))
	run = waitRun(t, b, pub, queued.ID)
	require.Equal(t, pipeline.Succeeded, run.State, run.Error)
	require.Equal(t, 3, *run.Version)

	res, out = b.do(t, "GET", "/api/v1/catalogs/"+cat.Clave+"/runs?limit=2", nil, "Authorization", reader)
	require.Equal(t, http.StatusOK, res.StatusCode, out)
	var list runList
	require.NoError(t, json.Unmarshal([]byte(out), &list))
	require.Len(t, list.Items, 2)
	require.Equal(t, queued.ID, list.Items[0].ID)
	require.NotEmpty(t, list.Next)

	for _, tc := range []struct {
		name, token, ctype, body string
		status                   int
	}{
		{"anonymous", "", "application/json", `{"source": "http://x/y.csv"}`, http.StatusUnauthorized},
		{"reader cannot load", reader, "application/json", `{"source": "http://x/y.csv"}`, http.StatusForbidden},
		{"other dependencia", outsider, "application/json", `{"source": "http://x/y.csv"}`, http.StatusForbidden},
		{"not a URL", pub, "application/json", `{"source": "/etc/passwd"}`, http.StatusBadRequest},
		{"bad JSON", pub, "application/json", `{"source":`, http.StatusBadRequest},
	} {
		h := []string{"Content-Type", tc.ctype}
		if tc.token != "" {
			h = append(h, "Authorization", tc.token)
		}
		res, out := b.do(t, "POST", path, strings.NewReader(tc.body), h...)
		require.Equal(t, tc.status, res.StatusCode, tc.name+": "+out)
		require.Contains(t, res.Header.Get("Content-Type"), "application/problem+json", tc.name)
	}
	res, _ = b.do(t, "GET", fmt.Sprintf("/api/v1/runs/%d", queued.ID), nil)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "runs are internal")
	res, _ = b.do(t, "GET", "/api/v1/runs/999999", nil, "Authorization", pub)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}
