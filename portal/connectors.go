package portal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Connectors as records, through the API. A Publicador sees and changes
// only his dependencia's connectors; administrators, every one. Credentials
// are write-only: answers say only whether a connector has them.

// connectorHealth is the answer of /connectors/{id}/health.
type connectorHealth struct {
	Connector registry.Connector `json:"connector"`
	Uptime    []health.Uptime    `json:"uptime"`
	Checks    []health.Check     `json:"checks"`
}

func (s *Server) bindConnectors() {
	if s.opts.Keys == nil {
		return // the process gave no keyring: no place to keep credentials
	}
	read := s.requirePermission(account.ReadInternal)
	manage := s.requirePermission(account.ManageConnectors)
	s.api(http.MethodGet, "/api/v1/connectors", s.listConnectors, APIDoc{
		Summary: "Conectores", Tag: "conectores", Auth: true,
		Description: "Los conectores visibles para quien llama: los de su dependencia, o todos para administradores.",
		Response:    []registry.Connector{},
	}, read)
	s.api(http.MethodPost, "/api/v1/connectors", s.createConnector, APIDoc{
		Summary: "Registrar un conector", Tag: "conectores", Auth: true, Status: http.StatusCreated,
		Description: "Las credenciales se guardan cifradas y nunca se devuelven. Sin «dependencia», la de quien llama.",
		Body:        registry.Input{}, Response: registry.Connector{},
	}, manage)
	s.api(http.MethodGet, "/api/v1/connectors/uptime", s.uptimeByDependencia, APIDoc{
		Summary: "Disponibilidad por dependencia", Tag: "conectores", Auth: true,
		Description: "Proporción de revisiones exitosas en 24 h, 7 d y 30 d de los conectores y accesos de cada dependencia.",
		Response:    []health.DependenciaUptime{},
	}, read)
	s.api(http.MethodGet, "/api/v1/connectors/:id", s.getConnector, APIDoc{
		Summary: "Un conector", Tag: "conectores", Auth: true, Response: registry.Connector{},
	}, read)
	s.api(http.MethodGet, "/api/v1/connectors/:id/health", s.connectorHealth, APIDoc{
		Summary: "Salud de un conector", Tag: "conectores", Auth: true,
		Description: "Disponibilidad en 24 h, 7 d y 30 d y las últimas revisiones (estado, latencia, mensaje).",
		Query:       []Param{{Name: "limit", Type: "integer", Description: "revisiones a devolver (1 a 500; 50)"}},
		Response:    connectorHealth{},
	}, read)
	s.api(http.MethodPut, "/api/v1/connectors/:id", s.updateConnector, APIDoc{
		Summary: "Cambiar un conector", Tag: "conectores", Auth: true,
		Description: "Sin «credentials» se conservan las guardadas; «clear_credentials» las borra.",
		Body:        registry.Input{}, Response: registry.Connector{},
	}, manage)
	s.api(http.MethodDelete, "/api/v1/connectors/:id", s.deleteConnector, APIDoc{
		Summary: "Eliminar un conector", Tag: "conectores", Auth: true, Status: http.StatusNoContent,
	}, manage)
}

func (s *Server) connectorStore() *registry.Store {
	return &registry.Store{DB: s.opts.Pool, Keys: s.opts.Keys}
}

// connectorScope is the dependencia whose connectors the caller may see;
// nil means all.
func connectorScope(u *account.User) *int64 {
	if u.Can(account.ManageConnectors, nil) || u.DependenciaID == nil {
		return nil
	}
	return u.DependenciaID
}

var errConnectorNotFound = &Problem{Status: http.StatusNotFound, Code: "conector_no_encontrado",
	Title: "No encontrado", Detail: "No existe un conector con ese número, o no es de su dependencia."}

