package outbox

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// messageID is stable per outbox row, so a mail sent twice after a crash can
// be recognised as the same message.
func messageID(d Delivery) string {
	return fmt.Sprintf("outbox-%d.%d@gobdatos", d.ID, d.CreatedAt.Unix())
}

func buildMail(from string, d Delivery) (*gomail.Msg, error) {
	m := gomail.NewMsg()
	if err := m.From(from); err != nil {
		return nil, fmt.Errorf("%w: remitente %q inválido: %v", ErrPermanent, from, err)
	}
	if _, err := mail.ParseAddress(d.Recipient); err != nil {
		return nil, fmt.Errorf("%w: destinatario %q inválido: %v", ErrPermanent, d.Recipient, err)
	}
	if err := m.To(d.Recipient); err != nil {
		return nil, fmt.Errorf("%w: destinatario %q inválido: %v", ErrPermanent, d.Recipient, err)
	}
	m.Subject(d.Subject)
	m.SetMessageIDWithValue(messageID(d))
	m.SetDateWithValue(d.CreatedAt)
	m.SetBodyString(gomail.TypeTextPlain, d.Body)
	return m, nil
}

// SMTPMailer sends mail through the server of an SMTP_URL:
// smtp://user:pass@host:587?from=datos@example.mx (STARTTLS when offered,
// required when the URL has tls=required), smtps:// for implicit TLS.
type SMTPMailer struct {
	host, user, pass, from string
	port                   int
	ssl                    bool
	tls                    gomail.TLSPolicy
}

// NewSMTPMailer parses an SMTP_URL.
func NewSMTPMailer(raw string) (*SMTPMailer, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("SMTP_URL no es una URL válida")
	}
	m := &SMTPMailer{host: u.Hostname(), from: u.Query().Get("from"), tls: gomail.TLSOpportunistic}
	switch u.Scheme {
	case "smtp":
		m.port = 587
	case "smtps":
		m.port, m.ssl = 465, true
	default:
		return nil, fmt.Errorf("SMTP_URL: esquema %q no soportado (use smtp:// o smtps://)", u.Scheme)
	}
	if m.host == "" {
		return nil, errors.New("SMTP_URL: falta el servidor")
	}
	if p := u.Port(); p != "" {
		if m.port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("SMTP_URL: puerto %q inválido", p)
		}
	}
	switch u.Query().Get("tls") {
	case "required":
		m.tls = gomail.TLSMandatory
	case "none":
		m.tls = gomail.NoTLS
	}
	if m.from == "" {
		return nil, errors.New("SMTP_URL: falta el remitente (?from=datos@…)")
	}
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	return m, nil
}

// Send delivers one mail.
func (s *SMTPMailer) Send(ctx context.Context, d Delivery) error {
	msg, err := buildMail(s.from, d)
	if err != nil {
		return err
	}
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(20 * time.Second), gomail.WithTLSPortPolicy(s.tls)}
	if s.ssl {
		opts = append(opts, gomail.WithSSLPort(false))
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("smtp %s:%d: %w", s.host, s.port, err)
	}
	return nil
}

// DirMailer writes each mail as an .eml file into a folder instead of
// sending it: what `gobdatos dev` does, so mails can be read without a server.
type DirMailer struct {
	Dir  string
	From string
}

// Send writes the mail to Dir/<time>-<id>.eml.
func (s DirMailer) Send(_ context.Context, d Delivery) error {
	from := s.From
	if from == "" {
		from = "gobdatos@localhost"
	}
	msg, err := buildMail(from, d)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	name := filepath.Join(s.Dir, fmt.Sprintf("%s-%06d.eml", d.CreatedAt.UTC().Format("20060102T150405"), d.ID))
	tmp := name + ".tmp"
	if err := msg.WriteToFile(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
