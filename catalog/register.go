package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature/introspect"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// patternCheck reads the pattern out of a CHECK that the DDL (or a DBA)
// wrote as column ~ '^…$'.
var patternCheck = regexp.MustCompile(`^CHECK \(+"?([a-z0-9_]+)"?\)?(?:::[a-z ]+)? ~ '((?:[^']|'')*)'(?:::text)?\)+$`)

// DefinitionFromTable is the definition of a live table: its columns with
// their types, NOT NULL, comments, single-column unique constraints and
// patterns, its primary key and foreign keys. Control columns are left
// out (the platform owns them); withControl keeps them, for the
// nomenclature check of the live table.
func DefinitionFromTable(t nomenclature.Table, withControl bool) (tableschema.Resource, error) {
	res := tableschema.Resource{Name: t.Name, Title: t.Comment, Description: t.Comment}
	unique := map[string]bool{}
	for _, u := range t.Unique {
		if len(u) == 1 {
			unique[u[0]] = true
		}
	}
	patterns := map[string]string{}
	for _, ch := range t.Checks {
		if m := patternCheck.FindStringSubmatch(ch.Expression); m != nil {
			p := strings.ReplaceAll(m[2], "''", "'")
			if strings.HasPrefix(p, "^") && strings.HasSuffix(p, "$") {
				p = strings.TrimSuffix(strings.TrimPrefix(p, "^"), "$")
				if strings.HasPrefix(p, "(?:") && strings.HasSuffix(p, ")") {
					p = p[3 : len(p)-1]
				}
				patterns[m[1]] = p
			}
		}
	}
	for _, c := range t.Columns {
		if IsControlColumn(c.Name) && !withControl {
			continue
		}
		typ, err := tableschema.ParseSQLType(c.Type)
		if err != nil {
			return res, &Error{Kind: KindInvalid, Message: fmt.Sprintf("la columna «%s» de %s tiene un tipo que no se reconoce: %s", c.Name, t.Name, c.Type), Err: err}
		}
		f := tableschema.Field{Name: c.Name, Type: typ.String(), Description: c.Comment,
			Constraints: tableschema.Constraints{Required: c.NotNull, Unique: unique[c.Name], Pattern: patterns[c.Name]}}
		res.Schema.Fields = append(res.Schema.Fields, f)
	}
	res.Schema.PrimaryKey = t.PrimaryKey
	for _, fk := range t.ForeignKeys {
		ref := fk.RefTable
		if fk.RefSchema != "" && fk.RefSchema != Schema {
			ref = fk.RefSchema + "." + fk.RefTable
		}
		res.Schema.ForeignKeys = append(res.Schema.ForeignKeys, tableschema.ForeignKey{
			Fields: fk.Columns, Reference: tableschema.Reference{Resource: ref, Fields: fk.RefColumns}})
	}
	return res, nil
}

// Register adds to the registry a table that already exists in cat (an
// entity created it): its definition is read back from the live table and
// checked against the nomenclature, its history table is created, and the
// rows it holds become version 1. def gives the metadata; def.Resource is
// ignored.
func (s *Store) Register(ctx context.Context, actor Actor, table string, def NewCatalog) (*Catalog, error) {
	if err := canCreate(actor, def.DependenciaID, def.Publish); err != nil {
		return nil, err
	}
	table = strings.TrimPrefix(table, Schema+".")
	if err := checkIdent("el nombre de la tabla", table); err != nil {
		return nil, err
	}
	live, err := introspect.Read(ctx, s.db, Schema, table)
	if errors.Is(err, introspect.ErrNotFound) {
		return nil, errorf(KindNotFound, "no existe la tabla %s.%s", Schema, table)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: register %s: %w", table, err)
	}
	full, err := DefinitionFromTable(live, true)
	if err != nil {
		return nil, err
	}
	if err := s.checkTable(live); err != nil {
		return nil, err
	}
	for _, cc := range controlDDL {
		if _, ok := full.Schema.Field(cc.name); !ok {
			return nil, errorf(KindInvalid, "la tabla %s.%s no tiene la columna de control «%s» (NOM-C07)", Schema, table, cc.name)
		}
	}
	res, err := DefinitionFromTable(live, false)
	if err != nil {
		return nil, err
	}
	if def.Title != "" {
		res.Title = def.Title
	}
	cols, err := dataColumns(&res)
	if err != nil {
		return nil, err
	}
	pk, err := primaryKey(&res, cols)
	if err != nil {
		return nil, err
	}
	clave := def.Clave
	if clave == "" {
		clave = DefaultClave(table)
	}
	if !claveRe.MatchString(clave) || len(clave) > 80 {
		return nil, errorf(KindInvalid, "la clave «%s» no es válida: sólo minúsculas sin acentos, dígitos y guiones", clave)
	}
	title := strings.TrimSpace(firstNonEmpty(def.Title, res.Title))
	if len([]rune(title)) < 3 {
		return nil, errorf(KindInvalid, "el catálogo «%s» necesita un título de al menos 3 caracteres (la tabla no tiene comentario)", clave)
	}
	if def.Origin == "" {
		def.Origin = Interno
	}
	defJSON, err := json.Marshal(res)
	if err != nil {
		return nil, err
	}
	state := Borrador
	if def.Publish {
		state = Publicado
	}
	var c *Catalog
	err = pgdb.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		for _, stmt := range histDDL(table, cols, pk) {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return ddlError(table, err)
			}
		}
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO meta.catalog (clave, table_name, title, description, state, definition, dependencia_id,
				publish_valid_rows, steward, steward_email, keywords, license, origin, origin_entity,
				update_mechanism, periodicity, created_by, published_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
				CASE WHEN $5 = 'publicado' THEN now() END)
			RETURNING id`,
			clave, table, title, firstNonEmpty(def.Description, res.Description), state, defJSON, def.DependenciaID,
			def.PublishValidRows, def.Steward, def.StewardEmail, nonNil(def.Keywords), def.License, def.Origin,
			def.OriginEntity, def.UpdateMechanism, def.Periodicity, actor.login()).Scan(&id)
		if pgdb.IsCode(err, pgdb.UniqueViolation) {
			return &Error{Kind: KindConflict, Message: fmt.Sprintf("ya existe un catálogo con la clave «%s» o la tabla %s", clave, table), Err: err}
		}
		if err != nil {
			return err
		}
		if err := recordTransition(ctx, tx, id, nil, "registrar", "", state, actor, "Registro de una tabla existente"); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.Entry{
			Actor: audit.Actor{ID: actor.idPtr(), Login: actor.login()}, Action: "catalog.register", ObjectType: "catalog",
			ObjectID: clave, DependenciaID: &def.DependenciaID,
			Detail: map[string]any{"table": Schema + "." + table, "state": state},
		}); err != nil {
			return err
		}
		if c, err = s.byID(ctx, tx, id); err != nil {
			return err
		}
		var rows int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+pgdb.QuoteQualified(Schema, table)+` WHERE activo`).Scan(&rows); err != nil {
			return err
		}
		if rows > 0 {
			_, err = PublishFirstLoad(ctx, tx, c, actor, nil)
		}
		return err
	})
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, fmt.Errorf("catalog: register %s: %w", table, err)
	}
	return s.byID(ctx, s.db, c.ID)
}
