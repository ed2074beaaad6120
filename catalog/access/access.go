// Package access grants entities (dependencias y entidades) a PostgreSQL
// login role limited to their own catalog tables in cat — the format
// F-DGTIT-DAID-GGD-5, «Accesos para la publicación y actualización de
// catálogos». A role may SELECT, INSERT, UPDATE and DELETE on exactly the
// tables granted and nothing else: no other schema, no DDL, no temporary
// tables. Its generated password is shown once; the platform keeps it sealed
// (connectors/keyring) so the connectivity checks can log in as the role.
//
// The platform's database user must be allowed to create roles (CREATEROLE,
// or a superuser).
package access

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Purpose is what sealed passwords are bound to (see keyring.Seal).
const Purpose = "entity-access"

// Schema is where entities' tables live.
const Schema = "cat"

// ErrNotFound means no active grant has that role.
var ErrNotFound = errors.New("access: no active grant for that role")

// ErrInvalid marks bad input; the message says, in Spanish, what and where.
var ErrInvalid = errors.New("access: invalid request")

var (
	roleRE  = regexp.MustCompile(`^[a-z][a-z0-9_]{2,62}$`)
	tableRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)
)

// Grant is one entity's access as recorded in meta.entity_access.
type Grant struct {
	ID          int64      `json:"id"`
	Dependencia string     `json:"dependencia"`
	Role        string     `json:"role"`
	Tables      []string   `json:"tables"`
	GrantedBy   string     `json:"granted_by"`
	GrantedAt   time.Time  `json:"granted_at"`
	RotatedAt   *time.Time `json:"rotated_at,omitempty"`
	RevokedBy   string     `json:"revoked_by,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// Request asks for a new grant.
type Request struct {
	Dependencia string // clave of the dependencia, e.g. "SEG"
	Role        string // empty: DefaultRole(Dependencia)
	Tables      []string
	Actor       audit.Actor
}

// Store grants, rotates, revokes and lists entity access.
type Store struct {
	DB   pgdb.DBTX
	Keys *keyring.Keyring
}

// DefaultRole is the role name for a dependencia's clave: "ent_" and the
// clave in lower case ("SEG-2" → "ent_seg_2").
func DefaultRole(clave string) string {
	return "ent_" + strings.ReplaceAll(strings.ToLower(clave), "-", "_")
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ValidateRole checks a role name: lower-case letters, digits and _, 3 to 63
// characters, starting with a letter, not pg_.
func ValidateRole(name string) error {
	if !roleRE.MatchString(name) || strings.HasPrefix(name, "pg_") {
		return invalid("el nombre de rol %q no es válido: use de 3 a 63 minúsculas, dígitos o _, comenzando con letra y sin el prefijo pg_", name)
	}
	return nil
}

// Grant creates the role, grants it the tables and records it, all in one
// transaction. It returns the password, which is never shown again.
func (s *Store) Grant(ctx context.Context, req Request) (Grant, string, error) {
	if req.Role == "" {
		req.Role = DefaultRole(req.Dependencia)
	}
	if err := ValidateRole(req.Role); err != nil {
		return Grant{}, "", err
	}
	tables, err := normalizeTables(req.Tables)
	if err != nil {
		return Grant{}, "", err
	}
	password, verifier, err := newPassword()
	if err != nil {
		return Grant{}, "", fmt.Errorf("access: grant %s: %w", req.Role, err)
	}
	keyID, sealed, err := s.Keys.Seal([]byte(password), Purpose)
	if err != nil {
		return Grant{}, "", fmt.Errorf("access: grant %s: %w", req.Role, err)
	}
	var g Grant
	err = pgdb.WithTx(ctx, s.DB, func(tx pgx.Tx) error {
		var depID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM meta.dependencia WHERE clave = $1`, req.Dependencia).Scan(&depID); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return invalid("la dependencia %q no existe", req.Dependencia)
			}
			return err
		}
		if err := checkTables(ctx, tx, tables); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "CREATE ROLE "+pgdb.QuoteIdent(req.Role)+
			" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT 10 PASSWORD "+
			pgdb.QuoteLiteral(verifier)); err != nil {
			if pgdb.IsCode(err, pgdb.DuplicateObject) {
				return invalid("ya existe un rol llamado %q en el servidor; elija otro nombre", req.Role)
			}
			return fmt.Errorf("create role: %w", err)
		}
		if err := grantPrivileges(ctx, tx, req.Role, tables); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO meta.entity_access (dependencia_id, role_name, tables, password_sealed, key_id, granted_by)
			VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING id, granted_at`,
			depID, req.Role, tables, sealed, keyID, req.Actor.Login).Scan(&g.ID, &g.GrantedAt)
		if err != nil {
			return fmt.Errorf("record: %w", err)
		}
		g.Dependencia, g.Role, g.Tables, g.GrantedBy = req.Dependencia, req.Role, tables, req.Actor.Login
		return audit.Record(ctx, tx, audit.Entry{
			Actor: req.Actor, Action: "access.grant", ObjectType: "entity_access", ObjectID: req.Role,
			DependenciaID: &depID, Detail: map[string]any{"tables": tables},
		})
	})
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			return Grant{}, "", err
		}
		return Grant{}, "", fmt.Errorf("access: grant %s: %w", req.Role, err)
	}
	return g, password, nil
}

// Rotate gives the role a new password and returns it (shown once).
func (s *Store) Rotate(ctx context.Context, role string, actor audit.Actor) (string, error) {
	password, verifier, err := newPassword()
	if err != nil {
		return "", fmt.Errorf("access: rotate %s: %w", role, err)
	}
	keyID, sealed, err := s.Keys.Seal([]byte(password), Purpose)
	if err != nil {
		return "", fmt.Errorf("access: rotate %s: %w", role, err)
	}
	err = pgdb.WithTx(ctx, s.DB, func(tx pgx.Tx) error {
		var depID int64
		err := tx.QueryRow(ctx, `
			UPDATE meta.entity_access SET password_sealed = $2, key_id = $3, rotated_at = now()
			WHERE role_name = $1 AND revoked_at IS NULL
			RETURNING dependencia_id`, role, sealed, keyID).Scan(&depID)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "ALTER ROLE "+pgdb.QuoteIdent(role)+" PASSWORD "+pgdb.QuoteLiteral(verifier)); err != nil {
			return fmt.Errorf("alter role: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actor, Action: "access.rotate", ObjectType: "entity_access", ObjectID: role, DependenciaID: &depID,
		})
	})
	if err != nil {
		return "", fmt.Errorf("access: rotate %s: %w", role, err)
	}
	return password, nil
}

// Revoke takes every privilege away, drops the role, ends its open sessions
// and marks the grant revoked (the record stays).
func (s *Store) Revoke(ctx context.Context, role string, actor audit.Actor) error {
	err := pgdb.WithTx(ctx, s.DB, func(tx pgx.Tx) error {
		var depID int64
		var tables []string
		err := tx.QueryRow(ctx, `
			UPDATE meta.entity_access SET revoked_at = now(), revoked_by = $2
			WHERE role_name = $1 AND revoked_at IS NULL
			RETURNING dependencia_id, tables`, role, actor.Login).Scan(&depID, &tables)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		q := pgdb.QuoteIdent(role)
		for _, stmt := range []string{
			"ALTER ROLE " + q + " NOLOGIN",
			"REVOKE ALL ON ALL TABLES IN SCHEMA " + pgdb.QuoteIdent(Schema) + " FROM " + q,
			"REVOKE ALL ON ALL SEQUENCES IN SCHEMA " + pgdb.QuoteIdent(Schema) + " FROM " + q,
			"REVOKE ALL ON SCHEMA " + pgdb.QuoteIdent(Schema) + " FROM " + q,
		} {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		var revokeDB string
		if err := tx.QueryRow(ctx, `SELECT format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), $1::text)`, role).Scan(&revokeDB); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, revokeDB); err != nil {
			return fmt.Errorf("revoke database: %w", err)
		}
		if _, err := tx.Exec(ctx, "DROP ROLE "+q); err != nil {
			return fmt.Errorf("drop role: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actor, Action: "access.revoke", ObjectType: "entity_access", ObjectID: role,
			DependenciaID: &depID, Detail: map[string]any{"tables": tables},
		})
	})
	if err != nil {
		return fmt.Errorf("access: revoke %s: %w", role, err)
	}
	// Sessions opened before the revocation have lost every privilege
	// already; ending them is courtesy, and needs pg_signal_backend.
	_, _ = s.DB.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role)
	return nil
}

// List returns the grants, newest first; revoked ones only when asked.
func (s *Store) List(ctx context.Context, withRevoked bool) ([]Grant, error) {
	rows, err := s.DB.Query(ctx, `
		SELECT a.id, d.clave, a.role_name, a.tables, a.granted_by, a.granted_at, a.rotated_at,
		       coalesce(a.revoked_by, ''), a.revoked_at
		FROM meta.entity_access a JOIN meta.dependencia d ON d.id = a.dependencia_id
		WHERE $1 OR a.revoked_at IS NULL
		ORDER BY a.granted_at DESC, a.id DESC`, withRevoked)
	if err != nil {
		return nil, fmt.Errorf("access: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Grant, error) {
		var g Grant
		err := r.Scan(&g.ID, &g.Dependencia, &g.Role, &g.Tables, &g.GrantedBy, &g.GrantedAt, &g.RotatedAt, &g.RevokedBy, &g.RevokedAt)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("access: list: %w", err)
	}
	return out, nil
}

// Credentials are what a connectivity check needs to log in as a role.
type Credentials struct {
	ID       int64
	Role     string
	Password string
	Tables   []string
}

// Credentials returns the credentials of active grant id, for its check.
func (s *Store) Credentials(ctx context.Context, id int64) (Credentials, error) {
	all, err := s.active(ctx, &id)
	if err != nil {
		return Credentials{}, err
	}
	if len(all) == 0 {
		return Credentials{}, ErrNotFound
	}
	return all[0], nil
}

// Active returns the credentials of every active grant, for the checks.
func (s *Store) Active(ctx context.Context) ([]Credentials, error) {
	return s.active(ctx, nil)
}

func (s *Store) active(ctx context.Context, id *int64) ([]Credentials, error) {
	rows, err := s.DB.Query(ctx, `
		SELECT id, role_name, tables, key_id, password_sealed
		FROM meta.entity_access WHERE revoked_at IS NULL AND ($1::bigint IS NULL OR id = $1) ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("access: active: %w", err)
	}
	defer rows.Close()
	var out []Credentials
	for rows.Next() {
		var c Credentials
		var keyID string
		var sealed []byte
		if err := rows.Scan(&c.ID, &c.Role, &c.Tables, &keyID, &sealed); err != nil {
			return nil, fmt.Errorf("access: active: %w", err)
		}
		pw, err := s.Keys.Open(keyID, sealed, Purpose)
		if err != nil {
			return nil, fmt.Errorf("access: open password of %s: %w", c.Role, err)
		}
		c.Password = string(pw)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("access: active: %w", err)
	}
	return out, nil
}

