// Package registry keeps connectors as records (meta.connector): an
// entity's source — kind, address, non-secret options, the table or query,
// the target catalog, the load schedule, the check interval — with its
// credentials sealed at rest (connectors/keyring). Credentials are write-only
// for callers: Connector carries only whether they are set; Secret opens
// them for the code that connects.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/robfig/cron/v3"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// Purpose is what sealed credentials are bound to (see keyring.Seal).
const Purpose = "connector-credentials"

// Channel is where PostgreSQL announces a changed connector or entity
// access ("connector:ID", "access:ID").
const Channel = "gobdatos_check_targets"

// Defaults and bounds of a connector's schedule.
const (
	DefaultCheckInterval = 5 * time.Minute
	DefaultCheckTimeout  = 15 * time.Second
	DefaultLoadTimeout   = 30 * time.Minute
	MinCheckInterval     = 10 * time.Second
)

// Kinds of connector.
var Kinds = []string{"postgres", "mysql", "http", "file"}

// ErrNotFound means no connector has that id (or the caller may not see it).
var ErrNotFound = errors.New("registry: connector not found")

// ErrInvalid is matched by every *InvalidError.
var ErrInvalid = errors.New("registry: invalid connector")

// FieldError is one bad field, explained in Spanish.
type FieldError struct {
	Field   string `json:"field"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// InvalidError lists every bad field of an input; nothing was changed.
type InvalidError struct{ Fields []FieldError }

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "conector inválido: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Credentials are a connector's secrets: a user and password (databases,
// HTTP basic) or a bearer token (HTTP).
type Credentials struct {
	User     string `json:"user,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
}

