package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/connectors"
	httpsrc "github.com/dgtit-gto/gobdatos/connectors/http"
)

const csvBody = "clave,nombre\n01,Aguascalientes\n002,Cosío\n"

// readAll reads a stream to its end and returns its rows as text.
func readAll(t *testing.T, st connectors.Stream) ([]string, error) {
	t.Helper()
	defer st.Close()
	var rows []string
	for st.Next() {
		rec := st.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			var cells []string
			for _, c := range rec.Columns() {
				cells = append(cells, c.ValueStr(i))
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
	}
	return rows, st.Err()
}

// fast keeps retries quick in tests.
func fast(url string) httpsrc.Source {
	return httpsrc.Source{URL: url, RetryWaitMin: 5 * time.Millisecond, RetryWaitMax: 20 * time.Millisecond,
		Timeout: 2 * time.Second, IdleTimeout: 2 * time.Second}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	schema := arrow.NewSchema([]arrow.Field{{Name: "clave", Type: arrow.BinaryTypes.String}, {Name: "n", Type: arrow.PrimitiveTypes.Int32}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"01", "002"}, nil)
	b.Field(1).(*array.Int32Builder).AppendValues([]int32{1, 2}, nil)
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	var arrowBody, parquetBody bytes.Buffer
	w := ipc.NewWriter(&arrowBody, ipc.WithSchema(schema))
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	tbl := array.NewTableFromRecords(schema, []arrow.RecordBatch{rec})
	defer tbl.Release()
	require.NoError(t, pqarrow.WriteTable(tbl, &parquetBody, 10, nil, pqarrow.DefaultWriterProps()))
	latin1, err := os.ReadFile("../../testdata/inegi/municipios_latin1.csv")
	require.NoError(t, err)

	tests := []struct {
		path, contentType string
		body              []byte
		want              []string
	}{
		{"/datos", "text/csv; charset=utf-8", []byte(csvBody), []string{"01|Aguascalientes", "002|Cosío"}},
		{"/datos.json", "", []byte(`[{"clave":"01","nombre":"Aguascalientes"},{"clave":"002","nombre":"Cosío"}]`), []string{"01|Aguascalientes", "002|Cosío"}},
		{"/api", "application/x-ndjson", []byte("{\"clave\":\"01\"}\n{\"clave\":\"002\"}\n"), []string{"01", "002"}},
		{"/x", "application/vnd.apache.arrow.stream", arrowBody.Bytes(), []string{"01|1", "002|2"}},
		{"/x.parquet", "application/octet-stream", parquetBody.Bytes(), []string{"01|1", "002|2"}},
	}
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.URL.Path == "/municipios" {
			_, _ = w.Write(latin1)
			return
		}
		for _, tc := range tests {
			if tc.path == r.URL.Path {
				if tc.contentType != "" {
					w.Header().Set("Content-Type", tc.contentType)
				}
				_, _ = w.Write(tc.body)
				return
			}
		}
		nethttp.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			st, err := fast(srv.URL+tc.path).Open(context.Background(), connectors.Options{Allocator: mem})
			require.NoError(t, err)
			rows, err := readAll(t, st)
			require.NoError(t, err)
			assert.Equal(t, tc.want, rows)
		})
	}
	t.Run("INEGI latin1 without Content-Type", func(t *testing.T) {
		st, err := fast(srv.URL+"/municipios").Open(context.Background(), connectors.Options{})
		require.NoError(t, err)
		rows, err := readAll(t, st)
		require.NoError(t, err)
		assert.Equal(t, 2478, len(rows))
		assert.Equal(t, "01|Aguascalientes|004|Cosío|01004|0001|Cosío|17000|3938", rows[3])
	})
}

func TestRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		statuses  []int // answers before the body, in order; then 200
		wantCalls int32
		wantErr   string
		status    connectors.Status
	}{
		{"500 then success is retried", []int{500, 503}, 3, "", connectors.StatusOK},
		{"404 is not retried", []int{404}, 1, "el recurso no existe (404)", connectors.StatusMissing},
		{"401 is auth", []int{401}, 1, "rechazó las credenciales", connectors.StatusAuth},
		{"403 is permission", []int{403}, 1, "no tienen permiso", connectors.StatusPermission},
		{"429 is not retried", []int{429}, 1, "429", connectors.StatusError},
		{"500 forever gives up", []int{500, 500, 500, 500, 500}, 4, "500 Internal Server Error tras 4 intentos", connectors.StatusError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
				n := int(calls.Add(1))
				if n <= len(tc.statuses) {
					w.WriteHeader(tc.statuses[n-1])
					return
				}
				_, _ = w.Write([]byte(csvBody))
			}))
			t.Cleanup(srv.Close)
			st, err := fast(srv.URL+"/d.csv").Open(context.Background(), connectors.Options{})
			assert.Equal(t, tc.wantCalls, calls.Load())
			if tc.wantErr == "" {
				require.NoError(t, err)
				rows, err := readAll(t, st)
				require.NoError(t, err)
				assert.Len(t, rows, 2)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Equal(t, tc.status, connectors.Classify(err))
		})
	}
}

