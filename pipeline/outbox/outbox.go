// Package outbox queues outgoing messages (e-mail, webhooks) in
// meta.outbox, in the same transaction as the change that causes them, so a
// message is sent if and only if the change commits. Delivery, with retries,
// is a scheduled job.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Kind is how a message travels.
type Kind string

// The kinds of message.
const (
	Email   Kind = "email"
	Webhook Kind = "webhook"
)

// Message is one outgoing message.
type Message struct {
	Kind      Kind
	Recipient string // an e-mail address or a URL
	Subject   string
	Body      string
	Payload   any // JSON for webhooks
	// DedupKey, when set, makes Enqueue idempotent: a second message with
	// the same key is dropped.
	DedupKey string
	// NotBefore delays delivery.
	NotBefore time.Time
}

// Enqueue writes m to the outbox on db (pass the transaction of the change).
// It reports false when a message with the same DedupKey already exists.
func Enqueue(ctx context.Context, db pgdb.DBTX, m Message) (bool, error) {
	payload := []byte("{}")
	if m.Payload != nil {
		b, err := json.Marshal(m.Payload)
		if err != nil {
			return false, fmt.Errorf("outbox: payload: %w", err)
		}
		payload = b
	}
	var dedup *string
	if m.DedupKey != "" {
		dedup = &m.DedupKey
	}
	var notBefore *time.Time
	if !m.NotBefore.IsZero() {
		notBefore = &m.NotBefore
	}
	tag, err := db.Exec(ctx, `
		INSERT INTO meta.outbox (kind, recipient, subject, body, payload, dedup_key, available_at)
		VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, now()))
		ON CONFLICT (dedup_key) DO NOTHING`,
		m.Kind, m.Recipient, m.Subject, m.Body, payload, dedup, notBefore)
	if err != nil {
		return false, fmt.Errorf("outbox: enqueue %s to %s: %w", m.Kind, m.Recipient, err)
	}
	return tag.RowsAffected() == 1, nil
}
