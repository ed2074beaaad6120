package procedure

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature/introspect"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// CheckRef asks, before an action is taken, that the value of a field pass
// one of the engine's checks against the platform itself (the catalog
// table exists in cat, follows the nomenclature, is registered).
type CheckRef struct {
	Check string `yaml:"check" json:"check"`
	// Field is "form.field"; its value is what is checked.
	Field string `yaml:"field" json:"field"`
}

// Check verifies value inside the action's transaction; it returns a
// Spanish problem, or "" when the value passes.
type Check func(ctx context.Context, db pgdb.DBTX, value string) (problem string, err error)

// The checks every engine has.
const (
	CheckTableInCat         = "tabla_en_cat"
	CheckNomenclature       = "nomenclatura"
	CheckCatalogRegistered  = "catalogo_registrado"
	CodeCheckFailed         = "verificacion_fallida"
	nomenclatureFindingsCap = 5
)

// standardChecks ties steps of the procedures to the rest of the platform.
func standardChecks() map[string]Check {
	var once sync.Once
	var rules *nomenclature.Rules
	var rulesErr error
	return map[string]Check{
		CheckTableInCat: func(ctx context.Context, db pgdb.DBTX, table string) (string, error) {
			var found bool
			if err := db.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgdb.QuoteQualified("cat", table)).Scan(&found); err != nil {
				return "", err
			}
			if !found {
				return fmt.Sprintf("la tabla cat.%s no existe en Datosigto", table), nil
			}
			return "", nil
		},
		CheckNomenclature: func(ctx context.Context, db pgdb.DBTX, table string) (string, error) {
			once.Do(func() { rules, rulesErr = nomenclature.DefaultRules() })
			if rulesErr != nil {
				return "", rulesErr
			}
			t, err := introspect.Read(ctx, db, "cat", table)
			if errors.Is(err, introspect.ErrNotFound) {
				return fmt.Sprintf("la tabla cat.%s no existe en Datosigto", table), nil
			}
			if err != nil {
				return "", err
			}
			rep := rules.CheckTable(t)
			if rep.Valid {
				return "", nil
			}
			var msgs []string
			for _, f := range rep.Findings {
				if f.Severity != nomenclature.SeverityError {
					continue
				}
				if len(msgs) == nomenclatureFindingsCap {
					msgs = append(msgs, fmt.Sprintf("y %d más", rep.Errors()-nomenclatureFindingsCap))
					break
				}
				msgs = append(msgs, fmt.Sprintf("%s (%s): %s", f.Rule, f.Object, f.Message))
			}
			return fmt.Sprintf("la tabla cat.%s no cumple la nomenclatura DAID: %s", table, strings.Join(msgs, "; ")), nil
		},
		CheckCatalogRegistered: func(ctx context.Context, db pgdb.DBTX, table string) (string, error) {
			var state string
			err := db.QueryRow(ctx, `SELECT state FROM meta.catalog WHERE table_name = $1`, table).Scan(&state)
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Sprintf("la tabla cat.%s no está registrada como catálogo en el portal («Registrar catálogo»)", table), nil
			}
			return "", err
		},
	}
}

// checkNames lists the checks the engine knows.
func (e *Engine) checkNames() []string {
	out := make([]string, 0, len(e.checks))
	for k := range e.checks {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// SetCheck adds or replaces a check (for procedures of other modules).
func (e *Engine) SetCheck(name string, c Check) { e.checks[name] = c }

// runChecks applies t's checks to the case data; a failed one is a refusal.
func (e *Engine) runChecks(ctx context.Context, db pgdb.DBTX, d *Definition, t Transition, data map[string]any) error {
	for _, ref := range t.Checks {
		formID, fieldID, _ := strings.Cut(ref.Field, ".")
		v, ok := fieldValue(data[formID], fieldID)
		if !ok {
			missing := missingFields(d, data, []string{ref.Field})
			r := refuse(CodeMissingField, "Para «%s» falta información: %s.", t.Label, strings.Join(missingLabels(missing), "; "))
			r.Problems = missing
			return r
		}
		check := e.checks[ref.Check]
		problem, err := check(ctx, db, fmt.Sprint(v))
		if err != nil {
			return fmt.Errorf("procedure: check %s: %w", ref.Check, err)
		}
		if problem != "" {
			return refuse(CodeCheckFailed, "«%s» no puede hacerse todavía: %s.", t.Label, problem)
		}
	}
	return nil
}
