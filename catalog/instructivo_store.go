package catalog

import (
	"bytes"
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
)

// MaxInstructivo is the largest hand-made instructivo accepted.
const MaxInstructivo = 20 << 20

// SetInstructivo stores a hand-made PDF as the catalog's instructivo
// ("Archivo de instrucciones"), used instead of the generated one; a nil
// pdf removes it, so the generated one is served again.
func (s *Store) SetInstructivo(ctx context.Context, actor Actor, clave, name string, pdf []byte) error {
	if pdf != nil && !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return errorf(KindInvalid, "el archivo de instrucciones «%s» no es un PDF", name)
	}
	if len(pdf) > MaxInstructivo {
		return errorf(KindInvalid, "el archivo de instrucciones «%s» pasa de %d MB", name, MaxInstructivo>>20)
	}
	_, err := s.change(ctx, clave, "instructivo", func(tx pgx.Tx, c *Catalog) error {
		if err := canCreate(actor, c.DependenciaID, false); err != nil {
			return errorf(KindForbidden, "el perfil %s no puede cambiar el instructivo de «%s»", profileName(actor.Profile), clave)
		}
		if c.State == Retirado {
			return errorf(KindTransition, "el catálogo «%s» está retirado y no admite cambios", clave)
		}
		var at any
		if pdf != nil {
			at = "now"
		}
		if _, err := tx.Exec(ctx, `UPDATE meta.catalog SET instructivo = $2, instructivo_name = $3, instructivo_at = $4::timestamptz, updated_at = now() WHERE id = $1`,
			c.ID, pdf, name, at); err != nil {
			return err
		}
		action := "catalog.instructivo_upload"
		if pdf == nil {
			action = "catalog.instructivo_remove"
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: audit.Actor{ID: actor.idPtr(), Login: actor.login()}, Action: action, ObjectType: "catalog",
			ObjectID: clave, DependenciaID: &c.DependenciaID, Detail: map[string]any{"name": name, "bytes": len(pdf)},
		})
	})
	return err
}

// UploadedInstructivo returns the hand-made instructivo of c; pdf is nil
// when none was uploaded.
func (s *Store) UploadedInstructivo(ctx context.Context, c *Catalog) (name string, pdf []byte, err error) {
	var n *string
	err = s.db.QueryRow(ctx, `SELECT instructivo_name, instructivo FROM meta.catalog WHERE id = $1`, c.ID).Scan(&n, &pdf)
	if err != nil {
		return "", nil, fmt.Errorf("catalog: instructivo of %s: %w", c.Clave, err)
	}
	if n != nil {
		name = *n
	}
	return name, pdf, nil
}
