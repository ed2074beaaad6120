package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

// Linter is the nomenclature check run before a catalog is created, its
// definition changes, or an existing table is registered: ok is false when a
// finding is an error; findings are Spanish lines (rule, object, message,
// suggestion) for the person. A live table is checked as it is (types of
// foreign keys against their keys, control columns' NOT NULL and defaults),
// not through a definition rebuilt from it.
type Linter interface {
	CheckDefinition(res *tableschema.Resource) (ok bool, findings []string)
	CheckTable(t nomenclature.Table) (ok bool, findings []string)
}

// Store is the catalog registry.
type Store struct {
	db   pgdb.DBTX
	pool *pgxpool.Pool // for read-only snapshots, which need their own transaction
	lint Linter
}

// NewStore returns the registry on db; lint may be nil (then only the
// identifier checks that keep DDL safe run).
func NewStore(db *pgxpool.Pool, lint Linter) *Store {
	return &Store{db: db, pool: db, lint: lint}
}

// In returns the store joined to tx: each change runs in a savepoint of tx
// and commits or rolls back with it (a procedure's action and the catalog
// transition it carries out are one).
func (s *Store) In(tx pgx.Tx) *Store { return &Store{db: tx, pool: s.pool, lint: s.lint} }

// DB is the pool the store runs on.
func (s *Store) DB() *pgxpool.Pool { return s.pool }

func (s *Store) checkNames(res *tableschema.Resource) error {
	if s.lint == nil {
		return nil
	}
	ok, findings := s.lint.CheckDefinition(res)
	if !ok {
		return &Error{Kind: KindInvalid, Message: fmt.Sprintf("la definición de «%s» no cumple la nomenclatura DAID", res.Name), Details: findings}
	}
	return nil
}

func (s *Store) checkTable(t nomenclature.Table) error {
	if s.lint == nil {
		return nil
	}
	ok, findings := s.lint.CheckTable(t)
	if !ok {
		return &Error{Kind: KindInvalid, Message: fmt.Sprintf("la tabla %s.%s no cumple la nomenclatura DAID", t.Schema, t.Name), Details: findings}
	}
	return nil
}

