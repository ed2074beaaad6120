package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/pipeline"
	"github.com/dgtit-gto/gobdatos/pipeline/outbox"
)

// Loads runs the scheduled loads of connectors (load_cron): the pipeline
// reads the connector's source into its target catalog, within the
// connector's load_timeout. Runs of one catalog never overlap (the
// pipeline's lock per catalog); a run that does not succeed — rejected,
// failed, or stopped at its timeout — is reported to the connector's owner
// and the stewards, once.
type Loads struct {
	Loader     *pipeline.Loader
	Catalogs   *catalog.Store
	Connectors *registry.Store
	Alerts     Alerts
	Logger     *slog.Logger
}

// Run loads connector id's target catalog now.
func (l *Loads) Run(ctx context.Context, id int64) (*pipeline.Run, error) {
	conn, err := l.Connectors.Get(ctx, id)
	if errors.Is(err, registry.ErrNotFound) {
		return nil, ErrSkipped
	}
	if err != nil {
		return nil, err
	}
	if conn.TargetCatalog == "" {
		return nil, fmt.Errorf("health: connector %d has no target catalog", id)
	}
	cat, err := l.Catalogs.ByClave(ctx, conn.TargetCatalog)
	if err != nil {
		return nil, l.reportProblem(ctx, conn, 0, fmt.Sprintf("el catálogo destino «%s» no existe", conn.TargetCatalog), err)
	}
	cred, err := l.Connectors.Secret(ctx, id)
	if err != nil {
		return nil, l.reportProblem(ctx, conn, 0, "no se pudieron descifrar las credenciales del conector", err)
	}
	src, err := conn.Source(cred)
	if err != nil {
		return nil, l.reportProblem(ctx, conn, 0, err.Error(), err)
	}
	var opt connectors.Options
	if len(conn.Options) > 0 {
		_ = json.Unmarshal(conn.Options, &opt) // validated when the connector was saved
	}
	rowBase := int64(2) // files and HTTP bodies have a header row
	if conn.Kind == "postgres" || conn.Kind == "mysql" {
		rowBase = 1
	}
	lctx, cancel := context.WithTimeout(ctx, conn.LoadTimeout.Duration())
	defer cancel()
	run, err := l.Loader.Run(lctx, pipeline.Request{
		Catalog: cat, Trigger: pipeline.Schedule, Actor: catalog.System(), RowBase: rowBase,
		Source: fmt.Sprintf("conector %d «%s» (%s)", conn.ID, conn.Name, conn.Kind),
		Open:   func(ctx context.Context) (pipeline.Stream, error) { return src.Open(ctx, opt) },
	})
	if err != nil {
		return nil, fmt.Errorf("health: scheduled load of connector %d: %w", id, err)
	}
	if run.State == pipeline.Succeeded {
		return run, nil
	}
	why := run.Error
	if errors.Is(lctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		why = fmt.Sprintf("la carga excedió su tiempo límite (%s) y se detuvo; el catálogo publicado no cambió", conn.LoadTimeout.Duration())
	} else if run.State == pipeline.Rejected {
		why = "los datos no pasaron la validación; el reporte de la carga dice qué filas y columnas"
	}
	if ctx.Err() != nil {
		return run, nil // the process is stopping: not the source's fault
	}
	return run, l.reportProblem(ctx, conn, run.ID, why, nil)
}

// reportProblem queues one mail to the owner and the stewards (and the
// alert webhooks) about a scheduled load that did not succeed; cause, when
// not nil, is returned for the log.
func (l *Loads) reportProblem(ctx context.Context, conn registry.Connector, runID int64, why string, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := pgdb.WithTx(ctx, l.Connectors.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT lower(email) FROM meta.app_user
			WHERE active AND (profile IN ('superadmin', 'admin') OR id = $1) ORDER BY 1`, conn.OwnerID)
		if err != nil {
			return err
		}
		recipients, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		subject := fmt.Sprintf("[gobdatos] Carga programada sin éxito: %s (%s)", conn.TargetCatalog, conn.Dependencia)
		var b strings.Builder
		fmt.Fprintf(&b, "La carga programada del catálogo %s desde el conector «%s» de %s no se publicó.\n\nMotivo: %s\n",
			conn.TargetCatalog, conn.Name, conn.Dependencia, why)
		if runID != 0 {
			fmt.Fprintf(&b, "Carga número %d.\n", runID)
		}
		if l.Alerts.BaseURL != "" && runID != 0 {
			fmt.Fprintf(&b, "\nDetalle: %s/api/v1/loads/%d\n", strings.TrimRight(l.Alerts.BaseURL, "/"), runID)
		}
		key := fmt.Sprintf("load:%d:%d", conn.ID, runID)
		if runID == 0 {
			key = fmt.Sprintf("load:%d:%s", conn.ID, time.Now().UTC().Format(time.RFC3339))
		}
		for _, r := range recipients {
			if _, err := outbox.Enqueue(ctx, tx, outbox.Message{Kind: outbox.Email, Recipient: r, Subject: subject,
				Body: b.String(), DedupKey: key + ":" + r}); err != nil {
				return err
			}
		}
		payload := map[string]any{"event": "load.failed", "connector": conn.ID, "name": conn.Name, "dependencia": conn.Dependencia,
			"catalog": conn.TargetCatalog, "run": runID, "message": why}
		for _, u := range l.Alerts.Webhooks {
			if _, err := outbox.Enqueue(ctx, tx, outbox.Message{Kind: outbox.Webhook, Recipient: u, Subject: "load.failed",
				Payload: payload, DedupKey: key + ":" + u}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("health: report load of connector %d: %w", conn.ID, err)
	}
	if cause != nil {
		return fmt.Errorf("health: scheduled load of connector %d: %s: %w", conn.ID, why, cause)
	}
	return nil
}