// visibleConnector loads connector :id if the caller may see it.
func (s *Server) visibleConnector(c *echo.Context) (registry.Connector, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return registry.Connector{}, errConnectorNotFound
	}
	conn, err := s.connectorStore().Get(c.Request().Context(), id)
	if errors.Is(err, registry.ErrNotFound) {
		return registry.Connector{}, errConnectorNotFound
	}
	if err != nil {
		return registry.Connector{}, err
	}
	if scope := connectorScope(s.caller(c)); scope != nil && *scope != conn.DependenciaID {
		return registry.Connector{}, errConnectorNotFound
	}
	return conn, nil
}

func (s *Server) listConnectors(c *echo.Context) error {
	list, err := s.connectorStore().List(c.Request().Context(), registry.Filter{DependenciaID: connectorScope(s.caller(c))})
	if err != nil {
		return err
	}
	if list == nil {
		list = []registry.Connector{}
	}
	return c.JSON(http.StatusOK, list)
}

func (s *Server) getConnector(c *echo.Context) error {
	conn, err := s.visibleConnector(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, conn)
}

func (s *Server) connectorHealth(c *echo.Context) error {
	conn, err := s.visibleConnector(c)
	if err != nil {
		return err
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return &Problem{Status: http.StatusBadRequest, Code: "parametro_invalido", Title: "Parámetro inválido",
				Detail: "«limit» debe ser un entero de 1 a 500.", Errors: []ProblemItem{{Field: "limit", Value: v, Message: "debe ser un entero de 1 a 500"}}}
		}
		limit = n
	}
	ctx := c.Request().Context()
	up, err := health.TargetUptime(ctx, s.opts.Pool, health.KindConnector, conn.ID)
	if err != nil {
		return err
	}
	checks, err := health.History(ctx, s.opts.Pool, health.KindConnector, conn.ID, limit)
	if err != nil {
		return err
	}
	if checks == nil {
		checks = []health.Check{}
	}
	return c.JSON(http.StatusOK, connectorHealth{Connector: conn, Uptime: up, Checks: checks})
}

func (s *Server) uptimeByDependencia(c *echo.Context) error {
	out, err := s.visibleDependenciaUptime(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// visibleDependenciaUptime is the uptime of the dependencias the caller may
// see: his own, or all for administrators.
func (s *Server) visibleDependenciaUptime(c *echo.Context) ([]health.DependenciaUptime, error) {
	all, err := health.ByDependencia(c.Request().Context(), s.opts.Pool)
	if err != nil {
		return nil, err
	}
	out := []health.DependenciaUptime{}
	scope := connectorScope(s.caller(c))
	var mine string
	if scope != nil {
		if err := s.opts.Pool.QueryRow(c.Request().Context(), `SELECT clave FROM meta.dependencia WHERE id = $1`, *scope).Scan(&mine); err != nil {
			return nil, err
		}
	}
	for _, d := range all {
		if scope == nil || d.Dependencia == mine {
			out = append(out, d)
		}
	}
	return out, nil
}

// decodeConnector reads the JSON body of a create or update.
func decodeConnector(c *echo.Context) (registry.Input, error) {
	var in registry.Input
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, &Problem{Status: http.StatusBadRequest, Code: "json_invalido", Title: "Solicitud inválida",
			Detail: "El cuerpo debe ser un objeto JSON de conector: " + err.Error(), cause: err}
	}
	return in, nil
}

// connectorProblem turns the store's errors into answers.
func connectorProblem(err error) error {
	var ie *registry.InvalidError
	if errors.As(err, &ie) {
		p := &Problem{Status: http.StatusUnprocessableEntity, Code: "conector_invalido", Title: "Los datos del conector no son válidos",
			Detail: "Corrija los campos señalados; no se guardó nada."}
		for _, f := range ie.Fields {
			p.Errors = append(p.Errors, ProblemItem{Field: f.Field, Value: f.Value, Message: f.Message})
		}
		return p
	}
	if errors.Is(err, registry.ErrNotFound) {
		return errConnectorNotFound
	}
	return err
}

// withRequest is who makes the change, for the bitácora: the caller, the
// request id and the address.
func (s *Server) withRequest(c *echo.Context) audit.Entry {
	return s.auditEntry(c, nil, "", "", "", nil)
}

func (s *Server) dependenciaID(ctx context.Context, clave string) (int64, error) {
	var id int64
	err := s.opts.Pool.QueryRow(ctx, `SELECT id FROM meta.dependencia WHERE clave = $1`, clave).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, &registry.InvalidError{Fields: []registry.FieldError{{Field: "dependencia", Value: clave, Message: "la dependencia no existe"}}}
	}
	return id, err
}