// Create registers a catalog from its definition: its table in cat (with
// the control columns, keys, constraints and comments), its history table,
// and the registry row, as a draft — or published, when a Super
// Administrador bootstraps it (def.Publish; audited).
func (s *Store) Create(ctx context.Context, actor Actor, def NewCatalog) (*Catalog, error) {
	if err := canCreate(actor, def.DependenciaID, def.Publish); err != nil {
		return nil, err
	}
	res := def.Resource
	// The nomenclature first: its findings say what is wrong and suggest
	// names; the identifier checks of the DDL are the floor beneath it.
	if err := s.checkNames(&res); err != nil {
		return nil, err
	}
	d, err := buildDDL(&res)
	if err != nil {
		return nil, err
	}
	res.Name = d.Table // stored unqualified
	clave := def.Clave
	if clave == "" {
		clave = DefaultClave(d.Table)
	}
	if !claveRe.MatchString(clave) || len(clave) > 80 {
		return nil, errorf(KindInvalid, "la clave «%s» no es válida: sólo minúsculas sin acentos, dígitos y guiones", clave)
	}
	title := strings.TrimSpace(firstNonEmpty(def.Title, res.Title, res.Description))
	if len([]rune(title)) < 3 {
		return nil, errorf(KindInvalid, "el catálogo «%s» necesita un título de al menos 3 caracteres", clave)
	}
	desc := firstNonEmpty(def.Description, res.Description)
	if def.Origin == "" {
		def.Origin = Interno
	}
	if def.Origin != Interno && def.Origin != Adoptado {
		return nil, errorf(KindInvalid, "el origen «%s» no es válido: interno o adoptado", def.Origin)
	}
	for col, re := range d.Patterns {
		if _, err := s.db.Exec(ctx, "SELECT '' ~ $1", re); err != nil {
			return nil, &Error{Kind: KindInvalid, Message: fmt.Sprintf("el patrón del campo «%s» no es una expresión regular válida: %s", col, pgMessage(err)), Err: err}
		}
	}
	defJSON, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("catalog: create %s: %w", clave, err)
	}
	state := Borrador
	if def.Publish {
		state = Publicado
	}
	var id int64
	err = pgdb.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		for _, ref := range d.References {
			var refState string
			err := tx.QueryRow(ctx, `SELECT state FROM meta.catalog WHERE table_name = $1`, ref).Scan(&refState)
			if errors.Is(err, pgx.ErrNoRows) {
				return errorf(KindInvalid, "la llave foránea apunta a %s.%s, que no es un catálogo registrado", Schema, ref)
			}
			if err != nil {
				return err
			}
			if State(refState) != Publicado {
				return errorf(KindInvalid, "la llave foránea apunta a %s.%s, que no está publicado (estado: %s)", Schema, ref, State(refState).Name())
			}
		}
		for _, stmt := range d.Statements {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return ddlError(d.Table, err)
			}
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO meta.catalog (clave, table_name, title, description, state, definition, dependencia_id,
				publish_valid_rows, steward, steward_email, keywords, license, origin, origin_entity,
				update_mechanism, periodicity, created_by, published_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
				CASE WHEN $5 = 'publicado' THEN now() END)
			RETURNING id`,
			clave, d.Table, title, desc, state, defJSON, def.DependenciaID, def.PublishValidRows,
			def.Steward, def.StewardEmail, nonNil(def.Keywords), def.License, def.Origin, def.OriginEntity,
			def.UpdateMechanism, def.Periodicity, actor.login()).Scan(&id)
		if err != nil {
			switch {
			case pgdb.IsCode(err, pgdb.UniqueViolation):
				return &Error{Kind: KindConflict, Message: fmt.Sprintf("ya existe un catálogo con la clave «%s» o la tabla %s", clave, d.Table), Err: err}
			case pgdb.IsCode(err, pgdb.ForeignKeyViolation):
				return &Error{Kind: KindInvalid, Message: fmt.Sprintf("la dependencia %d no existe", def.DependenciaID), Err: err}
			}
			return err
		}
		if err := recordTransition(ctx, tx, id, nil, "crear", "", Borrador, actor, ""); err != nil {
			return err
		}
		action := "catalog.create"
		if def.Publish {
			action = "catalog.create_published"
			if err := recordTransition(ctx, tx, id, nil, "publicar_directo", Borrador, Publicado, actor, "Publicación directa al crear (--publish)"); err != nil {
				return err
			}
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: audit.Actor{ID: actor.idPtr(), Login: actor.login()}, Action: action, ObjectType: "catalog",
			ObjectID: clave, DependenciaID: &def.DependenciaID,
			Detail: map[string]any{"table": Schema + "." + d.Table, "state": state},
		})
	})
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, fmt.Errorf("catalog: create %s: %w", clave, err)
	}
	return s.byID(ctx, s.db, id)
}

func ddlError(table string, err error) error {
	switch {
	case pgdb.IsCode(err, "42P07"): // duplicate_table
		return &Error{Kind: KindConflict, Message: fmt.Sprintf("ya existe la tabla %s.%s", Schema, table), Err: err}
	case pgdb.IsCode(err, pgdb.UndefinedTable), pgdb.IsCode(err, "42703"), pgdb.IsCode(err, "42830"), pgdb.IsCode(err, "42804"):
		return &Error{Kind: KindInvalid, Message: fmt.Sprintf("la llave foránea de %s no coincide con la tabla referida: %s", table, pgMessage(err)), Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "42")) {
		return &Error{Kind: KindInvalid, Message: fmt.Sprintf("la definición de %s no se puede crear en PostgreSQL: %s", table, pgErr.Message), Err: err}
	}
	return err
}

func pgMessage(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Message
	}
	return err.Error()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

func recordTransition(ctx context.Context, tx pgx.Tx, catalogID int64, revision *int, action string, from, to State, actor Actor, observations string) error {
	_, err := tx.Exec(ctx, `
		INSERT INTO meta.catalog_transition (catalog_id, revision, action, from_state, to_state, actor_id, actor_login, observations)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		catalogID, revision, action, string(from), string(to), actor.idPtr(), actor.login(), observations)
	if err != nil {
		return fmt.Errorf("catalog: record transition: %w", err)
	}
	return nil
}

const catalogColumns = `id, clave, table_name, title, description, state, definition, dependencia_id,
	publish_valid_rows, current_version, steward, steward_email, keywords, license, origin, origin_entity,
	update_mechanism, periodicity, instructivo IS NOT NULL, created_by, created_at, updated_at, published_at`

func scanCatalog(row pgx.Row) (*Catalog, error) {
	var c Catalog
	var def []byte
	err := row.Scan(&c.ID, &c.Clave, &c.Table, &c.Title, &c.Description, &c.State, &def, &c.DependenciaID,
		&c.PublishValidRows, &c.CurrentVersion, &c.Steward, &c.StewardEmail, &c.Keywords, &c.License, &c.Origin,
		&c.OriginEntity, &c.UpdateMechanism, &c.Periodicity, &c.HasInstructivo, &c.CreatedBy, &c.CreatedAt,
		&c.UpdatedAt, &c.PublishedAt)
	if err != nil {
		return nil, err
	}
	res, err := tableschema.Parse(strings.NewReader(string(def)))
	if err != nil {
		return nil, fmt.Errorf("catalog %s: stored definition: %w", c.Clave, err)
	}
	c.Resource = &res
	return &c, nil
}

