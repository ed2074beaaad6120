package portal

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// The mails the outbox writes to a folder (no SMTP server) are listed in the
// portal to those who manage users, and read back decoded.
func TestMailsPage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := setup(t, Options{MailDir: dir})
	admin, err := account.NewStore(b.pool).Create(context.Background(), account.NewUser{Login: "admin", Email: "admin@guanajuato.gob.mx",
		FullName: "Administración", Profile: account.Admin})
	require.NoError(t, err)
	reader, err := account.NewStore(b.pool).Create(context.Background(), account.NewUser{Login: "lector", Email: "lector@guanajuato.gob.mx",
		FullName: "Lectura", Profile: account.Consulta})
	require.NoError(t, err)
	adminPages, readerPages := b.signedIn(t, admin), b.signedIn(t, reader)

	_, body := adminPages.do("GET", "/correos", nil)
	require.Contains(t, body, "Todavía no se ha enviado ningún correo")

	mailer := outbox.DirMailer{Dir: dir}
	at := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	require.NoError(t, mailer.Send(context.Background(), outbox.Delivery{ID: 7, Kind: outbox.Email, Recipient: "maria@guanajuato.gob.mx",
		Subject: "Bienvenida a gobdatos — Acámbaro", Body: "Hola, María:\nDefina su contraseña en https://datos.example/contrasena/abc123 (válido 72 horas).\n",
		CreatedAt: at}))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "../fuera.eml"), []byte("Subject: secreto\n\nno"), 0o600))

	res, body := adminPages.do("GET", "/correos", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "maria@guanajuato.gob.mx")
	require.Contains(t, body, "Bienvenida a gobdatos — Acámbaro")
	require.Contains(t, body, `href="/correos">Correos</a>`, "the nav links the page")
	name := "20261126T093000-000007.eml"
	require.Contains(t, body, `href="/correos/`+name+`"`)

	res, body = adminPages.do("GET", "/correos/"+name, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, body, "Hola, María:")
	require.Contains(t, body, "https://datos.example/contrasena/abc123", "the one-time link reads whole, decoded")

	for _, tc := range []struct {
		name   string
		cl     *client
		path   string
		status int
	}{
		{"reader may not list", readerPages, "/correos", http.StatusForbidden},
		{"reader may not read", readerPages, "/correos/" + name, http.StatusForbidden},
		{"anonymous is sent to sign in", b.client(t), "/correos", http.StatusSeeOther},
		{"no such mail", adminPages, "/correos/20261126T093000-000008.eml", http.StatusNotFound},
		{"outside the folder", adminPages, "/correos/..%2Ffuera.eml", http.StatusNotFound},
		{"not a mail name", adminPages, "/correos/fuera.eml", http.StatusNotFound},
	} {
		res, body := tc.cl.do("GET", tc.path, nil)
		require.Equal(t, tc.status, res.StatusCode, tc.name)
		require.NotContains(t, body, "secreto", tc.name)
	}
	_, body = readerPages.do("GET", "/", nil)
	require.False(t, strings.Contains(body, `href="/correos"`), "the nav shows the page only to those who may see it")

	// Without a mail folder (SMTP configured) there is no page.
	plain := setup(t, Options{})
	res, _ = plain.do(t, "GET", "/correos", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}
