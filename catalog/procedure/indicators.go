package procedure

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// IndicatorValue is one indicator computed now.
type IndicatorValue struct {
	ID        string `json:"id"`
	Name      string `json:"nombre"`
	Procedure string `json:"procedimiento"`
	Kind      string `json:"tipo"`
	// Value is the headline figure, Detail explains it; Met says whether
	// the target is met when the indicator has one.
	Value  string `json:"valor"`
	Detail string `json:"detalle"`
	Met    *bool  `json:"cumple,omitempty"`
}

// Verdict is "si" or "no" when the indicator has a target, "" otherwise.
func (v IndicatorValue) Verdict() string {
	switch {
	case v.Met == nil:
		return ""
	case *v.Met:
		return "si"
	}
	return "no"
}

// modelPeriod is how long a published model stays current (yearly review,
// activity 8 of AAM-1.2).
const modelPeriod = 365 * 24 * time.Hour

// Indicators computes every indicator of every loaded procedure at now.
// An indicator shared by several procedures (same kind and name) is
// computed once.
func (e *Engine) Indicators(ctx context.Context, now time.Time) ([]IndicatorValue, error) {
	var out []IndicatorValue
	seen := map[string]bool{}
	for _, d := range e.registry.All() {
		for _, in := range d.Indicators {
			key := in.Kind + "\x00" + in.Name
			if in.Kind == "time_vs_estimate" {
				key += d.Short
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			v := IndicatorValue{ID: d.Short + "." + in.ID, Name: in.Name, Procedure: d.Short, Kind: in.Kind}
			var err error
			switch in.Kind {
			case "model_current":
				err = e.modelCurrent(ctx, now, &v)
			case "catalogs_published":
				err = e.catalogsPublished(ctx, &v)
			case "time_vs_estimate":
				err = e.timeVsEstimate(ctx, d, now, &v)
			}
			if err != nil {
				return nil, fmt.Errorf("procedure: indicator %s: %w", v.ID, err)
			}
			out = append(out, v)
		}
	}
	return out, nil
}

func (e *Engine) modelCurrent(ctx context.Context, now time.Time, v *IndicatorValue) error {
	var folio string
	var at time.Time
	err := e.db.QueryRow(ctx, `
		SELECT c.folio, ev.at FROM meta.procedure_event ev JOIN meta.procedure_case c ON c.id = ev.case_id
		WHERE c.short = 'AAM-1.2' AND ev.action = 'publicar'
		ORDER BY ev.at DESC LIMIT 1`).Scan(&folio, &at)
	met := false
	v.Met = &met
	if errors.Is(err, pgx.ErrNoRows) {
		v.Value = "No"
		v.Detail = "No hay un Modelo de Gobierno de Datos publicado en el portal."
		return nil
	}
	if err != nil {
		return err
	}
	due := at.Add(modelPeriod)
	loc := e.calendar.Location
	met = now.Before(due)
	if met {
		v.Value = "Sí"
		v.Detail = fmt.Sprintf("Publicado el %s (trámite %s); la revisión anual vence el %s.", at.In(loc).Format("02/01/2006"), folio, due.In(loc).Format("02/01/2006"))
	} else {
		v.Value = "No"
		v.Detail = fmt.Sprintf("La última publicación fue el %s (trámite %s); la revisión anual venció el %s.", at.In(loc).Format("02/01/2006"), folio, due.In(loc).Format("02/01/2006"))
	}
	return nil
}

// catalogsPublished counts the catalogs published in the registry
// (meta.catalog) whose table carries its data dictionary in the database —
// a comment on the table and on every column; the detail adds the alta and
// adopción requests attended.
func (e *Engine) catalogsPublished(ctx context.Context, v *IndicatorValue) error {
	var published, documented, attended int
	err := e.db.QueryRow(ctx, `
		SELECT count(*),
		       count(*) FILTER (WHERE cl.oid IS NOT NULL AND obj_description(cl.oid, 'pg_class') IS NOT NULL AND NOT EXISTS (
		           SELECT 1 FROM pg_attribute a WHERE a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
		             AND col_description(cl.oid, a.attnum) IS NULL))
		FROM meta.catalog c
		LEFT JOIN pg_namespace n ON n.nspname = 'cat'
		LEFT JOIN pg_class cl ON cl.relnamespace = n.oid AND cl.relname = c.table_name AND cl.relkind IN ('r', 'p')
		WHERE c.state = 'publicado'`).Scan(&published, &documented)
	if err != nil {
		return err
	}
	err = e.db.QueryRow(ctx, `
		SELECT count(*) FROM meta.procedure_case
		WHERE short IN ('ALC-1.4', 'ADC-1.3') AND state = 'atendida'`).Scan(&attended)
	if err != nil {
		return err
	}
	v.Value = fmt.Sprint(documented)
	v.Detail = fmt.Sprintf("%d catálogos publicados en el portal; %d de ellos con su diccionario de datos completo en Datosigto (comentario en la tabla y en cada columna); %d solicitudes de alta o adopción atendidas.", published, documented, attended)
	return nil
}

func (e *Engine) timeVsEstimate(ctx context.Context, d *Definition, now time.Time, v *IndicatorValue) error {
	rows, err := e.db.Query(ctx, `
		SELECT c.closed_at, (SELECT min(at) FROM meta.procedure_event ev WHERE ev.case_id = c.id)
		FROM meta.procedure_case c
		WHERE c.short = $1 AND c.closed_at IS NOT NULL
		ORDER BY c.closed_at DESC LIMIT 500`, d.Short)
	if err != nil {
		return err
	}
	type pair struct{ closed, opened time.Time }
	pairs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pair, error) {
		var p pair
		return p, r.Scan(&p.closed, &p.opened)
	})
	if err != nil {
		return err
	}
	var open int
	if err := e.db.QueryRow(ctx, `SELECT count(*) FROM meta.procedure_case WHERE short = $1 AND closed_at IS NULL`, d.Short).Scan(&open); err != nil {
		return err
	}
	day := e.calendar.DayLength()
	if len(pairs) == 0 {
		v.Value = "—"
		v.Detail = fmt.Sprintf("Ningún trámite concluido todavía; %d en curso.", open)
		return nil
	}
	var total time.Duration
	within := 0
	est, estErr := time.Duration(0), error(nil)
	if d.EstimatedTime != "" {
		est, estErr = ParseDuration(d.EstimatedTime, day)
	}
	for _, p := range pairs {
		w := e.calendar.Between(p.opened, p.closed)
		total += w
		if estErr == nil && est > 0 && w <= est {
			within++
		}
	}
	avg := total / time.Duration(len(pairs))
	v.Value = HumanDuration(avg, day)
	if d.EstimatedTime == "" {
		v.Detail = fmt.Sprintf("Promedio en tiempo hábil de %d trámites concluidos (tiempo estimado: indefinido); %d en curso.", len(pairs), open)
		return nil
	}
	met := avg <= est
	v.Met = &met
	v.Detail = fmt.Sprintf("Promedio en tiempo hábil de %d trámites concluidos contra %s estimado; %d de %d dentro del tiempo estimado; %d en curso.",
		len(pairs), HumanDuration(est, day), within, len(pairs), open)
	return nil
}
