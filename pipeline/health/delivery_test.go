package health_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/pipeline/health"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox/outboxtest"
)

// An alert raised while the mail server and the webhook receiver are down
// is delivered when they come back — each mail and the webhook exactly once,
// signed.
func TestAlertDeliveredAfterTargetsComeBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var hookUp atomic.Bool
	var mu sync.Mutex
	var hooks []*http.Request
	var bodies [][]byte
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hookUp.Load() {
			http.Error(w, "mantenimiento", http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks, bodies = append(hooks, r), append(bodies, b)
		mu.Unlock()
	}))
	defer receiver.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()

	b := setup(t, nil)
	b.checker = health.NewChecker(health.Checker{DB: b.pool, Connectors: b.reg, Access: b.acc, Probe: health.SourceProbe,
		Alerts: health.Alerts{Webhooks: []string{receiver.URL + "/alertas"}}}, 2)
	c := b.httpConnector(t, dead.URL+"/datos.json", true)
	for range 3 {
		_, err := b.checker.Connector(ctx, c.ID, true)
		require.NoError(t, err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedSMTP := l.Addr().String()
	l.Close()
	downMailer, err := outbox.NewSMTPMailer("smtp://" + closedSMTP + "?tls=none&from=datos@guanajuato.gob.mx")
	require.NoError(t, err)
	key := []byte(strings.Repeat("w", 32))
	hooksSender := outbox.NewWebhookSender(key, nil)
	hooksSender.Client.RetryMax = 0
	d := &outbox.Deliverer{DB: b.pool, Senders: map[outbox.Kind]outbox.Sender{outbox.Email: downMailer, outbox.Webhook: hooksSender}}
	res, err := d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Retried: 4}, res, "three mails and the webhook wait for a retry")

	url, inbox := outboxtest.SMTPServer(t, "datos@guanajuato.gob.mx")
	upMailer, err := outbox.NewSMTPMailer(url)
	require.NoError(t, err)
	d.Senders[outbox.Email] = upMailer
	hookUp.Store(true)
	_, err = b.pool.Exec(ctx, `UPDATE meta.outbox SET available_at = now()`)
	require.NoError(t, err)
	res, err = d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Equal(t, outbox.Result{Sent: 4}, res)
	res, err = d.DeliverDue(ctx)
	require.NoError(t, err)
	require.Zero(t, res, "nothing is sent twice")

	mails := inbox.Wait(3, 5*time.Second)
	require.Len(t, mails, 3)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, hooks, 1)
	sig := hooks[0].Header.Get("X-Gobdatos-Signature")
	ts := hooks[0].Header.Get("X-Gobdatos-Timestamp")
	var tsN int64
	require.NoError(t, json.Unmarshal([]byte(ts), &tsN))
	require.Equal(t, outbox.Sign(outbox.WebhookSecret(key, receiver.URL+"/alertas"), tsN, bodies[0]), sig)
	var ev health.Event
	require.NoError(t, json.Unmarshal(bodies[0], &ev))
	require.Equal(t, "connector.down", ev.Event)
	require.Equal(t, health.StatusRefused, ev.Status)
	require.Equal(t, 3, ev.Failures)
}
