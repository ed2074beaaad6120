package procedure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// ErrNotFound is returned when a folio (or attachment) does not exist.
var ErrNotFound = errors.New("procedure: not found")

// Actor is who acts on a case: a portal user.
type Actor struct {
	UserID        *int64
	Login         string
	Email         string
	Name          string
	Profile       string // superadmin, admin, publicador, consulta
	DependenciaID *int64
}

// Case is a trámite.
type Case struct {
	ID             int64          `json:"-"`
	Folio          string         `json:"folio"`
	Short          string         `json:"procedimiento"`
	Version        int            `json:"version"`
	State          string         `json:"estado"`
	Data           map[string]any `json:"datos"`
	RequesterID    *int64         `json:"-"`
	RequesterLogin string         `json:"solicitante"`
	RequesterEmail string         `json:"-"`
	RequesterName  string         `json:"solicitante_nombre"`
	DependenciaID  *int64         `json:"dependencia_id,omitempty"`
	AssigneeID     *int64         `json:"-"`
	AssigneeLogin  string         `json:"responsable,omitempty"`
	ParentFolio    string         `json:"folio_origen,omitempty"`
	LockVersion    int            `json:"lock_version"`
	CreatedAt      time.Time      `json:"creado"`
	UpdatedAt      time.Time      `json:"actualizado"`
	ClosedAt       *time.Time     `json:"cerrado,omitempty"`
}

// Event is one line of a case's history.
type Event struct {
	Seq          int            `json:"seq"`
	At           time.Time      `json:"fecha"`
	ActorID      *int64         `json:"-"`
	ActorLogin   string         `json:"usuario"`
	Action       string         `json:"accion"`
	From         string         `json:"de,omitempty"`
	To           string         `json:"a"`
	Roles        []string       `json:"roles"`
	Observations string         `json:"observaciones,omitempty"`
	Data         map[string]any `json:"datos,omitempty"`
}

// Attachment describes a document attached to a case.
type Attachment struct {
	ID          int64     `json:"id"`
	Name        string    `json:"nombre"`
	ContentType string    `json:"tipo"`
	Size        int64     `json:"tamano"`
	SHA256      string    `json:"sha256"`
	ActorLogin  string    `json:"usuario"`
	At          time.Time `json:"fecha"`
}

// Actions of the history that are not transitions of a definition.
const (
	ActionOpen   = "abrir"
	ActionAssign = "asignar"
)

const caseColumns = `c.id, c.folio, c.short, c.version, c.state, c.data, c.requester_id, c.requester_login,
	c.requester_email, c.requester_name, c.dependencia_id, c.assignee_id, coalesce(u.login, ''),
	coalesce(p.folio, ''), c.lock_version, c.created_at, c.updated_at, c.closed_at`

const caseFrom = `meta.procedure_case c
	LEFT JOIN meta.app_user u ON u.id = c.assignee_id
	LEFT JOIN meta.procedure_case p ON p.id = c.parent_id`

func scanCase(row pgx.Row) (*Case, error) {
	var c Case
	var data []byte
	err := row.Scan(&c.ID, &c.Folio, &c.Short, &c.Version, &c.State, &data, &c.RequesterID, &c.RequesterLogin,
		&c.RequesterEmail, &c.RequesterName, &c.DependenciaID, &c.AssigneeID, &c.AssigneeLogin,
		&c.ParentFolio, &c.LockVersion, &c.CreatedAt, &c.UpdatedAt, &c.ClosedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &c.Data); err != nil {
		return nil, fmt.Errorf("case %s: data: %w", c.Folio, err)
	}
	return &c, nil
}

func getCase(ctx context.Context, db pgdb.DBTX, folio string, forUpdate bool) (*Case, error) {
	q := `SELECT ` + caseColumns + ` FROM ` + caseFrom + ` WHERE c.folio = $1`
	if forUpdate {
		q += ` FOR UPDATE OF c`
	}
	c, err := scanCase(db.QueryRow(ctx, q, strings.TrimSpace(folio)))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("procedure: get %s: %w", folio, err)
	}
	return c, err
}

