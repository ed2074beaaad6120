package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Revision is a proposed change of a published catalog, reviewed like a
// new catalog while the published one keeps serving.
type Revision struct {
	Number    int
	State     State
	Resource  *tableschema.Resource
	Meta      RevisionMeta
	Changes   []Change
	Forced    bool
	CreatedBy string
	CreatedAt time.Time
}

// RevisionMeta is the metadata a revision proposes.
type RevisionMeta struct {
	Title            string   `json:"title"`
	Description      string   `json:"description"`
	PublishValidRows bool     `json:"publish_valid_rows"`
	Metadata         Metadata `json:"metadata"`
}

// Edit is a change of a catalog: a new definition and/or metadata. Empty
// fields keep what the catalog has.
type Edit struct {
	Resource         *tableschema.Resource
	Title            string
	Description      string
	Metadata         *Metadata
	PublishValidRows *bool
	// Force applies breaking changes (Super Administrador only; recorded).
	Force bool
}

func pendingRevision(ctx context.Context, db pgdb.DBTX, catalogID int64) (*Revision, error) {
	var r Revision
	var def, meta, changes []byte
	err := db.QueryRow(ctx, `
		SELECT number, state, definition, metadata, changes, forced, created_by, created_at
		FROM meta.catalog_revision WHERE catalog_id = $1 AND state NOT IN ('publicado', 'descartado')`, catalogID).
		Scan(&r.Number, &r.State, &def, &meta, &changes, &r.Forced, &r.CreatedBy, &r.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: revision: %w", err)
	}
	res, err := tableschema.Parse(strings.NewReader(string(def)))
	if err != nil {
		return nil, fmt.Errorf("catalog: revision %d: %w", r.Number, err)
	}
	r.Resource = &res
	if err := json.Unmarshal(meta, &r.Meta); err != nil {
		return nil, fmt.Errorf("catalog: revision %d: %w", r.Number, err)
	}
	if err := json.Unmarshal(changes, &r.Changes); err != nil {
		return nil, fmt.Errorf("catalog: revision %d: %w", r.Number, err)
	}
	return &r, nil
}

// Edit changes a catalog. A draft (borrador, con observaciones) changes at
// once: its table is migrated and its definition replaced. A published
// catalog gets a revision that goes through review again; the structural
// changes run when the revision is published. A catalog under review
// (en revisión, aprobado) does not change. Breaking changes are refused
// unless e.Force by a Super Administrador.
func (s *Store) Edit(ctx context.Context, actor Actor, clave string, e Edit) (*Catalog, error) {
	return s.change(ctx, clave, "edit", func(tx pgx.Tx, c *Catalog) error {
		if err := canCreate(actor, c.DependenciaID, false); err != nil {
			return errorf(KindForbidden, "el perfil %s no puede modificar el catálogo «%s»", profileName(actor.Profile), clave)
		}
		rev, err := pendingRevision(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		switch {
		case c.State == Retirado:
			return errorf(KindTransition, "el catálogo «%s» está retirado y no admite cambios", clave)
		case c.State == EnRevision || c.State == Aprobado:
			return errorf(KindConflict, "el catálogo «%s» está %s: no admite cambios hasta que termine su revisión", clave, c.State.Name())
		case rev != nil && (rev.State == EnRevision || rev.State == Aprobado):
			return errorf(KindConflict, "la revisión %d de «%s» está %s: no admite cambios hasta que termine", rev.Number, clave, rev.State.Name())
		}
		// The base of the change: the pending revision if any, else the catalog.
		base := RevisionMeta{Title: c.Title, Description: c.Description, PublishValidRows: c.PublishValidRows, Metadata: c.Metadata}
		if rev != nil {
			base = rev.Meta
		}
		meta := base
		if e.Title != "" {
			meta.Title = e.Title
		}
		if e.Description != "" {
			meta.Description = e.Description
		}
		if e.Metadata != nil {
			meta.Metadata = *e.Metadata
		}
		if e.PublishValidRows != nil {
			meta.PublishValidRows = *e.PublishValidRows
		}
		if len([]rune(strings.TrimSpace(meta.Title))) < 3 {
			return errorf(KindInvalid, "el catálogo «%s» necesita un título de al menos 3 caracteres", clave)
		}
		if meta.Metadata.Origin == "" {
			meta.Metadata.Origin = Interno
		}
		if meta.Metadata.Origin != Interno && meta.Metadata.Origin != Adoptado {
			return errorf(KindInvalid, "el origen «%s» no es válido: interno o adoptado", meta.Metadata.Origin)
		}
		res := *c.Resource
		if rev != nil {
			res = *rev.Resource
		}
		if e.Resource != nil {
			res = *e.Resource
			if t, err := tableName(&res); err == nil {
				res.Name = t
			}
		}
		changes, err := planChanges(c.Resource, &res)
		if err != nil {
			return err
		}
		if _, err := buildDDL(&res); err != nil {
			return err
		}
		if err := s.checkNames(&res); err != nil {
			return err
		}
		var breaking []string
		for _, ch := range changes {
			if ch.Breaking {
				breaking = append(breaking, ch.Description)
			}
		}
		if len(breaking) > 0 && !e.Force {
			return &Error{Kind: KindBreaking, Message: fmt.Sprintf("el cambio de «%s» rompe la compatibilidad; sólo un Super Administrador puede forzarlo", clave), Details: breaking}
		}
		if len(breaking) > 0 && actor.Profile != account.SuperAdmin {
			return &Error{Kind: KindForbidden, Message: fmt.Sprintf("sólo un Super Administrador puede forzar un cambio que rompe la compatibilidad de «%s»", clave), Details: breaking}
		}
		defJSON, err := json.Marshal(res)
		if err != nil {
			return err
		}
		detail := map[string]any{"changes": changes, "forced": len(breaking) > 0}
		if c.State == Publicado {
			metaJSON, err := json.Marshal(meta)
			if err != nil {
				return err
			}
			changesJSON, err := json.Marshal(changes)
			if err != nil {
				return err
			}
			if rev != nil {
				_, err = tx.Exec(ctx, `UPDATE meta.catalog_revision SET definition = $3, metadata = $4, changes = $5, forced = $6
					WHERE catalog_id = $1 AND number = $2`, c.ID, rev.Number, defJSON, metaJSON, changesJSON, len(breaking) > 0)
				detail["revision"] = rev.Number
			} else {
				var n int
				err = tx.QueryRow(ctx, `
					INSERT INTO meta.catalog_revision (catalog_id, number, definition, metadata, changes, forced, created_by)
					SELECT $1, coalesce(max(number), 0) + 1, $2, $3, $4, $5, $6 FROM meta.catalog_revision WHERE catalog_id = $1
					RETURNING number`, c.ID, defJSON, metaJSON, changesJSON, len(breaking) > 0, actor.login()).Scan(&n)
				if err == nil {
					err = recordTransition(ctx, tx, c.ID, &n, "revisar", Publicado, Borrador, actor, "")
				}
				detail["revision"] = n
			}
			if err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Entry{
				Actor: audit.Actor{ID: actor.idPtr(), Login: actor.login()}, Action: "catalog.revise", ObjectType: "catalog",
				ObjectID: clave, DependenciaID: &c.DependenciaID, Detail: detail,
			})
		}
		if err := applyChanges(ctx, tx, c.Table, changes); err != nil {
			return err
		}
		if err := updateCatalog(ctx, tx, c.ID, defJSON, meta); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: audit.Actor{ID: actor.idPtr(), Login: actor.login()}, Action: "catalog.edit", ObjectType: "catalog",
			ObjectID: clave, DependenciaID: &c.DependenciaID, Detail: detail,
		})
	})
}

