package portal

import (
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

// The mails page lists what the outbox wrote to the mail folder when no SMTP
// server is configured (what `gobdatos dev` does), so that a developer or a
// tester reads the welcome links, alerts and replies without a mail server.
// It is served only when Options.MailDir is set, and only to those who manage
// users: the mails carry one-time links.

// mailName is the only shape of file the page opens (outbox.DirMailer's
// names), so a request can never reach outside the folder.
var mailName = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}-[0-9]{6,}\.eml$`)

type mailSummary struct {
	Name    string
	Date    time.Time
	From    string
	To      string
	Subject string
}

type mailMessage struct {
	mailSummary
	Body string
}

func (s *Server) bindMails() {
	if s.opts.MailDir == "" {
		return
	}
	guard := s.requirePermission(account.ManageUsers)
	s.echo.GET("/correos", s.mailsPage, guard)
	s.echo.GET("/correos/:name", s.mailPage, guard)
}

func (s *Server) mailsPage(c *echo.Context) error {
	entries, err := os.ReadDir(s.opts.MailDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("portal: mail folder: %w", err)
	}
	var list []mailSummary
	for _, e := range entries {
		if e.IsDir() || !mailName.MatchString(e.Name()) {
			continue
		}
		m, err := readMail(filepath.Join(s.opts.MailDir, e.Name()), false)
		if err != nil {
			list = append(list, mailSummary{Name: e.Name(), Subject: "(no se pudo leer: " + err.Error() + ")"})
			continue
		}
		list = append(list, m.mailSummary)
	}
	slices.SortFunc(list, func(a, b mailSummary) int { return cmp.Compare(b.Name, a.Name) })
	return s.render(c, http.StatusOK, "correos.html", struct {
		Dir   string
		Mails []mailSummary
	}{s.opts.MailDir, list})
}

func (s *Server) mailPage(c *echo.Context) error {
	name := c.Param("name")
	if !mailName.MatchString(name) {
		return &Problem{Status: http.StatusNotFound, Detail: "no existe ese correo"}
	}
	m, err := readMail(filepath.Join(s.opts.MailDir, name), true)
	if errors.Is(err, fs.ErrNotExist) {
		return &Problem{Status: http.StatusNotFound, Detail: "no existe ese correo"}
	}
	if err != nil {
		return fmt.Errorf("portal: mail %s: %w", name, err)
	}
	return s.render(c, http.StatusOK, "correo.html", m)
}

// readMail reads a message's headers and, when body is set, its plain-text
// part (decoded), or its HTML part when it has no plain one.
func readMail(path string, body bool) (*mailMessage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		return nil, err
	}
	dec := new(mime.WordDecoder)
	header := func(k string) string {
		v := msg.Header.Get(k)
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	m := &mailMessage{mailSummary: mailSummary{Name: filepath.Base(path), From: header("From"), To: header("To"), Subject: header("Subject")}}
	m.Date, _ = msg.Header.Date()
	if !body {
		return m, nil
	}
	text, err := textPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return nil, err
	}
	m.Body = text
	return m, nil
}

func textPart(contentType, encoding string, r io.Reader) (string, error) {
	media, params, err := mime.ParseMediaType(cmp.Or(contentType, "text/plain"))
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(r, params["boundary"])
		var fallback string
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				return fallback, nil
			}
			if err != nil {
				return "", err
			}
			text, err := textPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if err != nil {
				return "", err
			}
			pm, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
			if pm == "text/plain" || strings.HasPrefix(pm, "multipart/") && text != "" {
				return text, nil
			}
			if fallback == "" {
				fallback = text
			}
		}
	}
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return "", err
	}
	if strings.EqualFold(encoding, "base64") {
		b, err = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(b)), ""))
		if err != nil {
			return "", err
		}
	}
	return string(b), nil
}