func (s *Server) createConnector(c *echo.Context) error {
	in, err := decodeConnector(c)
	if err != nil {
		return err
	}
	conn, err := s.createConnectorAs(c, in)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Location", fmt.Sprintf("/api/v1/connectors/%d", conn.ID))
	return c.JSON(http.StatusCreated, conn)
}

// createConnectorAs registers in for the caller — in his dependencia when
// it names none — if he may; the API and the form share it.
func (s *Server) createConnectorAs(c *echo.Context, in registry.Input) (registry.Connector, error) {
	u := s.caller(c)
	ctx := c.Request().Context()
	if in.Dependencia == "" && u.DependenciaID != nil {
		if err := s.opts.Pool.QueryRow(ctx, `SELECT clave FROM meta.dependencia WHERE id = $1`, *u.DependenciaID).Scan(&in.Dependencia); err != nil {
			return registry.Connector{}, err
		}
	}
	depID, err := s.dependenciaID(ctx, in.Dependencia)
	if err != nil {
		return registry.Connector{}, connectorProblem(err)
	}
	if !u.Can(account.ManageConnectors, &depID) {
		return registry.Connector{}, forbidden(account.ManageConnectors)
	}
	if err := fileKindAllowed(u, in); err != nil {
		return registry.Connector{}, err
	}
	conn, err := s.connectorStore().Create(ctx, in, s.withRequest(c))
	if err != nil {
		return registry.Connector{}, connectorProblem(err)
	}
	return conn, nil
}

func (s *Server) updateConnector(c *echo.Context) error {
	conn, err := s.visibleConnector(c)
	if err != nil {
		return err
	}
	if !s.caller(c).Can(account.ManageConnectors, &conn.DependenciaID) {
		return forbidden(account.ManageConnectors)
	}
	in, err := decodeConnector(c)
	if err != nil {
		return err
	}
	updated, err := s.updateConnectorAs(c, conn, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, updated)
}

// updateConnectorAs changes conn to in if the caller may; the API and the
// form share it.
func (s *Server) updateConnectorAs(c *echo.Context, conn registry.Connector, in registry.Input) (registry.Connector, error) {
	if !s.caller(c).Can(account.ManageConnectors, &conn.DependenciaID) {
		return registry.Connector{}, forbidden(account.ManageConnectors)
	}
	if err := fileKindAllowed(s.caller(c), in); err != nil {
		return registry.Connector{}, err
	}
	updated, err := s.connectorStore().Update(c.Request().Context(), conn.ID, in, s.withRequest(c))
	if err != nil {
		return registry.Connector{}, connectorProblem(err)
	}
	return updated, nil
}

func (s *Server) deleteConnector(c *echo.Context) error {
	conn, err := s.visibleConnector(c)
	if err != nil {
		return err
	}
	if !s.caller(c).Can(account.ManageConnectors, &conn.DependenciaID) {
		return forbidden(account.ManageConnectors)
	}
	if err := s.connectorStore().Delete(c.Request().Context(), conn.ID, s.withRequest(c)); err != nil {
		return connectorProblem(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// fileKindAllowed keeps file connectors — a path on the server — to
// administrators: anyone else could have the server read its own files.
func fileKindAllowed(u *account.User, in registry.Input) error {
	if in.Kind != "file" || u.Can(account.ManageConnectors, nil) {
		return nil
	}
	return &Problem{Status: http.StatusForbidden, Code: "conector_archivo_restringido", Title: "No tiene permiso para esta acción",
		Detail: "Sólo un Administrador puede registrar conectores de tipo archivo (una ruta del servidor).",
		Errors: []ProblemItem{{Field: "kind", Value: in.Kind, Message: "reservado a administradores"}}}
}
