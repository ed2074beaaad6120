package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// WebhookSender POSTs the payload as JSON, signed so the receiver can tell it
// came from us:
//
//	X-Gobdatos-Delivery:  the outbox id (stable across retries; drop repeats)
//	X-Gobdatos-Timestamp: Unix seconds
//	X-Gobdatos-Signature: sha256=hex(HMAC-SHA256(secret, timestamp + "." + body))
//
// where secret is WebhookSecret(key, url): one per target URL, derived from
// the server's secret key, so nothing secret is stored with the message.
type WebhookSender struct {
	Key    []byte
	Client *retryablehttp.Client
}

// NewWebhookSender returns a sender that retries briefly within one attempt
// (the outbox retries for longer).
func NewWebhookSender(key []byte, logger *slog.Logger) *WebhookSender {
	c := retryablehttp.NewClient()
	c.RetryMax = 2
	c.RetryWaitMin = 500 * time.Millisecond
	c.RetryWaitMax = 3 * time.Second
	c.HTTPClient.Timeout = 20 * time.Second
	c.Logger = nil
	if logger != nil {
		c.Logger = logger
	}
	return &WebhookSender{Key: key, Client: c}
}

// WebhookSecret is the signing secret of a target URL, shown to the
// administrator who registers the webhook.
func WebhookSecret(key []byte, url string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("gobdatos-webhook:" + url))
	return hex.EncodeToString(mac.Sum(nil))
}

// Sign returns the X-Gobdatos-Signature value for body at timestamp ts.
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Send posts one webhook. 2xx is success; 4xx other than 408 and 429 is a
// permanent failure; anything else is retried later.
func (w *WebhookSender) Send(ctx context.Context, d Delivery) error {
	body := d.Payload
	if len(body) == 0 {
		body = []byte("{}")
	}
	ts := time.Now().Unix()
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, d.Recipient, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: webhook %q: %v", ErrPermanent, d.Recipient, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gobdatos-webhook/1")
	req.Header.Set("X-Gobdatos-Delivery", strconv.FormatInt(d.ID, 10))
	req.Header.Set("X-Gobdatos-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Gobdatos-Signature", Sign(WebhookSecret(w.Key, d.Recipient), ts, body))
	res, err := w.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", d.Recipient, err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode >= 400 && res.StatusCode < 500 && res.StatusCode != 408 && res.StatusCode != 429:
		return fmt.Errorf("%w: webhook %s answered %s", ErrPermanent, d.Recipient, res.Status)
	}
	return fmt.Errorf("webhook %s answered %s", d.Recipient, res.Status)
}
