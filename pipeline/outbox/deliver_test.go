package outbox_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox/outboxtest"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func enqueue(t *testing.T, pool *pgxpool.Pool, m outbox.Message) {
	t.Helper()
	ok, err := outbox.Enqueue(context.Background(), pool, m)
	require.NoError(t, err)
	require.True(t, ok)
}

type row struct {
	Attempts  int
	Delivered bool
	Abandoned bool
	LastError string
	Due       bool
}

func state(t *testing.T, pool *pgxpool.Pool) []row {
	t.Helper()
	rows, err := pool.Query(context.Background(), `
		SELECT attempts, delivered_at IS NOT NULL, abandoned_at IS NOT NULL, last_error, available_at <= now()
		FROM meta.outbox ORDER BY id`)
	require.NoError(t, err)
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		require.NoError(t, rows.Scan(&r.Attempts, &r.Delivered, &r.Abandoned, &r.LastError, &r.Due))
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

func makeDue(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `UPDATE meta.outbox SET available_at = now()`)
	require.NoError(t, err)
}

func TestMailThroughSMTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	url, inbox := outboxtest.SMTPServer(t, "datos@guanajuato.gob.mx")
	mailer, err := outbox.NewSMTPMailer(url)
	require.NoError(t, err)
	enqueue(t, pool, outbox.Message{Kind: outbox.Email, Recipient: "ana@guanajuato.gob.mx",
		Subject: "Conector caído: Catálogo de municipios", Body: "El conector «SSG» falló 3 veces.\nRevíselo, por favor."})

	d := &outbox.Deliverer{DB: pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Email: mailer}}
	res, err := d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Sent: 1}, res)

	mails := inbox.Wait(1, 5*time.Second)
	require.Len(t, mails, 1)
	require.Equal(t, "Conector caído: Catálogo de municipios", mails[0].Subject)
	require.Contains(t, mails[0].Body, "El conector «SSG» falló 3 veces.")
	require.Equal(t, []string{"ana@guanajuato.gob.mx"}, mails[0].To)
	require.Contains(t, mails[0].Header.Get("Message-Id"), "outbox-1.")
	require.Equal(t, []row{{Attempts: 1, Delivered: true, Due: true}}, state(t, pool))

	res, err = d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Zero(t, res, "a delivered message is not sent again")
}

// The SMTP server is down: the message waits with backoff and goes out once
// the server is back.
func TestMailRetriedWhenServerDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := l.Addr().String()
	l.Close()
	down, err := outbox.NewSMTPMailer("smtp://" + closedAddr + "?tls=none&from=datos@x.mx")
	require.NoError(t, err)
	enqueue(t, pool, outbox.Message{Kind: outbox.Email, Recipient: "a@x.mx", Subject: "Hola", Body: "x"})

	d := &outbox.Deliverer{DB: pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Email: down}}
	res, err := d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Retried: 1}, res)
	st := state(t, pool)
	require.Equal(t, 1, st[0].Attempts)
	require.False(t, st[0].Due, "the retry waits")
	require.Contains(t, st[0].LastError, "refused")

	res, err = d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Zero(t, res, "not due yet")

	url, inbox := outboxtest.SMTPServer(t, "datos@x.mx")
	up, err := outbox.NewSMTPMailer(url)
	require.NoError(t, err)
	d.Senders[outbox.Email] = up
	makeDue(t, pool)
	res, err = d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Sent: 1}, res)
	require.Len(t, inbox.Wait(1, 5*time.Second), 1)
}

func TestDirMailer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	dir := t.TempDir()
	enqueue(t, pool, outbox.Message{Kind: outbox.Email, Recipient: "a@x.mx", Subject: "Bienvenida a gobdatos", Body: "Hola, María"})
	d := &outbox.Deliverer{DB: pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Email: outbox.DirMailer{Dir: dir}}}
	res, err := d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	b, err := os.ReadFile(files[0])
	require.NoError(t, err)
	require.Contains(t, string(b), "To: <a@x.mx>")
}

type hook struct {
	mu       sync.Mutex
	received map[string]int
	statuses []int // answers in order; then 200
	calls    atomic.Int32
	badSig   atomic.Int32
	url      string
}

func newHook(t *testing.T, statuses ...int) *hook {
	h := &hook{received: map[string]int{}, statuses: statuses}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(h.calls.Add(1))
		body, _ := io.ReadAll(r.Body)
		ts, _ := strconv.ParseInt(r.Header.Get("X-Gobdatos-Timestamp"), 10, 64)
		if outbox.Sign(outbox.WebhookSecret(key, h.url), ts, body) != r.Header.Get("X-Gobdatos-Signature") {
			h.badSig.Add(1)
		}
		if n <= len(h.statuses) {
			w.WriteHeader(h.statuses[n-1])
			return
		}
		h.mu.Lock()
		h.received[r.Header.Get("X-Gobdatos-Delivery")]++
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/alertas"
	return h
}

func TestWebhookSignedAndRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	// 500 three times: the sender's own short retries give up, the outbox retries later.
	h := newHook(t, 500, 500, 500)
	enqueue(t, pool, outbox.Message{Kind: outbox.Webhook, Recipient: h.url, Payload: map[string]any{"evento": "conector.caido", "id": 7}})
	d := &outbox.Deliverer{DB: pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Webhook: outbox.NewWebhookSender(key, nil)}}
	res, err := d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Retried: 1}, res)
	makeDue(t, pool)
	res, err = d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Sent: 1}, res)
	require.Equal(t, map[string]int{"1": 1}, h.received)
	require.Zero(t, h.badSig.Load(), "every request is signed with the URL's secret")
}

func TestWebhook4xxIsPermanent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	h := newHook(t, 404)
	enqueue(t, pool, outbox.Message{Kind: outbox.Webhook, Recipient: h.url, Payload: map[string]int{"a": 1}})
	d := &outbox.Deliverer{DB: pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Webhook: outbox.NewWebhookSender(key, nil)}}
	res, err := d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Abandoned: 1}, res)
	require.EqualValues(t, 1, h.calls.Load(), "4xx is not retried")
	st := state(t, pool)
	require.True(t, st[0].Abandoned)
	require.Contains(t, st[0].LastError, "404")
}

func TestAbandonAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	h := newHook(t, 503, 503, 503, 503, 503, 503, 503, 503, 503)
	enqueue(t, pool, outbox.Message{Kind: outbox.Webhook, Recipient: h.url})
	d := &outbox.Deliverer{DB: pool, MaxAttempts: 2, Senders: map[outbox.Kind]outbox.Sender{outbox.Webhook: outbox.NewWebhookSender(key, nil)}}
	res, err := d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Retried: 1}, res)
	makeDue(t, pool)
	res, err = d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Abandoned: 1}, res)
}

// Two deliverers working the same queue never send a message twice.
func TestConcurrentDeliverersSendOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	h := newHook(t)
	const n = 40
	for i := range n {
		enqueue(t, pool, outbox.Message{Kind: outbox.Webhook, Recipient: h.url, Payload: map[string]int{"i": i}})
	}
	var wg sync.WaitGroup
	var sent atomic.Int32
	for range 3 {
		wg.Go(func() {
			d := &outbox.Deliverer{DB: pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Webhook: outbox.NewWebhookSender(key, nil)}}
			res, err := d.DeliverDue(ctx)
			require.NoError(t, err)
			sent.Add(int32(res.Sent))
		})
	}
	wg.Wait()
	require.EqualValues(t, n, sent.Load())
	require.Len(t, h.received, n)
	for id, c := range h.received {
		require.Equal(t, 1, c, "message %s", id)
	}
}

// The process dies while a message is being sent (its connection drops): the
// message stays pending and is delivered later, with the same delivery id.
func TestCrashMidSendLeavesMessagePending(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := pgtest.NewURL(t)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	defer pool.Close()
	enqueue(t, pool, outbox.Message{Kind: outbox.Webhook, Recipient: "http://example.invalid/x"})

	dying, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	crash := senderFunc(func(ctx context.Context, d outbox.Delivery) error {
		// kill every other session (the deliverer's) as a crash would
		_, err := pool.Exec(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> 'survivor'`)
		return err
	})
	_, err = pool.Exec(ctx, `SET application_name = 'survivor'`)
	require.NoError(t, err)
	d := &outbox.Deliverer{DB: dying, Senders: map[outbox.Kind]outbox.Sender{outbox.Webhook: crash}}
	_, err = d.DeliverDue(ctx)
	require.Error(t, err)
	dying.Close()

	var got []int64
	ok := senderFunc(func(_ context.Context, d outbox.Delivery) error { got = append(got, d.ID); return nil })
	d2 := &outbox.Deliverer{DB: pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Webhook: ok}}
	res, err := d2.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, res.Sent)
	require.Equal(t, []int64{1}, got)
}

type senderFunc func(ctx context.Context, d outbox.Delivery) error

func (f senderFunc) Send(ctx context.Context, d outbox.Delivery) error { return f(ctx, d) }

func TestNewSMTPMailer(t *testing.T) {
	t.Parallel()
	for in, bad := range map[string]bool{
		"smtp://u:p@mail.x.mx:25?from=datos@x.mx": false,
		"smtps://mail.x.mx?from=datos@x.mx":       false,
		"smtp://mail.x.mx":                        true, // no from
		"http://mail.x.mx?from=a@b.mx":            true,
		"smtp://:25?from=a@b.mx":                  true,
		"smtp://mail.x.mx:abc?from=a@b.mx":        true,
	} {
		_, err := outbox.NewSMTPMailer(in)
		require.Equal(t, bad, err != nil, in)
	}
}