func applyChanges(ctx context.Context, tx pgx.Tx, table string, changes []Change) error {
	for _, ch := range changes {
		for _, stmt := range ch.SQL {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				if le := ddlError(table, err); le != nil {
					var ce *Error
					if errors.As(le, &ce) {
						ce.Message = fmt.Sprintf("no se pudo aplicar el cambio «%s»: %s", ch.Description, pgMessage(err))
						return ce
					}
				}
				return &Error{Kind: KindInvalid, Message: fmt.Sprintf("no se pudo aplicar el cambio «%s»: %s", ch.Description, pgMessage(err)), Err: err}
			}
		}
	}
	return nil
}

func updateCatalog(ctx context.Context, tx pgx.Tx, id int64, defJSON []byte, m RevisionMeta) error {
	_, err := tx.Exec(ctx, `
		UPDATE meta.catalog SET definition = $2, title = $3, description = $4, publish_valid_rows = $5,
			steward = $6, steward_email = $7, keywords = $8, license = $9, origin = $10, origin_entity = $11,
			update_mechanism = $12, periodicity = $13, updated_at = now()
		WHERE id = $1`,
		id, defJSON, m.Title, m.Description, m.PublishValidRows, m.Metadata.Steward, m.Metadata.StewardEmail,
		nonNil(m.Metadata.Keywords), m.Metadata.License, m.Metadata.Origin, m.Metadata.OriginEntity,
		m.Metadata.UpdateMechanism, m.Metadata.Periodicity)
	return err
}

// transitionRevision moves the pending revision of a published catalog;
// publishing it migrates the table and replaces the definition.
func (s *Store) transitionRevision(ctx context.Context, tx pgx.Tx, actor Actor, c *Catalog, rev *Revision, action Action, observations string) error {
	to, ok := NextState(rev.State, action)
	if !ok {
		return errorf(KindTransition, "no se puede %s la revisión %d de «%s» en estado %s", action.Name(), rev.Number, c.Clave, rev.State.Name())
	}
	if to == Publicado {
		changes, err := planChanges(c.Resource, rev.Resource)
		if err != nil {
			return err
		}
		for _, ch := range changes {
			if ch.Breaking && !rev.Forced {
				return errorf(KindBreaking, "la revisión %d de «%s» trae un cambio que rompe la compatibilidad (%s) y no fue forzada", rev.Number, c.Clave, ch.Description)
			}
		}
		if err := applyChanges(ctx, tx, c.Table, changes); err != nil {
			return err
		}
		defJSON, err := json.Marshal(rev.Resource)
		if err != nil {
			return err
		}
		if err := updateCatalog(ctx, tx, c.ID, defJSON, rev.Meta); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE meta.catalog_revision SET state = $3, closed_at = CASE WHEN $3 = 'publicado' THEN now() END
		WHERE catalog_id = $1 AND number = $2`, c.ID, rev.Number, string(to)); err != nil {
		return err
	}
	if err := recordTransition(ctx, tx, c.ID, &rev.Number, string(action), rev.State, to, actor, observations); err != nil {
		return err
	}
	return audit.Record(ctx, tx, audit.Entry{
		Actor: audit.Actor{ID: actor.idPtr(), Login: actor.login()}, Action: "catalog.revision." + string(action), ObjectType: "catalog",
		ObjectID: c.Clave, DependenciaID: &c.DependenciaID,
		Detail: map[string]any{"revision": rev.Number, "from": rev.State, "to": to, "observations": observations, "forced": rev.Forced},
	})
}
