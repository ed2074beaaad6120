package procedure

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// MaxAttachment is the largest document a case accepts (minutas, listas
// de asistencia, instructivos).
const MaxAttachment = 20 << 20

// Attach stores a document on the case folio for whoever holds a role on
// it. The content type is sniffed, never taken from the client.
func (e *Engine) Attach(ctx context.Context, actor Actor, folio, name string, content []byte) (Attachment, error) {
	var out Attachment
	name = strings.TrimSpace(path.Base(strings.ReplaceAll(name, `\`, "/")))
	switch {
	case name == "" || name == "." || name == "/":
		return out, refuse(CodeInvalidData, "El documento no tiene nombre.")
	case utf8.RuneCountInString(name) > 255:
		return out, refuse(CodeInvalidData, "El nombre del documento tiene más de 255 caracteres.")
	case len(content) == 0:
		return out, refuse(CodeInvalidData, "El documento «%s» está vacío.", name)
	case len(content) > MaxAttachment:
		return out, refuse(CodeInvalidData, "El documento «%s» pesa más de %d MiB.", name, MaxAttachment>>20)
	}
	err := pgdb.WithTx(ctx, e.db, func(tx pgx.Tx) error {
		c, err := getCase(ctx, tx, folio, true)
		if err != nil {
			return err
		}
		d, err := e.Definition(ctx, c.Short, c.Version)
		if err != nil {
			return err
		}
		held, err := e.roles(ctx, tx, d, actor, c)
		if err != nil {
			return err
		}
		if len(held) == 0 {
			return refuse(CodeForbidden, "Sólo quien participa en el trámite %s puede adjuntarle documentos.", c.Folio)
		}
		out, err = insertAttachment(ctx, tx, c, actor, name, content)
		return err
	})
	return out, err
}

// insertAttachment stores content on c, in tx, and records it.
func insertAttachment(ctx context.Context, tx pgx.Tx, c *Case, actor Actor, name string, content []byte) (Attachment, error) {
	sum := sha256.Sum256(content)
	out := Attachment{Name: name, ContentType: http.DetectContentType(content), Size: int64(len(content)),
		SHA256: hex.EncodeToString(sum[:]), ActorLogin: actor.Login}
	if err := tx.QueryRow(ctx, `
		INSERT INTO meta.procedure_attachment (case_id, name, content_type, size, sha256, content, actor_id, actor_login)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, at`,
		c.ID, out.Name, out.ContentType, out.Size, out.SHA256, content, actor.UserID, actor.Login).Scan(&out.ID, &out.At); err != nil {
		return out, fmt.Errorf("procedure: attach to %s: %w", c.Folio, err)
	}
	return out, audit.Record(ctx, tx, audit.Entry{Actor: audit.Actor{ID: actor.UserID, Login: actor.Login}, Action: "procedure.attach",
		ObjectType: "procedure_case", ObjectID: c.Folio, DependenciaID: c.DependenciaID,
		Detail: map[string]any{"documento": out.Name, "tamano": out.Size, "sha256": out.SHA256}})
}

// Attachments lists the documents of c, oldest first.
func (e *Engine) Attachments(ctx context.Context, c *Case) ([]Attachment, error) {
	rows, err := e.db.Query(ctx, `
		SELECT id, name, content_type, size, sha256, actor_login, at
		FROM meta.procedure_attachment WHERE case_id = $1 ORDER BY id`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("procedure: attachments of %s: %w", c.Folio, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Attachment, error) {
		var a Attachment
		return a, r.Scan(&a.ID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.ActorLogin, &a.At)
	})
	if err != nil {
		return nil, fmt.Errorf("procedure: attachments of %s: %w", c.Folio, err)
	}
	return out, nil
}

// AttachmentContent returns one document of c with its content.
func (e *Engine) AttachmentContent(ctx context.Context, c *Case, id int64) (Attachment, []byte, error) {
	var a Attachment
	var content []byte
	err := e.db.QueryRow(ctx, `
		SELECT id, name, content_type, size, sha256, actor_login, at, content
		FROM meta.procedure_attachment WHERE case_id = $1 AND id = $2`, c.ID, id).
		Scan(&a.ID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.ActorLogin, &a.At, &content)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, nil, ErrNotFound
	}
	if err != nil {
		return a, nil, fmt.Errorf("procedure: attachment %d of %s: %w", id, c.Folio, err)
	}
	return a, content, nil
}