// Connector is a connector as callers see it: never its credentials.
type Connector struct {
	ID              int64           `json:"id"`
	DependenciaID   int64           `json:"dependencia_id"`
	Dependencia     string          `json:"dependencia"`
	Name            string          `json:"name"`
	Kind            string          `json:"kind"`
	Address         string          `json:"address"`
	Options         json.RawMessage `json:"options" jsonschema:"type=object"`
	HasCredentials  bool            `json:"has_credentials"`
	Object          string          `json:"object,omitempty"`
	TargetCatalog   string          `json:"target_catalog,omitempty"`
	ExpectedColumns []string        `json:"expected_columns,omitempty"`
	LoadCron        string          `json:"load_cron,omitempty"`
	LoadTimeout     Seconds         `json:"load_timeout_seconds"`
	CheckInterval   Seconds         `json:"check_interval_seconds"`
	CheckTimeout    Seconds         `json:"check_timeout_seconds"`
	Enabled         bool            `json:"enabled"`
	OwnerID         *int64          `json:"owner_id,omitempty"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	LastCheckAt     *time.Time      `json:"last_check_at,omitempty"`
	LastStatus      string          `json:"last_status,omitempty"`
	Failures        int             `json:"consecutive_failures"`
}

// Seconds is a duration that travels as whole seconds.
type Seconds int64

// Duration converts it.
func (s Seconds) Duration() time.Duration { return time.Duration(s) * time.Second }

// Input is what a caller sends to create or change a connector. Zero
// durations take the defaults; nil Credentials keep the stored ones on
// update (and mean none on create); ClearCredentials removes them.
type Input struct {
	Dependencia      string          `json:"dependencia,omitempty"` // clave; ignored on update
	Name             string          `json:"name"`
	Kind             string          `json:"kind"`
	Address          string          `json:"address"`
	Options          json.RawMessage `json:"options,omitempty" jsonschema:"type=object"`
	Credentials      *Credentials    `json:"credentials,omitempty"`
	ClearCredentials bool            `json:"clear_credentials,omitempty"`
	Object           string          `json:"object,omitempty"`
	TargetCatalog    string          `json:"target_catalog,omitempty"`
	ExpectedColumns  []string        `json:"expected_columns,omitempty"`
	LoadCron         string          `json:"load_cron,omitempty"`
	LoadTimeout      Seconds         `json:"load_timeout_seconds,omitempty"`
	CheckInterval    Seconds         `json:"check_interval_seconds,omitempty"`
	CheckTimeout     Seconds         `json:"check_timeout_seconds,omitempty"`
	Enabled          *bool           `json:"enabled,omitempty"` // nil: true
	OwnerID          *int64          `json:"owner_id,omitempty"`
}

// Store reads and writes connectors.
type Store struct {
	DB   pgdb.DBTX
	Keys *keyring.Keyring
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// validate normalizes in and lists every problem.
func (in *Input) validate() error {
	var fe []FieldError
	bad := func(field, value, msg string) { fe = append(fe, FieldError{Field: field, Value: value, Message: msg}) }
	in.Name = strings.TrimSpace(in.Name)
	if n := len([]rune(in.Name)); n < 3 || n > 120 {
		bad("name", in.Name, "el nombre debe tener de 3 a 120 caracteres")
	}
	in.Address = strings.TrimSpace(in.Address)
	switch in.Kind {
	case "postgres", "mysql", "http":
		u, err := url.Parse(in.Address)
		schemes := map[string][]string{"postgres": {"postgres", "postgresql"}, "mysql": {"mysql"}, "http": {"http", "https"}}[in.Kind]
		switch {
		case err != nil || u.Host == "" || !contains(schemes, u.Scheme):
			bad("address", in.Address, fmt.Sprintf("la dirección debe ser un URL %s://servidor[:puerto]/…", schemes[0]))
		case u.User != nil:
			bad("address", u.Redacted(), "la dirección no debe llevar usuario ni contraseña: envíelos en «credentials», que se guardan cifradas")
		}
	case "file":
		if !filepath.IsAbs(in.Address) {
			bad("address", in.Address, "la dirección de un archivo debe ser una ruta absoluta")
		}
	default:
		bad("kind", in.Kind, "el tipo debe ser uno de: "+strings.Join(Kinds, ", "))
	}
	if len(in.Options) == 0 || string(in.Options) == "null" {
		in.Options = json.RawMessage("{}")
	}
	var opts map[string]any
	if err := json.Unmarshal(in.Options, &opts); err != nil {
		bad("options", "", "las opciones deben ser un objeto JSON")
	}
	for k := range opts {
		lk := strings.ToLower(k)
		for _, w := range []string{"password", "contrasena", "contraseña", "secret", "token", "apikey", "api_key"} {
			if strings.Contains(lk, w) {
				bad("options", k, "las opciones no deben llevar secretos: envíelos en «credentials», que se guardan cifradas")
				break
			}
		}
	}
	if in.LoadCron != "" {
		if _, err := cronParser.Parse(in.LoadCron); err != nil {
			bad("load_cron", in.LoadCron, "el programa de carga no es una expresión cron válida de cinco campos (minuto hora día mes día-de-semana)")
		}
		if in.TargetCatalog == "" {
			bad("target_catalog", "", "un conector con programa de carga necesita el catálogo destino")
		}
	}
	if in.CheckInterval == 0 {
		in.CheckInterval = Seconds(DefaultCheckInterval / time.Second)
	}
	if in.CheckInterval.Duration() < MinCheckInterval || in.CheckInterval.Duration() > 24*time.Hour {
		bad("check_interval_seconds", fmt.Sprint(in.CheckInterval), "el intervalo de revisión debe estar entre 10 segundos y 24 horas")
	}
	if in.CheckTimeout == 0 {
		in.CheckTimeout = Seconds(DefaultCheckTimeout / time.Second)
	}
	if in.CheckTimeout < 1 || in.CheckTimeout > in.CheckInterval {
		bad("check_timeout_seconds", fmt.Sprint(in.CheckTimeout), "el tiempo límite de la revisión debe ser de al menos 1 segundo y no mayor que el intervalo")
	}
	if in.LoadTimeout == 0 {
		in.LoadTimeout = Seconds(DefaultLoadTimeout / time.Second)
	}
	if in.LoadTimeout < 10 || in.LoadTimeout.Duration() > 24*time.Hour {
		bad("load_timeout_seconds", fmt.Sprint(in.LoadTimeout), "el tiempo límite de la carga debe estar entre 10 segundos y 24 horas")
	}
	for i, c := range in.ExpectedColumns {
		if strings.TrimSpace(c) == "" {
			bad("expected_columns", "", fmt.Sprintf("la columna esperada %d está vacía", i+1))
		}
	}
	if in.ClearCredentials && in.Credentials != nil {
		bad("credentials", "", "no envíe credenciales y «clear_credentials» a la vez")
	}
	if len(fe) > 0 {
		return &InvalidError{Fields: fe}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (s *Store) seal(c *Credentials) (keyID *string, sealed []byte, err error) {
	if c == nil || (*c == Credentials{}) {
		return nil, nil, nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, nil, err
	}
	id, sealed, err := s.Keys.Seal(b, Purpose)
	clear(b)
	if err != nil {
		return nil, nil, err
	}
	return &id, sealed, nil
}

const columns = `c.id, c.dependencia_id, d.clave, c.name, c.kind, c.address, c.options, c.credentials_sealed IS NOT NULL,
	c.object, c.target_catalog, c.expected_columns, c.load_cron, extract(epoch FROM c.load_timeout)::bigint,
	extract(epoch FROM c.check_interval)::bigint, extract(epoch FROM c.check_timeout)::bigint, c.enabled, c.owner_id,
	c.created_at, c.updated_at, c.last_check_at, c.last_status, c.failures`

func scan(r pgx.Row) (Connector, error) {
	var c Connector
	var opts []byte
	err := r.Scan(&c.ID, &c.DependenciaID, &c.Dependencia, &c.Name, &c.Kind, &c.Address, &opts, &c.HasCredentials,
		&c.Object, &c.TargetCatalog, &c.ExpectedColumns, &c.LoadCron, &c.LoadTimeout,
		&c.CheckInterval, &c.CheckTimeout, &c.Enabled, &c.OwnerID,
		&c.CreatedAt, &c.UpdatedAt, &c.LastCheckAt, &c.LastStatus, &c.Failures)
	c.Options = opts
	return c, err
}

// Create registers a connector of the dependencia in.Dependencia; who
// (actor, request id, address) is what the bitácora records.
func (s *Store) Create(ctx context.Context, in Input, who audit.Entry) (Connector, error) {
	if err := in.validate(); err != nil {
		return Connector{}, err
	}
	keyID, sealed, err := s.seal(in.Credentials)
	if err != nil {
		return Connector{}, fmt.Errorf("registry: create %s: seal: %w", in.Name, err)
	}
	enabled := in.Enabled == nil || *in.Enabled
	var c Connector
	err = pgdb.WithTx(ctx, s.DB, func(tx pgx.Tx) error {
		var depID int64
		if err := tx.QueryRow(ctx, `SELECT id FROM meta.dependencia WHERE clave = $1`, in.Dependencia).Scan(&depID); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return &InvalidError{Fields: []FieldError{{Field: "dependencia", Value: in.Dependencia, Message: "la dependencia no existe"}}}
			}
			return err
		}
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO meta.connector (dependencia_id, name, kind, address, options, credentials_sealed, key_id, object,
				target_catalog, expected_columns, load_cron, load_timeout, check_interval, check_timeout, enabled, owner_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, make_interval(secs => $12), make_interval(secs => $13),
				make_interval(secs => $14), $15, $16)
			RETURNING id`,
			depID, in.Name, in.Kind, in.Address, []byte(in.Options), sealed, keyID, in.Object,
			in.TargetCatalog, in.ExpectedColumns, in.LoadCron, float64(in.LoadTimeout), float64(in.CheckInterval),
			float64(in.CheckTimeout), enabled, in.OwnerID).Scan(&id)
		if pgdb.IsCode(err, pgdb.UniqueViolation) {
			return &InvalidError{Fields: []FieldError{{Field: "name", Value: in.Name, Message: "la dependencia ya tiene un conector con ese nombre"}}}
		}
		if pgdb.IsCode(err, pgdb.ForeignKeyViolation) {
			return &InvalidError{Fields: []FieldError{{Field: "owner_id", Message: "el usuario responsable no existe"}}}
		}
		if err != nil {
			return err
		}
		if c, err = get(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: who.Actor, RequestID: who.RequestID, RemoteAddr: who.RemoteAddr, Action: "connector.create", ObjectType: "connector",
			ObjectID: fmt.Sprint(id), DependenciaID: &depID, Detail: auditDetail(c)})
	})
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			return Connector{}, err
		}
		return Connector{}, fmt.Errorf("registry: create %s: %w", in.Name, err)
	}
	return c, nil
}