func TestBodies(t *testing.T) {
	t.Parallel()
	big := "a\n" + strings.Repeat("1\n", 5000)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		switch r.URL.Path {
		case "/empty.csv":
			w.Header().Set("Content-Length", "0")
		case "/big.csv":
			_, _ = w.Write([]byte(big))
		case "/chunked.csv":
			for range 5 {
				_, _ = w.Write([]byte(big[:2000]))
				w.(nethttp.Flusher).Flush()
			}
		case "/stall.csv":
			_, _ = w.Write([]byte("clave,nombre\n01,Cosío\n"))
			w.(nethttp.Flusher).Flush()
			<-r.Context().Done()
		case "/stall-headers.csv":
			<-r.Context().Done()
		}
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		path    string
		src     func(string) httpsrc.Source
		opt     connectors.Options
		wantErr string
		status  connectors.Status
	}{
		{"/empty.csv", fast, connectors.Options{}, "vacío (0 bytes)", connectors.StatusError},
		{"/big.csv", fast, connectors.Options{MaxBytes: 1000}, "excede el límite de 1000 bytes", connectors.StatusError},
		{"/chunked.csv", fast, connectors.Options{MaxBytes: 5000}, "excede el límite de 5000 bytes", connectors.StatusError},
		{"/stall.csv", func(u string) httpsrc.Source {
			s := fast(u)
			s.IdleTimeout = 300 * time.Millisecond
			return s
		}, connectors.Options{}, "dejó de enviar datos durante 300ms", connectors.StatusTimeout},
		{"/stall-headers.csv", func(u string) httpsrc.Source {
			s := fast(u)
			s.Timeout, s.RetryMax = 300*time.Millisecond, -1
			return s
		}, connectors.Options{}, "no respondió a tiempo", connectors.StatusTimeout},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			st, err := tc.src(srv.URL+tc.path).Open(context.Background(), tc.opt)
			if err == nil {
				_, err = readAll(t, st)
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Equal(t, tc.status, connectors.Classify(err))
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		u, p, basic := r.BasicAuth()
		if r.Header.Get("Authorization") == "Bearer s3creto" || (basic && u == "ana" && p == "clave") {
			_, _ = w.Write([]byte(csvBody))
			return
		}
		w.WriteHeader(nethttp.StatusUnauthorized)
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		src    httpsrc.Source
		status connectors.Status
	}{
		{"bearer", httpsrc.Source{URL: srv.URL, Token: "s3creto"}, connectors.StatusOK},
		{"basic", httpsrc.Source{URL: srv.URL, Username: "ana", Password: "clave"}, connectors.StatusOK},
		{"wrong token", httpsrc.Source{URL: srv.URL, Token: "otro"}, connectors.StatusAuth},
		{"none", httpsrc.Source{URL: srv.URL}, connectors.StatusAuth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := tc.src.Check(context.Background(), []string{"clave", "nombre"})
			assert.Equal(t, tc.status, res.Status, res.Message)
			assert.NotContains(t, res.Message, "s3creto")
		})
	}
}

func TestCheckClassifies(t *testing.T) {
	t.Parallel()
	tlsSrv := httptest.NewTLSServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		_, _ = w.Write([]byte(csvBody))
	}))
	t.Cleanup(tlsSrv.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String() + "/x.csv"
	require.NoError(t, ln.Close())
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	require.NoError(t, err)
	t.Cleanup(func() { _ = silent.Close() })

	tests := []struct {
		name   string
		src    httpsrc.Source
		expect []string
		status connectors.Status
		msg    string
	}{
		{"ok with the test server's CA", httpsrc.Source{URL: tlsSrv.URL, Client: tlsSrv.Client()}, []string{"clave", "nombre"}, connectors.StatusOK, "responde"},
		{"drift", httpsrc.Source{URL: tlsSrv.URL, Client: tlsSrv.Client()}, []string{"clave", "descripcion"}, connectors.StatusDrift, "faltan: descripcion; sobran: nombre"},
		{"untrusted certificate", httpsrc.Source{URL: tlsSrv.URL}, nil, connectors.StatusTLS, "TLS"},
		{"refused", fast(closed), nil, connectors.StatusRefused, "rechazó la conexión"},
		{"silent server", httpsrc.Source{URL: "http://" + silent.Addr().String(), Timeout: 200 * time.Millisecond, RetryMax: -1}, nil, connectors.StatusTimeout, "no respondió a tiempo"},
		{"not a URL", httpsrc.Source{URL: "ftp://x/y"}, nil, connectors.StatusError, "no es un URL http(s) válido"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := tc.src.Check(context.Background(), tc.expect)
			assert.Equal(t, tc.status, res.Status, res.Message)
			assert.Contains(t, res.Message, tc.msg)
		})
	}
	t.Run("deadline is kept", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		start := time.Now()
		res := httpsrc.Source{URL: "http://" + silent.Addr().String()}.Check(ctx, nil)
		assert.Equal(t, connectors.StatusTimeout, res.Status, res.Message)
		assert.Less(t, time.Since(start), time.Second)
	})
}

func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	s := httpsrc.Source{URL: "https://ana:pw1@datos.example/x.csv?token=pw2", Token: "pw3", Username: "ana", Password: "pw4"}
	js, err := json.Marshal(s)
	require.NoError(t, err)
	for _, text := range []string{string(js), fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s)} {
		for _, secret := range []string{"pw1", "pw2", "pw3", "pw4"} {
			assert.NotContains(t, text, secret)
		}
	}
}
