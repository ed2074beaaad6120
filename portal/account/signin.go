package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
)

// ErrBadCredentials means the login and password do not open an active
// account. It never says which part was wrong.
var ErrBadCredentials = errors.New("account: wrong login or password")

// ErrThrottled means too many failed sign-ins for that login or address.
var ErrThrottled = errors.New("account: too many failed sign-ins")

// InputError is bad input from a person: the field and a Spanish message.
type InputError struct {
	Field   string
	Message string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Message }

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// CheckNewPassword validates a password a person chose, typed twice.
func CheckNewPassword(password, confirm string) error {
	switch {
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return &InputError{Field: "password", Message: fmt.Sprintf("La contraseña debe tener al menos %d caracteres.", MinPasswordLength)}
	case len(password) > 200:
		return &InputError{Field: "password", Message: "La contraseña no puede exceder 200 caracteres."}
	case password != confirm:
		return &InputError{Field: "password_confirm", Message: "Las dos contraseñas no coinciden."}
	}
	return nil
}

// Throttle limits failed sign-ins within Window: PerLogin for one account,
// PerAddr from one address. Failures are stored, so the limits hold across
// every instance of the portal.
type Throttle struct {
	PerLogin int
	PerAddr  int
	Window   time.Duration
}

// DefaultThrottle: 5 failures per account and 20 per address in 15 minutes.
var DefaultThrottle = Throttle{PerLogin: 5, PerAddr: 20, Window: 15 * time.Minute}

// dummyHash makes a sign-in with an unknown login cost as much as one with a
// known login, so timing does not reveal which logins exist.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("gobdatos-no-such-user")
	return h
})

// SignIn checks a login and password from addr under throttle t. It answers
// ErrThrottled before checking anything once the limits are reached, and
// ErrBadCredentials for an unknown login, a wrong password, a user without a
// password, or a deactivated user alike.
func (s *Store) SignIn(ctx context.Context, login, password, addr string, t Throttle) (User, error) {
	login = strings.ToLower(strings.TrimSpace(login))
	var byLogin, byAddr int
	err := s.db.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE login = $1), count(*) FILTER (WHERE addr = $2)
		FROM meta.signin_failure
		WHERE at > now() - make_interval(secs => $3) AND (login = $1 OR addr = $2)`,
		login, addr, t.Window.Seconds()).Scan(&byLogin, &byAddr)
	if err != nil {
		return User{}, fmt.Errorf("account: sign-in throttle: %w", err)
	}
	if byLogin >= t.PerLogin || byAddr >= t.PerAddr {
		return User{}, ErrThrottled
	}
	var hash *string
	var u User
	err = s.db.QueryRow(ctx, `SELECT `+userColumns+`, password_hash FROM meta.app_user WHERE lower(login) = $1`, login).
		Scan(append(u.fields(), &hash)...)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return User{}, fmt.Errorf("account: sign-in %s: %w", login, err)
	}
	ok := false
	if hash != nil {
		ok, err = CheckPassword(*hash, password)
		if err != nil {
			return User{}, fmt.Errorf("account: sign-in %s: %w", login, err)
		}
	} else {
		_, _ = CheckPassword(dummyHash(), password)
	}
	if !ok || !u.Active {
		if _, err := s.db.Exec(ctx, `INSERT INTO meta.signin_failure (login, addr) VALUES ($1, $2)`, login, addr); err != nil {
			return User{}, fmt.Errorf("account: record failed sign-in: %w", err)
		}
		return User{}, ErrBadCredentials
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM meta.signin_failure WHERE login = $1 OR at < now() - make_interval(secs => $2)`,
		login, t.Window.Seconds()); err != nil {
		return User{}, fmt.Errorf("account: clear failed sign-ins: %w", err)
	}
	return u, nil
}