// Update changes connector id; its dependencia stays.
func (s *Store) Update(ctx context.Context, id int64, in Input, who audit.Entry) (Connector, error) {
	if err := in.validate(); err != nil {
		return Connector{}, err
	}
	keyID, sealed, err := s.seal(in.Credentials)
	if err != nil {
		return Connector{}, fmt.Errorf("registry: update %d: seal: %w", id, err)
	}
	enabled := in.Enabled == nil || *in.Enabled
	var c Connector
	err = pgdb.WithTx(ctx, s.DB, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE meta.connector SET name = $2, kind = $3, address = $4, options = $5,
				credentials_sealed = CASE WHEN $6::bytea IS NOT NULL OR $17 THEN $6 ELSE credentials_sealed END,
				key_id = CASE WHEN $6::bytea IS NOT NULL OR $17 THEN $7 ELSE key_id END,
				object = $8, target_catalog = $9, expected_columns = $10, load_cron = $11,
				load_timeout = make_interval(secs => $12), check_interval = make_interval(secs => $13),
				check_timeout = make_interval(secs => $14), enabled = $15, owner_id = $16, updated_at = now()
			WHERE id = $1`,
			id, in.Name, in.Kind, in.Address, []byte(in.Options), sealed, keyID, in.Object, in.TargetCatalog,
			in.ExpectedColumns, in.LoadCron, float64(in.LoadTimeout), float64(in.CheckInterval), float64(in.CheckTimeout),
			enabled, in.OwnerID, in.ClearCredentials)
		if pgdb.IsCode(err, pgdb.UniqueViolation) {
			return &InvalidError{Fields: []FieldError{{Field: "name", Value: in.Name, Message: "la dependencia ya tiene un conector con ese nombre"}}}
		}
		if pgdb.IsCode(err, pgdb.ForeignKeyViolation) {
			return &InvalidError{Fields: []FieldError{{Field: "owner_id", Message: "el usuario responsable no existe"}}}
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		if c, err = get(ctx, tx, id); err != nil {
			return err
		}
		detail := auditDetail(c)
		detail["credentials_changed"] = in.Credentials != nil || in.ClearCredentials
		return audit.Record(ctx, tx, audit.Entry{Actor: who.Actor, RequestID: who.RequestID, RemoteAddr: who.RemoteAddr, Action: "connector.update", ObjectType: "connector",
			ObjectID: fmt.Sprint(id), DependenciaID: &c.DependenciaID, Detail: detail})
	})
	if err != nil {
		if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
			return Connector{}, err
		}
		return Connector{}, fmt.Errorf("registry: update %d: %w", id, err)
	}
	return c, nil
}

// Delete removes connector id and its check history.
func (s *Store) Delete(ctx context.Context, id int64, who audit.Entry) error {
	err := pgdb.WithTx(ctx, s.DB, func(tx pgx.Tx) error {
		c, err := get(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM meta.connector WHERE id = $1`, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: who.Actor, RequestID: who.RequestID, RemoteAddr: who.RemoteAddr, Action: "connector.delete", ObjectType: "connector",
			ObjectID: fmt.Sprint(id), DependenciaID: &c.DependenciaID, Detail: auditDetail(c)})
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return err
		}
		return fmt.Errorf("registry: delete %d: %w", id, err)
	}
	return nil
}

