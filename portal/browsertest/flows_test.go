package browsertest_test

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/portal/account"
	"github.com/dgtit-gto/gobdatos/portal/browsertest"
)

func TestSignInAndOut(t *testing.T) {
	t.Parallel()
	env := browsertest.New(t)
	env.User(t, "ana", account.Consulta, nil)
	b := env.Browser(t)

	require.Equal(t, 401, b.SignIn("ana", "no-es-la-clave"))
	require.Contains(t, b.Text("#error-entrar"), "Usuario o contraseña incorrectos")

	require.Equal(t, 200, b.SignIn("ana", browsertest.Password("ana")))
	require.Equal(t, "/", b.Path())
	require.Equal(t, "Usuario ana", b.Text("#mi-cuenta"))

	require.Equal(t, 200, b.Open("/cuenta"))
	require.Contains(t, b.Text("main"), "Cambiar contraseña")

	require.Equal(t, 200, b.SignOut())
	require.True(t, b.Has("#nav-entrar"))
	b.Open("/cuenta")
	require.True(t, strings.HasPrefix(b.Path(), "/entrar?siguiente="), b.Path())
}

// An administrator deactivates a user, who is signed out at once and cannot
// sign in again.
func TestDeactivatedUserCannotSignIn(t *testing.T) {
	t.Parallel()
	env := browsertest.New(t)
	env.User(t, "admin", account.Admin, nil)
	env.User(t, "beto", account.Consulta, nil)

	beto := env.Browser(t)
	require.Equal(t, 200, beto.SignIn("beto", browsertest.Password("beto")))

	admin := env.Browser(t)
	admin.SignIn("admin", browsertest.Password("admin"))
	require.Equal(t, 200, admin.Click("#nav-usuarios"))
	require.Contains(t, admin.Text("#usuarios"), "beto@guanajuato.gob.mx")
	require.Equal(t, 200, admin.Click("#editar-beto"))
	admin.Check("#active", false)
	require.Equal(t, 200, admin.Click("#guardar-usuario"))
	require.Equal(t, "Información del usuario guardada.", admin.Text("#mensaje"))

	beto.Open("/cuenta")
	require.True(t, strings.HasPrefix(beto.Path(), "/entrar"), "his session ended: %s", beto.Path())
	require.Equal(t, 401, beto.SignIn("beto", browsertest.Password("beto")))
	require.Contains(t, beto.Text("#error-entrar"), "Usuario o contraseña incorrectos, o la cuenta no está activa.")
}

// An administrator registers a user with the welcome e-mail; the user sets
// his password through the link in it, and signs in.
func TestWelcomeLink(t *testing.T) {
	t.Parallel()
	env := browsertest.New(t)
	dep := env.Dependencia(t, "SFIA", "Secretaría de Finanzas, Inversión y Administración")
	env.User(t, "admin", account.Admin, nil)

	admin := env.Browser(t)
	admin.SignIn("admin", browsertest.Password("admin"))
	admin.Open("/usuarios")
	require.Equal(t, 200, admin.Click("#registrar-usuario"))
	admin.Fill("#login", "carla")
	admin.Fill("#email", "carla@guanajuato.gob.mx")
	admin.Fill("#full_name", "Carla Díaz")
	admin.Select("#profile", "publicador")
	admin.Select("#dependencia_id", itoa(*dep))
	admin.Check("#send_welcome", true)
	require.Equal(t, 200, admin.Click("#guardar-usuario"))
	require.Equal(t, "Usuario registrado.", admin.Text("#mensaje"))

	mail := env.Mail(t, "carla@guanajuato.gob.mx")
	require.Contains(t, mail, "Usuario: carla")
	link := regexp.MustCompile(`https?://\S+/contrasena/\S+`).FindString(mail)
	require.NotEmpty(t, link, mail)
	u, err := url.Parse(link)
	require.NoError(t, err)

	carla := env.Browser(t)
	require.Equal(t, 200, carla.Open(u.Path))
	require.Contains(t, carla.Text("main"), "Carla Díaz")
	carla.Fill("#password", "carla-nueva-clave")
	carla.Fill("#password_confirm", "carla-nueva-clave-x")
	require.Equal(t, 422, carla.Click("#establecer"))
	require.Contains(t, carla.Text("#error"), "no coinciden")
	carla.Fill("#password", "carla-nueva-clave")
	carla.Fill("#password_confirm", "carla-nueva-clave")
	require.Equal(t, 200, carla.Click("#establecer"))
	require.Contains(t, carla.Text("#mensaje"), "Su contraseña quedó establecida")

	require.Equal(t, 410, carla.Open(u.Path), "the link works once")
	require.Equal(t, 200, carla.SignIn("carla", "carla-nueva-clave"))
	require.Equal(t, "Carla Díaz", carla.Text("#mi-cuenta"))
}

func itoa(n int64) string {
	return strconv.FormatInt(n, 10)
}

// A temporary password (as `gobdatos dev` and `user reset-password` give)
// is changed before anything else.
func TestTemporaryPassword(t *testing.T) {
	t.Parallel()
	env := browsertest.New(t)
	u := env.User(t, "dora", account.Admin, nil)
	require.NoError(t, account.NewStore(env.Pool).SetPassword(t.Context(), u.ID, "temporal-12345", true))

	b := env.Browser(t)
	require.Equal(t, 200, b.SignIn("dora", "temporal-12345"))
	require.Equal(t, "/cuenta", b.Path())
	require.Contains(t, b.Text("#mensaje"), "Su contraseña es temporal")
	b.Open("/usuarios")
	require.Equal(t, "/cuenta", b.Path(), "nothing else until it is changed")

	b.Fill("#current", "temporal-12345")
	b.Fill("#password", "dora-definitiva-1")
	b.Fill("#password_confirm", "dora-definitiva-1")
	require.Equal(t, 200, b.Click("#cambiar-contrasena"))
	require.Equal(t, "Su contraseña se cambió.", b.Text("#mensaje"))
	require.Equal(t, 200, b.Open("/usuarios"))
	require.Equal(t, "/usuarios", b.Path())
}
