package portal

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/labstack/echo/v5"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

func TestAccountPage(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	b.user(t, "fer", account.Consulta, nil)
	cl, other := b.client(t), b.client(t)
	cl.signIn("fer", "fer-clave-larga")
	other.signIn("fer", "fer-clave-larga")

	tests := []struct {
		name   string
		form   url.Values
		status int
		msg    string
	}{
		{"wrong current", url.Values{"current": {"no-es"}, "password": {"nueva-clave-larga"}, "password_confirm": {"nueva-clave-larga"}}, 422, "La contraseña actual no es correcta."},
		{"too short", url.Values{"current": {"fer-clave-larga"}, "password": {"corta"}, "password_confirm": {"corta"}}, 422, "al menos 10 caracteres"},
		{"typed twice differently", url.Values{"current": {"fer-clave-larga"}, "password": {"nueva-clave-larga"}, "password_confirm": {"nueva-clave-larg"}}, 422, "no coinciden"},
		{"right", url.Values{"current": {"fer-clave-larga"}, "password": {"nueva-clave-larga"}, "password_confirm": {"nueva-clave-larga"}}, 303, ""},
	}
	for _, tc := range tests {
		res, body := cl.post("/cuenta/contrasena", tc.form)
		require.Equal(t, tc.status, res.StatusCode, tc.name)
		require.Contains(t, body, tc.msg, tc.name)
	}
	res, _ := cl.do("GET", "/cuenta", nil)
	require.Equal(t, 200, res.StatusCode, "this session stays")
	res, _ = other.do("GET", "/cuenta", nil)
	require.Equal(t, 303, res.StatusCode, "the other session ended with the old password")

	// tokens: created, shown once, usable, revoked
	res, body := cl.post("/cuenta/tokens", url.Values{"name": {"tablero"}})
	require.Equal(t, 200, res.StatusCode)
	secret := regexp.MustCompile(`id="token-nuevo">(gbd_[^<]+)<`).FindStringSubmatch(body)
	require.NotNil(t, secret, body)
	res, _ = b.client(t).do("GET", "/cuenta", nil, "Authorization", "Bearer "+secret[1])
	require.Equal(t, 200, res.StatusCode)
	_, body = cl.do("GET", "/cuenta", nil)
	require.NotContains(t, body, secret[1], "the secret is never shown again")
	id := regexp.MustCompile(`/cuenta/tokens/(\d+)/revocar`).FindStringSubmatch(body)
	require.NotNil(t, id)
	res, _ = cl.post("/cuenta/tokens/"+id[1]+"/revocar", nil)
	require.Equal(t, 303, res.StatusCode)
	res, _ = b.client(t).do("GET", "/cuenta", nil, "Authorization", "Bearer "+secret[1])
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)

	// sign out everywhere
	res, _ = cl.post("/cuenta/salir-todo", nil)
	require.Equal(t, 303, res.StatusCode)
	res, _ = cl.do("GET", "/cuenta", nil)
	require.Equal(t, 303, res.StatusCode)
}

func TestTemporaryPasswordIsChangedFirst(t *testing.T) {
	t.Parallel()
	b := setup(t, Options{})
	u := b.user(t, "gil", account.Admin, nil)
	_, err := b.pool.Exec(t.Context(), `UPDATE meta.app_user SET must_change_password = true WHERE id = $1`, u.ID)
	require.NoError(t, err)
	cl := b.client(t)
	res := cl.signIn("gil", "gil-clave-larga")
	require.Equal(t, "/cuenta", res.Header.Get("Location"))
	b.srv.echo.GET("/privada", func(c *echo.Context) error { return c.String(200, "ok") }, b.srv.requireSignIn)
	res, _ = cl.do("GET", "/privada", nil)
	require.Equal(t, 303, res.StatusCode)
	require.Equal(t, "/cuenta", res.Header.Get("Location"))
	res, body := cl.do("GET", "/cuenta", nil)
	require.Equal(t, 200, res.StatusCode)
	require.Contains(t, body, "Su contraseña es temporal")
	res, _ = cl.post("/cuenta/contrasena", url.Values{"current": {"gil-clave-larga"}, "password": {"gil-nueva-clave"}, "password_confirm": {"gil-nueva-clave"}})
	require.Equal(t, 303, res.StatusCode)
	res, _ = cl.do("GET", "/privada", nil)
	require.Equal(t, 200, res.StatusCode)
}
