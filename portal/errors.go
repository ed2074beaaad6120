package portal

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
)

// Problem is an error the API answers as application/problem+json (RFC 9457)
// and the pages as an HTML error page. Title and Detail are Spanish and meant
// for people; Code is stable, for programs.
type Problem struct {
	Status int           `json:"status"`
	Code   string        `json:"code"`
	Title  string        `json:"title"`
	Detail string        `json:"detail,omitempty"`
	Errors []ProblemItem `json:"errors,omitempty"`
	// cause is logged, never shown.
	cause error
}

// ProblemItem points at one bad input: a field, a row and column, a value.
type ProblemItem struct {
	Field   string `json:"field,omitempty"`
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column,omitempty"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

func (p *Problem) Error() string {
	if p.cause != nil {
		return fmt.Sprintf("%d %s: %s: %v", p.Status, p.Code, p.Detail, p.cause)
	}
	return fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Detail)
}

// StatusCode makes echo and the request log see the right status.
func (p *Problem) StatusCode() int { return p.Status }

// Unwrap exposes the cause to errors.Is/As.
func (p *Problem) Unwrap() error { return p.cause }

// problemJSON is the wire form: RFC 9457 members plus our extensions.
type problemJSON struct {
	Type      string        `json:"type"`
	Title     string        `json:"title"`
	Status    int           `json:"status"`
	Detail    string        `json:"detail,omitempty"`
	Instance  string        `json:"instance,omitempty"`
	Code      string        `json:"code"`
	RequestID string        `json:"request_id,omitempty"`
	Errors    []ProblemItem `json:"errors,omitempty"`
}

// statusTitles are the Spanish titles of the statuses the portal answers
// without a more specific Problem.
var statusTitles = map[int][2]string{
	http.StatusBadRequest:            {"solicitud_invalida", "Solicitud inválida"},
	http.StatusUnauthorized:          {"no_autenticado", "Se requiere iniciar sesión"},
	http.StatusForbidden:             {"prohibido", "No tiene permiso para esta acción"},
	http.StatusNotFound:              {"no_encontrado", "No encontrado"},
	http.StatusMethodNotAllowed:      {"metodo_no_permitido", "Método no permitido"},
	http.StatusRequestTimeout:        {"tiempo_agotado", "Se agotó el tiempo de la solicitud"},
	http.StatusConflict:              {"conflicto", "Conflicto con el estado actual"},
	http.StatusRequestEntityTooLarge: {"cuerpo_demasiado_grande", "La solicitud es demasiado grande"},
	http.StatusUnsupportedMediaType:  {"tipo_no_soportado", "Tipo de contenido no soportado"},
	http.StatusUnprocessableEntity:   {"datos_invalidos", "Los datos enviados no son válidos"},
	http.StatusTooManyRequests:       {"demasiadas_solicitudes", "Demasiadas solicitudes; intente más tarde"},
	http.StatusInternalServerError:   {"error_interno", "Error interno del servidor"},
	http.StatusServiceUnavailable:    {"no_disponible", "Servicio no disponible"},
}

// toProblem turns any handler error into the Problem shown to the client.
// Unknown errors become a 500 whose detail reveals nothing internal.
func toProblem(err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	status := http.StatusInternalServerError
	var sc echo.HTTPStatusCoder
	if errors.As(err, &sc) && sc.StatusCode() != 0 {
		status = sc.StatusCode()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		status = http.StatusServiceUnavailable
	}
	t, ok := statusTitles[status]
	if !ok {
		t = [2]string{"error_" + fmt.Sprint(status), http.StatusText(status)}
	}
	p = &Problem{Status: status, Code: t[0], Title: t[1], cause: err}
	switch status {
	case http.StatusNotFound:
		p.Detail = "La dirección solicitada no existe."
	case http.StatusMethodNotAllowed:
		p.Detail = "La dirección existe, pero no acepta este método."
	case http.StatusInternalServerError:
		p.Detail = "Ocurrió un error inesperado. Si persiste, comunique al administrador el identificador de la solicitud."
	}
	return p
}

// isAPI reports whether path is read by programs (JSON errors) rather than
// people (HTML errors).
func isAPI(path string) bool {
	switch path {
	case "/data.json", "/healthz", "/readyz", "/metrics":
		return true
	}
	return strings.HasPrefix(path, "/api/")
}

// handleError answers every error a handler returns.
func (s *Server) handleError(c *echo.Context, err error) {
	if r, _ := echo.UnwrapResponse(c.Response()); r != nil && r.Committed {
		return
	}
	p := toProblem(err)
	reqID := c.Response().Header().Get(echo.HeaderXRequestID)
	req := c.Request()
	if req.Method == http.MethodHead {
		_ = c.NoContent(p.Status)
		return
	}
	if isAPI(req.URL.Path) {
		body := problemJSON{
			Type:      "about:blank",
			Title:     p.Title,
			Status:    p.Status,
			Detail:    p.Detail,
			Instance:  req.URL.Path,
			Code:      p.Code,
			RequestID: reqID,
			Errors:    p.Errors,
		}
		c.Response().Header().Set(echo.HeaderContentType, "application/problem+json; charset=utf-8")
		if werr := c.JSON(p.Status, body); werr != nil {
			s.log.Error("write problem", "err", werr)
		}
		return
	}
	if werr := s.render(c, p.Status, "error.html", errorPage{Problem: p, RequestID: reqID}); werr != nil {
		s.log.Error("render error page", "err", werr)
		_ = c.String(p.Status, p.Title)
	}
}

type errorPage struct {
	Problem   *Problem
	RequestID string
}
