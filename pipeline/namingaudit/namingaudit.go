// Package namingaudit is the nightly nomenclature audit: every table of the
// catalogs' schema — registered in the catalog or not — is read from
// PostgreSQL's own catalogs and linted with the DAID rules. Findings are
// kept in meta.nomenclature_finding; the new ones are reported to the
// stewards (mail, and the alert webhooks) in the same transaction that
// records them, so each is reported once; the ones gone are marked resolved.
package namingaudit

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature/introspect"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
)

// DefaultCron is when the audit runs: every night at 02:00 (America/Mexico_City).
const DefaultCron = "0 2 * * *"

// Auditor runs the audit.
type Auditor struct {
	DB    *pgxpool.Pool
	Rules *nomenclature.Rules
	// Webhooks receive a "nomenclature.findings" event with the new findings.
	Webhooks []string
	BaseURL  string
	Logger   *slog.Logger
}

// Finding is a finding on a live table.
type Finding struct {
	Table string `json:"table"` // schema.name
	nomenclature.Finding
}

// Result is what one run found.
type Result struct {
	Tables   int       `json:"tables"`
	Open     int       `json:"open"`
	New      []Finding `json:"new"`
	Resolved int64     `json:"resolved"`
}

// Run audits every table now.
func (a *Auditor) Run(ctx context.Context) (Result, error) {
	schema := a.Rules.Schema
	tables, err := introspect.List(ctx, a.DB, schema)
	if err != nil {
		return Result{}, fmt.Errorf("namingaudit: %w", err)
	}
	res := Result{Tables: len(tables)}
	err = pgdb.WithTx(ctx, a.DB, func(tx pgx.Tx) error {
		var start time.Time
		if err := tx.QueryRow(ctx, `SELECT now()`).Scan(&start); err != nil {
			return err
		}
		for _, t := range tables {
			for _, f := range a.Rules.CheckTable(t).Findings {
				var inserted bool
				err := tx.QueryRow(ctx, `
					INSERT INTO meta.nomenclature_finding (table_schema, table_name, rule, object, severity, message, suggestion)
					VALUES ($1, $2, $3, $4, $5, $6, $7)
					ON CONFLICT (table_schema, table_name, rule, object) WHERE resolved_at IS NULL
					DO UPDATE SET last_seen = now(), severity = excluded.severity, message = excluded.message, suggestion = excluded.suggestion
					RETURNING xmax = 0`,
					t.Schema, t.Name, f.Rule, f.Object, string(f.Severity), f.Message, f.Suggestion).Scan(&inserted)
				if err != nil {
					return fmt.Errorf("record finding on %s.%s: %w", t.Schema, t.Name, err)
				}
				res.Open++
				if inserted {
					res.New = append(res.New, Finding{Table: t.Schema + "." + t.Name, Finding: f})
				}
			}
		}
		// now() is the transaction's start: findings not seen in this run are gone.
		tag, err := tx.Exec(ctx, `UPDATE meta.nomenclature_finding SET resolved_at = now()
			WHERE resolved_at IS NULL AND table_schema = $1 AND last_seen < $2`, schema, start)
		if err != nil {
			return err
		}
		res.Resolved = tag.RowsAffected()
		if len(res.New) == 0 {
			return nil
		}
		return a.report(ctx, tx, start, res)
	})
	if err != nil {
		return Result{}, fmt.Errorf("namingaudit: %w", err)
	}
	a.logger().Info("nomenclature audit", "tables", res.Tables, "open", res.Open, "new", len(res.New), "resolved", res.Resolved)
	return res, nil
}

func (a *Auditor) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.Default()
	}
	return a.Logger
}

// maxListed caps the findings a mail lists; the count stays exact.
const maxListed = 200

func (a *Auditor) report(ctx context.Context, tx pgx.Tx, at time.Time, res Result) error {
	rows, err := tx.Query(ctx, `SELECT DISTINCT lower(email) FROM meta.app_user
		WHERE active AND profile IN ('superadmin', 'admin') ORDER BY 1`)
	if err != nil {
		return err
	}
	recipients, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "La auditoría de nomenclatura revisó %d tablas del esquema %s y encontró %d hallazgos nuevos:\n\n",
		res.Tables, a.Rules.Schema, len(res.New))
	for i, f := range res.New {
		if i == maxListed {
			fmt.Fprintf(&b, "… y %d más.\n", len(res.New)-maxListed)
			break
		}
		fmt.Fprintf(&b, "- %s · %s [%s, %s]: %s", f.Table, f.Object, f.Rule, f.Severity.Label(), f.Message)
		if f.Suggestion != "" {
			fmt.Fprintf(&b, " Sugerencia: %s", f.Suggestion)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nHallazgos abiertos en total: %d. Corregidos desde la auditoría anterior: %d.\n", res.Open, res.Resolved)
	if a.BaseURL != "" {
		fmt.Fprintf(&b, "\nReglas: %s/api/v1/nomenclature/rules\n", strings.TrimRight(a.BaseURL, "/"))
	}
	subject := fmt.Sprintf("[gobdatos] Auditoría de nomenclatura: %d hallazgos nuevos", len(res.New))
	key := "nomenclature-audit:" + at.UTC().Format(time.RFC3339Nano)
	for _, r := range recipients {
		if _, err := outbox.Enqueue(ctx, tx, outbox.Message{Kind: outbox.Email, Recipient: r, Subject: subject,
			Body: b.String(), DedupKey: key + ":" + r}); err != nil {
			return err
		}
	}
	payload := map[string]any{"event": "nomenclature.findings", "at": at.UTC(), "tables": res.Tables,
		"open": res.Open, "resolved": res.Resolved, "new": res.New}
	for _, u := range a.Webhooks {
		if _, err := outbox.Enqueue(ctx, tx, outbox.Message{Kind: outbox.Webhook, Recipient: u, Subject: "nomenclature.findings",
			Payload: payload, DedupKey: key + ":" + u}); err != nil {
			return err
		}
	}
	return nil
}