// auditDetail is what the bitácora keeps of a connector: never credentials.
func auditDetail(c Connector) map[string]any {
	return map[string]any{"name": c.Name, "kind": c.Kind, "address": c.Address, "object": c.Object,
		"target_catalog": c.TargetCatalog, "load_cron": c.LoadCron, "check_interval_seconds": c.CheckInterval, "enabled": c.Enabled}
}

// Get returns connector id.
func (s *Store) Get(ctx context.Context, id int64) (Connector, error) {
	return get(ctx, s.DB, id)
}

func get(ctx context.Context, db pgdb.DBTX, id int64) (Connector, error) {
	c, err := scan(db.QueryRow(ctx, `SELECT `+columns+` FROM meta.connector c JOIN meta.dependencia d ON d.id = c.dependencia_id WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return Connector{}, ErrNotFound
	}
	if err != nil {
		return Connector{}, fmt.Errorf("registry: get %d: %w", id, err)
	}
	return c, nil
}

// Filter narrows List.
type Filter struct {
	DependenciaID *int64 // nil: every dependencia
	OnlyEnabled   bool
}

// List returns connectors by dependencia and name.
func (s *Store) List(ctx context.Context, f Filter) ([]Connector, error) {
	rows, err := s.DB.Query(ctx, `SELECT `+columns+` FROM meta.connector c JOIN meta.dependencia d ON d.id = c.dependencia_id
		WHERE ($1::bigint IS NULL OR c.dependencia_id = $1) AND (NOT $2 OR c.enabled)
		ORDER BY d.clave, c.name`, f.DependenciaID, f.OnlyEnabled)
	if err != nil {
		return nil, fmt.Errorf("registry: list: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Connector, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("registry: list: %w", err)
	}
	return out, nil
}

// Secret opens connector id's credentials (zero when it has none). Only
// the code that connects calls it; the result is never logged or returned.
func (s *Store) Secret(ctx context.Context, id int64) (Credentials, error) {
	var keyID *string
	var sealed []byte
	err := s.DB.QueryRow(ctx, `SELECT key_id, credentials_sealed FROM meta.connector WHERE id = $1`, id).Scan(&keyID, &sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return Credentials{}, ErrNotFound
	}
	if err != nil {
		return Credentials{}, fmt.Errorf("registry: credentials of %d: %w", id, err)
	}
	if keyID == nil {
		return Credentials{}, nil
	}
	plain, err := s.Keys.Open(*keyID, sealed, Purpose)
	if err != nil {
		return Credentials{}, fmt.Errorf("registry: credentials of %d: %w", id, err)
	}
	defer clear(plain)
	var c Credentials
	if err := json.Unmarshal(plain, &c); err != nil {
		return Credentials{}, fmt.Errorf("registry: credentials of %d: %w", id, err)
	}
	return c, nil
}

// Reseal re-encrypts every connector's credentials under the current key.
func (s *Store) Reseal(ctx context.Context) (int, error) {
	var n int
	err := pgdb.WithTx(ctx, s.DB, func(tx pgx.Tx) error {
		var err error
		n, err = s.Keys.ResealColumn(ctx, tx, keyring.Column{Schema: "meta", Table: "connector", Sealed: "credentials_sealed", What: "connector"}, Purpose)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("registry: reseal: %w", err)
	}
	return n, nil
}
