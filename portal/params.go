package portal

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"
)

// pathID reads the route's :id as a positive integer.
func pathID(c *echo.Context) (int64, error) {
	raw := c.Param("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, &Problem{Status: http.StatusNotFound, Code: "no_encontrado", Title: "No encontrado",
			Detail: "«" + raw + "» no es un identificador válido."}
	}
	return id, nil
}