// ByClave returns the catalog with that clave, or a not-found *Error.
func (s *Store) ByClave(ctx context.Context, clave string) (*Catalog, error) {
	c, err := scanCatalog(s.db.QueryRow(ctx, `SELECT `+catalogColumns+` FROM meta.catalog WHERE clave = $1`, clave))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound(clave)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: by clave %s: %w", clave, err)
	}
	if c.Revision, err = pendingRevision(ctx, s.db, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// ByTable returns the catalog of table cat.<table>.
func (s *Store) ByTable(ctx context.Context, table string) (*Catalog, error) {
	c, err := scanCatalog(s.db.QueryRow(ctx, `SELECT `+catalogColumns+` FROM meta.catalog WHERE table_name = $1`, table))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errorf(KindNotFound, "la tabla %s.%s no es un catálogo registrado", Schema, table)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: by table %s: %w", table, err)
	}
	return c, nil
}

func (s *Store) byID(ctx context.Context, db pgdb.DBTX, id int64) (*Catalog, error) {
	c, err := scanCatalog(db.QueryRow(ctx, `SELECT `+catalogColumns+` FROM meta.catalog WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errorf(KindNotFound, "no existe el catálogo %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("catalog: by id %d: %w", id, err)
	}
	if c.Revision, err = pendingRevision(ctx, db, c.ID); err != nil {
		return nil, err
	}
	return c, nil
}

// List returns the catalogs that match f, by clave.
func (s *Store) List(ctx context.Context, f ListFilter) ([]Catalog, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.State != "" {
		add("state = $%d", string(f.State))
	}
	if f.PublicOnly {
		add("state = $%d", string(Publicado))
	}
	if f.DependenciaID != 0 {
		add("dependencia_id = $%d", f.DependenciaID)
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		add(`(clave || ' ' || title || ' ' || description || ' ' || array_to_string(keywords, ' ')) ILIKE '%%' || $%d || '%%'`,
			strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q))
	}
	sql := `SELECT ` + catalogColumns + ` FROM meta.catalog`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.db.Query(ctx, sql+" ORDER BY clave", args...)
	if err != nil {
		return nil, fmt.Errorf("catalog: list: %w", err)
	}
	defer rows.Close()
	var out []Catalog
	for rows.Next() {
		c, err := scanCatalog(rows)
		if err != nil {
			return nil, fmt.Errorf("catalog: list: %w", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalog: list: %w", err)
	}
	return out, nil
}

// canCreate: Publicador for its own dependencia, Administrador and Super
// Administrador for any; only a Super Administrador bootstraps a published
// catalog.
func canCreate(a Actor, dependenciaID int64, publish bool) error {
	switch a.Profile {
	case account.SuperAdmin:
		return nil
	case account.Admin:
		if publish {
			return errorf(KindForbidden, "sólo un Super Administrador puede crear un catálogo ya publicado")
		}
		return nil
	case account.Publicador:
		if publish {
			return errorf(KindForbidden, "sólo un Super Administrador puede crear un catálogo ya publicado")
		}
		if a.DependenciaID == nil || *a.DependenciaID != dependenciaID {
			return errorf(KindForbidden, "un Publicador sólo puede registrar catálogos de su propia dependencia")
		}
		return nil
	}
	return errorf(KindForbidden, "el perfil %s no puede registrar catálogos", a.Profile.Name())
}

// change runs fn on the catalog clave, locked, in a transaction, and
// returns the catalog as fn left it. A refusal (*Error) passes unwrapped.
func (s *Store) change(ctx context.Context, clave, what string, fn func(tx pgx.Tx, c *Catalog) error) (*Catalog, error) {
	var id int64
	err := pgdb.WithTx(ctx, s.db, func(tx pgx.Tx) error {
		c, err := scanCatalog(tx.QueryRow(ctx, `SELECT `+catalogColumns+` FROM meta.catalog WHERE clave = $1 FOR UPDATE`, clave))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound(clave)
		}
		if err != nil {
			return err
		}
		id = c.ID
		return fn(tx, c)
	})
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, fmt.Errorf("catalog: %s %s: %w", what, clave, err)
	}
	return s.byID(ctx, s.db, id)
}
