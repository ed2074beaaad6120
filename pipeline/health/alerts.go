package health

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
)

// Alerts says when and whom to notify.
type Alerts struct {
	// Threshold is the number of consecutive failures that raise an alert
	// (DefaultThreshold when 0).
	Threshold int
	// Webhooks receive every alert as signed JSON (see outbox.WebhookSender).
	Webhooks []string
	// BaseURL of the portal, for links in the messages; may be empty.
	BaseURL string
}

// Event is the JSON a webhook receives.
type Event struct {
	Event       string    `json:"event"` // connector.down, connector.recovered, access.down, access.recovered
	Kind        string    `json:"kind"`
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Dependencia string    `json:"dependencia"`
	Status      string    `json:"status"`
	Message     string    `json:"message"`
	Failures    int       `json:"consecutive_failures"`
	At          time.Time `json:"at"`
	CheckID     int64     `json:"check_id"`
}

// alert queues the notifications the new state calls for, in tx, so they
// are sent if and only if the result is recorded: the first time failures
// reach the threshold, and the first success after that.
func (c *Checker) alert(ctx context.Context, tx pgx.Tx, kind TargetKind, id, checkID int64, st state, res Result) error {
	var event string
	switch {
	case !res.OK() && !st.alerted && st.failures >= c.Alerts.Threshold:
		event = "down"
	case res.OK() && st.alerted:
		event = "recovered"
	default:
		return nil
	}
	table, nameCol, ownerSQL := "meta.connector", "t.name", "(SELECT email FROM meta.app_user WHERE id = t.owner_id AND active)"
	if kind == KindAccess {
		table, nameCol, ownerSQL = "meta.entity_access", "t.role_name", "NULL::text"
	}
	if _, err := tx.Exec(ctx, `UPDATE `+table+` SET alerted = $2 WHERE id = $1`, id, event == "down"); err != nil {
		return err
	}
	var name, dep string
	var owner *string
	if err := tx.QueryRow(ctx, `SELECT `+nameCol+`, d.clave, `+ownerSQL+`
		FROM `+table+` t JOIN meta.dependencia d ON d.id = t.dependencia_id WHERE t.id = $1`, id).Scan(&name, &dep, &owner); err != nil {
		return fmt.Errorf("alert target: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT lower(email) FROM meta.app_user
		WHERE active AND (profile IN ('superadmin', 'admin') OR lower(email) = lower($1)) ORDER BY 1`, owner)
	if err != nil {
		return fmt.Errorf("alert recipients: %w", err)
	}
	recipients, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("alert recipients: %w", err)
	}
	ev := Event{Event: string(kind) + "." + event, Kind: string(kind), ID: id, Name: name, Dependencia: dep,
		Status: res.Status, Message: res.Message, Failures: st.failures, At: time.Now().UTC(), CheckID: checkID}
	subject, body := c.mailText(ev)
	key := fmt.Sprintf("health:%s:%d:%s:%d", kind, id, event, checkID)
	for _, r := range recipients {
		if _, err := outbox.Enqueue(ctx, tx, outbox.Message{Kind: outbox.Email, Recipient: r, Subject: subject, Body: body,
			DedupKey: key + ":" + r}); err != nil {
			return err
		}
	}
	for _, u := range c.Alerts.Webhooks {
		if _, err := outbox.Enqueue(ctx, tx, outbox.Message{Kind: outbox.Webhook, Recipient: u, Subject: ev.Event, Payload: ev,
			DedupKey: key + ":" + u}); err != nil {
			return err
		}
	}
	c.Logger.Info("connectivity alert queued", "event", ev.Event, "id", id, "name", name, "recipients", len(recipients), "webhooks", len(c.Alerts.Webhooks))
	return nil
}

func (c *Checker) mailText(ev Event) (subject, body string) {
	what := fmt.Sprintf("El conector «%s» de %s", ev.Name, ev.Dependencia)
	link := "/conectores"
	if ev.Kind == string(KindAccess) {
		what = fmt.Sprintf("El acceso de entidad (rol %s) de %s", ev.Name, ev.Dependencia)
		link = "/accesos"
	}
	var b strings.Builder
	if strings.HasSuffix(ev.Event, ".down") {
		subject = fmt.Sprintf("[gobdatos] Sin conexión: %s (%s)", ev.Name, ev.Dependencia)
		fmt.Fprintf(&b, "%s falló %d revisiones seguidas.\n\nÚltimo resultado: %s — %s\n", what, ev.Failures, ev.Status, ev.Message)
		b.WriteString("\nSe avisará de nuevo cuando se recupere.\n")
	} else {
		subject = fmt.Sprintf("[gobdatos] Recuperado: %s (%s)", ev.Name, ev.Dependencia)
		fmt.Fprintf(&b, "%s responde de nuevo.\n\nÚltimo resultado: %s — %s\n", what, ev.Status, ev.Message)
	}
	fmt.Fprintf(&b, "Hora (UTC): %s\n", ev.At.Format("2006-01-02 15:04:05"))
	if c.Alerts.BaseURL != "" {
		fmt.Fprintf(&b, "\nDetalle: %s%s\n", strings.TrimRight(c.Alerts.BaseURL, "/"), link)
	}
	return subject, b.String()
}
