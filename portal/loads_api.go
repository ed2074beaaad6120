package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/file"
	httpsrc "github.com/dgtit-gto/gobdatos/connectors/http"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// The loads API: a steward uploads a file (or names a URL) and gets the
// queued run at once; the load goes on in the background and its run shows
// the progress and, at the end, the report.

// loadRequest is the JSON body of a load from a URL.
type loadRequest struct {
	Source    string `json:"source" jsonschema:"description=URL http(s) del que leer los datos"`
	Format    string `json:"format,omitempty" jsonschema:"enum=,enum=csv,enum=json,enum=ndjson,enum=arrow,enum=parquet"`
	Encoding  string `json:"encoding,omitempty" jsonschema:"description=utf-8, iso-8859-1 o windows-1252 (se detecta si falta)"`
	Delimiter string `json:"delimiter,omitempty" jsonschema:"description=delimitador del CSV (se detecta si falta)"`
	DryRun    bool   `json:"dryRun,omitempty" jsonschema:"description=validar sin publicar"`
}

// loadUpload describes the multipart form of an upload.
type loadUpload struct {
	File      []byte `json:"file" jsonschema:"description=el archivo (CSV, JSON, NDJSON, Arrow o Parquet)"`
	Format    string `json:"format,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Delimiter string `json:"delimiter,omitempty"`
	DryRun    bool   `json:"dryRun,omitempty"`
}

type runList struct {
	Items []pipeline.Run `json:"items"`
	Next  string         `json:"next,omitempty"`
}

func (s *Server) bindLoads() {
	if s.opts.Loads == nil || s.catalogs() == nil {
		return
	}
	tag := "cargas"
	s.api(http.MethodPost, "/api/v1/catalogs/:clave/loads", s.apiLoadStart, APIDoc{
		Summary: "Cargar datos al catálogo: un archivo subido o un URL", Tag: tag, Auth: true,
		Description: "Con multipart/form-data, el campo «file» es el archivo; con JSON, «source» es un URL http(s). " +
			"Responde 202 con la carga en cola; su avance y su reporte se consultan en /api/v1/runs/{id}.",
		Body: loadRequest{}, Response: pipeline.Run{}, Status: http.StatusAccepted,
	}, s.requirePermission(account.LoadCatalogs))
	s.allowLargeBody("/api/v1/catalogs/:clave/loads")
	s.api(http.MethodGet, "/api/v1/catalogs/:clave/runs", s.apiCatalogRuns, APIDoc{
		Summary: "Cargas del catálogo, la más reciente primero", Tag: tag, Auth: true, Response: runList{},
		Query: []Param{
			{Name: "limit", Type: "integer", Description: "Cargas por página (1 a 500; 50 por omisión)"},
			{Name: "before", Type: "integer", Description: "Cursor «next» de la página anterior"},
		},
	}, s.requireSignIn)
	s.api(http.MethodGet, "/api/v1/runs/:id", s.apiRun, APIDoc{
		Summary: "Una carga: estado, etapa, avance, tiempos, conteos y reporte de validación", Tag: tag, Auth: true,
		Response: pipeline.Run{},
	}, s.requireSignIn)
}

// loadableCatalog is the catalog :clave if the caller may load it.
func (s *Server) loadableCatalog(c *echo.Context) (*catalog.Catalog, error) {
	cat, err := s.catalogs().ByClave(c.Request().Context(), c.Param("clave"))
	if err != nil {
		return nil, catalogProblem(err)
	}
	if !s.caller(c).Can(account.LoadCatalogs, &cat.DependenciaID) {
		return nil, forbidden(account.LoadCatalogs)
	}
	return cat, nil
}

// mayReadRuns reports whether the caller may see the loads of a catalog of
// dependencia dep: who may load it, or read internal data.
func mayReadRuns(u *account.User, dep int64) bool {
	return u.Can(account.LoadCatalogs, &dep) || u.Can(account.ReadInternal, &dep)
}

func (s *Server) apiLoadStart(c *echo.Context) error {
	cat, err := s.loadableCatalog(c)
	if err != nil {
		return err
	}
	u := s.caller(c)
	req := pipeline.Request{Catalog: cat, Actor: actorOf(u), RowBase: 2}
	var opt connectors.Options
	var src connectors.Source
	var done func()
	ct := c.Request().Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		run, err := s.startUpload(c, cat, "file", "dryRun")
		if err != nil {
			return err
		}
		c.Response().Header().Set("Location", "/api/v1/runs/"+strconv.FormatInt(run.ID, 10))
		return c.JSON(http.StatusAccepted, run)
	} else {
		var in loadRequest
		if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
			return &Problem{Status: http.StatusBadRequest, Code: "json_invalido", Title: "Solicitud inválida",
				Detail: "Envíe el archivo como multipart/form-data (campo «file») o un JSON con «source»: " + err.Error()}
		}
		if !strings.HasPrefix(in.Source, "http://") && !strings.HasPrefix(in.Source, "https://") {
			return loadProblem("source", httpsrc.Redact(in.Source), "debe ser un URL http(s)")
		}
		if opt, _, err = formOptions(in.Format, in.Encoding, in.Delimiter, ""); err != nil {
			return err
		}
		src, req.Source, req.Trigger, req.DryRun = httpsrc.Source{URL: in.Source}, httpsrc.Redact(in.Source), pipeline.Manual, in.DryRun
		req.RowBase = rowBase(opt.Format, strings.SplitN(in.Source, "?", 2)[0])
	}
	req.Open = func(ctx context.Context) (pipeline.Stream, error) { return src.Open(ctx, opt) }
	run, err := s.opts.Loads.Start(c.Request().Context(), req, done)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", "/api/v1/runs/"+strconv.FormatInt(run.ID, 10))
	return c.JSON(http.StatusAccepted, run)
}

// startUpload starts the load of the file uploaded in the form field
// fileField (with the fields format, encoding, delimiter and dryField).
func (s *Server) startUpload(c *echo.Context, cat *catalog.Catalog, fileField, dryField string) (*pipeline.Run, error) {
	req := pipeline.Request{Catalog: cat, Actor: actorOf(s.caller(c)), RowBase: 2}
	fh, err := c.FormFile(fileField)
	if err != nil {
		return nil, loadProblem(fileField, "", "falta el archivo en el campo «"+fileField+"»")
	}
	path, err := saveUpload(fh.Filename, func() (multipartFile, error) { return fh.Open() })
	if err != nil {
		return nil, err
	}
	done := func() { _ = os.RemoveAll(filepath.Dir(path)) }
	src := file.Source{Path: path}
	req.Source, req.Trigger = filepath.Base(fh.Filename), pipeline.Upload
	opt, dry, err := formOptions(c.FormValue("format"), c.FormValue("encoding"), c.FormValue("delimiter"), c.FormValue(dryField))
	if err != nil {
		done()
		return nil, err
	}
	req.DryRun = dry
	req.RowBase = rowBase(opt.Format, fh.Filename)
	req.Open = func(ctx context.Context) (pipeline.Stream, error) { return src.Open(ctx, opt) }
	return s.opts.Loads.Start(c.Request().Context(), req, done)
}

func loadProblem(field, value, why string) *Problem {
	return &Problem{Status: http.StatusBadRequest, Code: "carga_invalida", Title: "Solicitud de carga inválida",
		Detail: fmt.Sprintf("«%s»: %s.", field, why), Errors: []ProblemItem{{Field: field, Value: value, Message: why}}}
}

// saveUpload copies an uploaded file to a folder of its own, so that the
// load may read it twice and it is removed with the folder afterwards.
func saveUpload(name string, open func() (multipartFile, error)) (string, error) {
	in, err := open()
	if err != nil {
		return "", err
	}
	defer in.Close()
	dir, err := os.MkdirTemp("", "gobdatos-carga-")
	if err != nil {
		return "", fmt.Errorf("upload: %w", err)
	}
	base := filepath.Base(name)
	if base == "." || base == "/" || base == "" {
		base = "datos"
	}
	path := filepath.Join(dir, base)
	out, err := os.Create(path)
	if err == nil {
		_, err = io.Copy(out, in)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", fmt.Errorf("upload: %w", err)
	}
	return path, nil
}

type multipartFile = io.ReadCloser

func formOptions(format, encoding, delimiter, dryRun string) (connectors.Options, bool, error) {
	opt := connectors.Options{Format: format, Encoding: encoding}
	switch format {
	case "", connectors.FormatCSV, connectors.FormatJSON, connectors.FormatNDJSON, connectors.FormatArrow, connectors.FormatParquet:
	default:
		return opt, false, loadProblem("format", format, "use csv, json, ndjson, arrow o parquet")
	}
	switch delimiter {
	case "":
	case "tab", `\t`:
		opt.Delimiter = '\t'
	default:
		r, n := utf8.DecodeRuneInString(delimiter)
		if n != len(delimiter) {
			return opt, false, loadProblem("delimiter", delimiter, "debe ser un solo carácter")
		}
		opt.Delimiter = r
	}
	dry := false
	if dryRun != "" {
		b, err := strconv.ParseBool(dryRun)
		if err != nil {
			return opt, false, loadProblem("dryRun", dryRun, "debe ser true o false")
		}
		dry = b
	}
	return opt, dry, nil
}

// rowBase: CSV counts its header as row 1, the other formats start at 1.
func rowBase(format, name string) int64 {
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")
	}
	switch format {
	case "json", "ndjson", "jsonl", "arrow", "ipc", "feather", "parquet":
		return 1
	}
	return 2
}

func (s *Server) apiRun(c *echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return badParam("id", c.Param("id"), "debe ser un número de carga")
	}
	ctx := c.Request().Context()
	run, err := pipeline.GetRun(ctx, s.opts.Pool, id)
	if errors.Is(err, pipeline.ErrRunNotFound) {
		return &Problem{Status: http.StatusNotFound, Code: "carga_no_encontrada", Title: "No encontrado", Detail: fmt.Sprintf("No existe la carga %d.", id)}
	}
	if err != nil {
		return err
	}
	cat, err := s.catalogs().ByClave(ctx, run.CatalogClave)
	if err != nil {
		return catalogProblem(err)
	}
	if !mayReadRuns(s.caller(c), cat.DependenciaID) {
		return forbidden(account.LoadCatalogs)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, run)
}

func (s *Server) apiCatalogRuns(c *echo.Context) error {
	cat, err := s.catalogs().ByClave(c.Request().Context(), c.Param("clave"))
	if err != nil {
		return catalogProblem(err)
	}
	if !mayReadRuns(s.caller(c), cat.DependenciaID) {
		return forbidden(account.LoadCatalogs)
	}
	limit, err := intParam(c, "limit", 50, 500)
	if err != nil {
		return err
	}
	before, err := intParam(c, "before", 0, 0)
	if err != nil {
		return err
	}
	runs, err := pipeline.ListRuns(c.Request().Context(), s.opts.Pool, cat.ID, int64(before), limit)
	if err != nil {
		return err
	}
	out := runList{Items: runs}
	if out.Items == nil {
		out.Items = []pipeline.Run{}
	}
	if len(runs) == limit && limit > 0 {
		out.Next = strconv.FormatInt(runs[len(runs)-1].ID, 10)
	}
	return c.JSON(http.StatusOK, out)
}