// Reseal re-encrypts every stored password under the keyring's current key
// (after GOBDATOS_SECRET_KEY changed). It returns how many changed.
func (s *Store) Reseal(ctx context.Context) (int, error) {
	var n int
	err := pgdb.WithTx(ctx, s.DB, func(tx pgx.Tx) error {
		var err error
		n, err = s.Keys.ResealColumn(ctx, tx, keyring.Column{Schema: "meta", Table: "entity_access", Sealed: "password_sealed", What: "entity access"}, Purpose)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("access: reseal: %w", err)
	}
	return n, nil
}

func normalizeTables(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, invalid("indique al menos una tabla del esquema %s", Schema)
	}
	out := make([]string, 0, len(in))
	for _, t := range in {
		t = strings.TrimPrefix(strings.TrimSpace(t), Schema+".")
		if !tableRE.MatchString(t) {
			return nil, invalid("el nombre de tabla %q no es válido: use minúsculas, dígitos o _, comenzando con letra", t)
		}
		out = append(out, t)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// checkTables refuses tables that are not ordinary tables of cat.
func checkTables(ctx context.Context, tx pgx.Tx, tables []string) error {
	rows, err := tx.Query(ctx, `
		SELECT c.relname FROM pg_class c
		WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p') AND c.relname = ANY($2)`, Schema, tables)
	if err != nil {
		return fmt.Errorf("check tables: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("check tables: %w", err)
	}
	for _, t := range tables {
		if !slices.Contains(found, t) {
			return invalid("la tabla %s.%s no existe", Schema, t)
		}
	}
	return nil
}

// grantPrivileges gives the role its tables (and their sequences, for
// serial columns), the cat schema for lookup, and the database to connect.
func grantPrivileges(ctx context.Context, tx pgx.Tx, role string, tables []string) error {
	q := pgdb.QuoteIdent(role)
	qualified := make([]string, len(tables))
	for i, t := range tables {
		qualified[i] = pgdb.QuoteQualified(Schema, t)
	}
	var connect, searchPath string
	if err := tx.QueryRow(ctx, `SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), $1::text),
		format('ALTER ROLE %I IN DATABASE %I SET search_path = %I', $1::text, current_database(), $2::text)`,
		role, Schema).Scan(&connect, &searchPath); err != nil {
		return err
	}
	stmts := []string{
		connect,
		searchPath,
		"GRANT USAGE ON SCHEMA " + pgdb.QuoteIdent(Schema) + " TO " + q,
		"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE " + strings.Join(qualified, ", ") + " TO " + q,
	}
	rows, err := tx.Query(ctx, `
		SELECT DISTINCT format('%I.%I', sn.nspname, s.relname)
		FROM pg_depend d
		JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
		JOIN pg_namespace sn ON sn.oid = s.relnamespace
		JOIN pg_class t ON t.oid = d.refobjid
		WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
		  AND t.relnamespace = $1::regnamespace AND t.relname = ANY($2)`, Schema, tables)
	if err != nil {
		return fmt.Errorf("sequences: %w", err)
	}
	seqs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("sequences: %w", err)
	}
	if len(seqs) > 0 {
		stmts = append(stmts, "GRANT USAGE, SELECT ON SEQUENCE "+strings.Join(seqs, ", ")+" TO "+q)
	}
	for _, stmt := range stmts {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("grant: %w", err)
		}
	}
	return denyTemporary(ctx, tx, role)
}

// denyTemporary makes sure the role cannot create temporary tables, which
// every role may by default (through PUBLIC). Migration 0040 revokes that
// from PUBLIC, but a database restored or cloned from a template gets the
// default back, so it is checked, and repaired, at every grant.
func denyTemporary(ctx context.Context, tx pgx.Tx, role string) error {
	var can bool
	if err := tx.QueryRow(ctx, `SELECT has_database_privilege($1, current_database(), 'TEMPORARY')`, role).Scan(&can); err != nil {
		return fmt.Errorf("check temporary: %w", err)
	}
	if !can {
		return nil
	}
	var revoke, keep string
	if err := tx.QueryRow(ctx, `SELECT format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database()),
		format('GRANT TEMPORARY ON DATABASE %I TO %I', current_database(), current_user)`).Scan(&revoke, &keep); err != nil {
		return err
	}
	for _, stmt := range []string{revoke, keep} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("deny temporary tables (the platform's user must own the database): %w", err)
		}
	}
	if err := tx.QueryRow(ctx, `SELECT has_database_privilege($1, current_database(), 'TEMPORARY')`, role).Scan(&can); err != nil {
		return fmt.Errorf("check temporary: %w", err)
	}
	if can {
		return errors.New("the role could still create temporary tables")
	}
	return nil
}

// newPassword returns a random password (32 characters of base64url) and
// its SCRAM verifier.
func newPassword() (password, verifier string, err error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	password = base64.RawURLEncoding.EncodeToString(b)
	verifier, err = scramVerifier(password)
	return password, verifier, err
}
