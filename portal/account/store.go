package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// ErrNotFound means no user matches.
var ErrNotFound = errors.New("account: user not found")

// ErrDuplicate means the login or e-mail is taken.
var ErrDuplicate = errors.New("account: login or e-mail already in use")

// User is one portal user.
type User struct {
	ID                 int64
	Login              string
	Email              string
	FullName           string
	Profile            Profile
	DependenciaID      *int64
	MustChangePassword bool
	Active             bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// NewUser is what creating a user takes; Password may be empty (the user
// then sets it through the welcome link).
type NewUser struct {
	Login              string
	Email              string
	FullName           string
	Profile            Profile
	DependenciaID      *int64
	Password           string
	MustChangePassword bool
}

// Store keeps users in meta.app_user.
type Store struct{ db pgdb.DBTX }

// NewStore returns a Store over db (a pool or a transaction).
func NewStore(db pgdb.DBTX) *Store { return &Store{db: db} }

const userColumns = `id, login, email, full_name, profile, dependencia_id, must_change_password, active, created_at, updated_at`

// fields are the scan targets of userColumns, in order.
func (u *User) fields() []any {
	return []any{&u.ID, &u.Login, &u.Email, &u.FullName, &u.Profile, &u.DependenciaID,
		&u.MustChangePassword, &u.Active, &u.CreatedAt, &u.UpdatedAt}
}

// prefixed qualifies each of a comma-separated column list with alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ", ")
	for i, p := range parts {
		parts[i] = alias + "." + p
	}
	return strings.Join(parts, ", ")
}

func scanUser(row pgx.Row) (User, error) {
	var u User
	err := row.Scan(u.fields()...)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	return u, err
}

// Create inserts a user.
func (s *Store) Create(ctx context.Context, nu NewUser) (User, error) {
	if !nu.Profile.Valid() {
		return User{}, fmt.Errorf("account: unknown profile %q", nu.Profile)
	}
	var hash *string
	if nu.Password != "" {
		h, err := HashPassword(nu.Password)
		if err != nil {
			return User{}, err
		}
		hash = &h
	}
	u, err := scanUser(s.db.QueryRow(ctx, `
		INSERT INTO meta.app_user (login, email, full_name, profile, dependencia_id, password_hash, must_change_password)
		VALUES (lower($1), $2, $3, $4, $5, $6, $7)
		RETURNING `+userColumns,
		nu.Login, nu.Email, nu.FullName, nu.Profile, nu.DependenciaID, hash, nu.MustChangePassword))
	if pgdb.IsCode(err, pgdb.UniqueViolation) {
		return User{}, ErrDuplicate
	}
	if err != nil {
		return User{}, fmt.Errorf("account: create %s: %w", nu.Login, err)
	}
	return u, nil
}

// ByLogin finds a user by login, case-insensitively.
func (s *Store) ByLogin(ctx context.Context, login string) (User, error) {
	return scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM meta.app_user WHERE lower(login) = lower($1)`, login))
}

// CountByProfile counts active users with profile p.
func (s *Store) CountByProfile(ctx context.Context, p Profile) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT count(*) FROM meta.app_user WHERE profile = $1 AND active`, p).Scan(&n)
	return n, err
}

// SetPassword replaces a user's password; mustChange makes the next sign-in
// ask for a new one.
func (s *Store) SetPassword(ctx context.Context, id int64, password string, mustChange bool) error {
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	tag, err := s.db.Exec(ctx, `UPDATE meta.app_user SET password_hash = $2, must_change_password = $3, updated_at = now() WHERE id = $1`,
		id, h, mustChange)
	if err != nil {
		return fmt.Errorf("account: set password: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return nil
}

// ByID finds a user by id.
func (s *Store) ByID(ctx context.Context, id int64) (User, error) {
	return scanUser(s.db.QueryRow(ctx, `SELECT `+userColumns+` FROM meta.app_user WHERE id = $1`, id))
}

// Filter narrows a list of users; zero values match everything.
type Filter struct {
	// Q matches login, e-mail or name, case- and accent-insensitively.
	Q             string
	Profile       Profile
	DependenciaID *int64
	Active        *bool
	// AfterID and Limit page by id (keyset); Limit 0 means 100.
	AfterID int64
	Limit   int
}

// List returns users in id order, after f.AfterID.
func (s *Store) List(ctx context.Context, f Filter) ([]User, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var q *string
	if t := strings.TrimSpace(f.Q); t != "" {
		t = "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(t)) + "%"
		q = &t
	}
	var profile *Profile
	if f.Profile != "" {
		profile = &f.Profile
	}
	rows, err := s.db.Query(ctx, `SELECT `+userColumns+` FROM meta.app_user
		WHERE id > $1
		  AND ($2::text IS NULL OR translate(lower(login || ' ' || email || ' ' || full_name), 'áéíóúüñ', 'aeiouun') LIKE translate($2, 'áéíóúüñ', 'aeiouun'))
		  AND ($3::text IS NULL OR profile = $3)
		  AND ($4::bigint IS NULL OR dependencia_id = $4)
		  AND ($5::boolean IS NULL OR active = $5)
		ORDER BY id LIMIT $6`, f.AfterID, q, profile, f.DependenciaID, f.Active, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("account: list users: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("account: list users: %w", err)
	}
	return out, nil
}