// Filter selects cases for List.
type Filter struct {
	Short       string
	State       string
	RequesterID *int64
	// Party, when set, keeps only the cases this user filed or that belong
	// to his dependencia (what someone without a steward role may see).
	Party *Actor
	// Open: only cases not yet in a final state.
	Open bool
	// Query matches the folio or the requester's login.
	Query string
	Limit int
	// AfterID is the keyset cursor (cases come newest first).
	AfterID int64
}

func listCases(ctx context.Context, db pgdb.DBTX, f Filter) ([]*Case, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Short != "" {
		where = append(where, "c.short = "+arg(f.Short))
	}
	if f.State != "" {
		where = append(where, "c.state = "+arg(f.State))
	}
	if f.RequesterID != nil {
		where = append(where, "c.requester_id = "+arg(*f.RequesterID))
	}
	if f.Open {
		where = append(where, "c.closed_at IS NULL")
	}
	if p := f.Party; p != nil {
		cond := "false"
		if p.UserID != nil {
			cond += " OR c.requester_id = " + arg(*p.UserID)
		}
		if p.DependenciaID != nil {
			cond += " OR c.dependencia_id = " + arg(*p.DependenciaID)
		}
		where = append(where, "("+cond+")")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		p := arg("%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(q) + "%")
		where = append(where, "(c.folio ILIKE "+p+" OR c.requester_login ILIKE "+p+" OR c.requester_name ILIKE "+p+")")
	}
	if f.AfterID > 0 {
		where = append(where, "c.id < "+arg(f.AfterID))
	}
	q := `SELECT ` + caseColumns + ` FROM ` + caseFrom
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY c.id DESC LIMIT " + arg(f.Limit)
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("procedure: list cases: %w", err)
	}
	defer rows.Close()
	var out []*Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("procedure: list cases: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func history(ctx context.Context, db pgdb.DBTX, caseID int64) ([]Event, error) {
	rows, err := db.Query(ctx, `
		SELECT seq, at, actor_id, actor_login, action, coalesce(from_state, ''), to_state, roles, observations, data
		FROM meta.procedure_event WHERE case_id = $1 ORDER BY seq`, caseID)
	if err != nil {
		return nil, fmt.Errorf("procedure: history: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var data []byte
		if err := rows.Scan(&e.Seq, &e.At, &e.ActorID, &e.ActorLogin, &e.Action, &e.From, &e.To, &e.Roles, &e.Observations, &data); err != nil {
			return nil, fmt.Errorf("procedure: history: %w", err)
		}
		if err := json.Unmarshal(data, &e.Data); err != nil {
			return nil, fmt.Errorf("procedure: history data: %w", err)
		}
		if len(e.Data) == 0 {
			e.Data = nil
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func appendEvent(ctx context.Context, db pgdb.DBTX, caseID int64, e Event) (int, error) {
	data := []byte("{}")
	if len(e.Data) > 0 {
		b, err := json.Marshal(e.Data)
		if err != nil {
			return 0, err
		}
		data = b
	}
	if e.Roles == nil {
		e.Roles = []string{}
	}
	var from *string
	if e.From != "" {
		from = &e.From
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	var seq int
	err := db.QueryRow(ctx, `
		INSERT INTO meta.procedure_event (case_id, seq, at, actor_id, actor_login, action, from_state, to_state, roles, observations, data)
		SELECT $1, coalesce(max(seq), 0) + 1, $10, $2, $3, $4, $5, $6, $7, $8, $9
		FROM meta.procedure_event WHERE case_id = $1
		RETURNING seq`,
		caseID, e.ActorID, e.ActorLogin, e.Action, from, e.To, e.Roles, e.Observations, data, e.At).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("procedure: append history: %w", err)
	}
	return seq, nil
}

func nextFolio(ctx context.Context, db pgdb.DBTX, short string, now time.Time) (string, error) {
	year := now.Year()
	var n int
	err := db.QueryRow(ctx, `
		INSERT INTO meta.procedure_folio (short, year, last) VALUES ($1, $2, 1)
		ON CONFLICT (short, year) DO UPDATE SET last = meta.procedure_folio.last + 1
		RETURNING last`, short, year).Scan(&n)
	if err != nil {
		return "", fmt.Errorf("procedure: folio: %w", err)
	}
	return fmt.Sprintf("%s-%d-%05d", short, year, n), nil
}
