// Package outboxtest runs a real SMTP server on a loopback port for tests
// that check the mail gobdatos sends.
package outboxtest

import (
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one message the server received.
type Mail struct {
	From    string
	To      []string
	Header  mail.Header
	Body    string
	Subject string // decoded
}

// Inbox collects received mail.
type Inbox struct {
	mu    sync.Mutex
	mails []Mail
	got   chan struct{}
}

// Mails returns a copy of what arrived so far.
func (in *Inbox) Mails() []Mail {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]Mail(nil), in.mails...)
}

// Wait blocks until n mails have arrived or the timeout passes.
func (in *Inbox) Wait(n int, timeout time.Duration) []Mail {
	deadline := time.After(timeout)
	for {
		if m := in.Mails(); len(m) >= n {
			return m
		}
		select {
		case <-in.got:
		case <-deadline:
			return in.Mails()
		}
	}
}

// SMTPServer starts an SMTP server on 127.0.0.1 and returns its SMTP_URL
// (plain, no authentication) and the inbox; it stops when the test ends.
func SMTPServer(t testing.TB, from string) (string, *Inbox) {
	t.Helper()
	in := &Inbox{got: make(chan struct{}, 1)}
	s := smtp.NewServer(backend{in})
	s.Domain = "localhost"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(l) }()
	t.Cleanup(func() { _ = s.Close() })
	return "smtp://" + l.Addr().String() + "?tls=none&from=" + from, in
}

type backend struct{ in *Inbox }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{in: b.in}, nil }

type session struct {
	in   *Inbox
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(msg.Body)
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	m := Mail{From: s.from, To: s.to, Header: msg.Header, Body: decodeBody(msg.Header, string(body)), Subject: subject}
	s.in.mu.Lock()
	s.in.mails = append(s.in.mails, m)
	s.in.mu.Unlock()
	select {
	case s.in.got <- struct{}{}:
	default:
	}
	return nil
}

func decodeBody(h mail.Header, body string) string {
	if strings.EqualFold(h.Get("Content-Transfer-Encoding"), "quoted-printable") {
		if b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body))); err == nil {
			return string(b)
		}
	}
	return body
}
