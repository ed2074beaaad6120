package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// touchEvery is how stale a session's last_seen_at may get before a request
// refreshes it: idle expiry is that coarse, and most requests write nothing.
const touchEvery = 30 * time.Second

// SessionPolicy says how long sessions last.
type SessionPolicy struct {
	// Idle ends a session nobody used for this long.
	Idle time.Duration
	// MaxAge ends a session this long after sign-in, used or not.
	MaxAge time.Duration
}

// DefaultSessionPolicy: two idle hours, twelve in all (a working day).
var DefaultSessionPolicy = SessionPolicy{Idle: 2 * time.Hour, MaxAge: 12 * time.Hour}

// NewSession opens a session for user and returns the cookie value (shown
// once; only its hash is kept) and when the session ends at the latest.
func (s *Store) NewSession(ctx context.Context, userID int64, p SessionPolicy, remoteAddr, userAgent string) (string, time.Time, error) {
	secret, hash := newSecret("")
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	var expires time.Time
	err := s.db.QueryRow(ctx, `
		INSERT INTO meta.user_session (id_hash, user_id, expires_at, remote_addr, user_agent)
		VALUES ($1, $2, now() + make_interval(secs => $3), $4, $5)
		RETURNING expires_at`,
		hash, userID, p.MaxAge.Seconds(), remoteAddr, userAgent).Scan(&expires)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("account: new session for %d: %w", userID, err)
	}
	return secret, expires, nil
}

// SessionUser returns the active user of a live session, and refreshes its
// idle clock. ErrNotFound covers unknown, expired and deactivated alike.
func (s *Store) SessionUser(ctx context.Context, secret string, p SessionPolicy) (User, error) {
	if secret == "" {
		return User{}, ErrNotFound
	}
	hash := hashSecret(secret)
	var lastSeen time.Time
	var u User
	err := s.db.QueryRow(ctx, `
		SELECT s.last_seen_at, `+prefixed("u", userColumns)+`
		FROM meta.user_session s JOIN meta.app_user u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > now()
		  AND s.last_seen_at > now() - make_interval(secs => $2) AND u.active`,
		hash, p.Idle.Seconds()).Scan(append([]any{&lastSeen}, u.fields()...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("account: session: %w", err)
	}
	if time.Since(lastSeen) > touchEvery {
		if _, err := s.db.Exec(ctx, `UPDATE meta.user_session SET last_seen_at = now() WHERE id_hash = $1`, hash); err != nil {
			return User{}, fmt.Errorf("account: touch session: %w", err)
		}
	}
	return u, nil
}

// EndSession signs one session out.
func (s *Store) EndSession(ctx context.Context, secret string) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM meta.user_session WHERE id_hash = $1`, hashSecret(secret)); err != nil {
		return fmt.Errorf("account: end session: %w", err)
	}
	return nil
}

// EndSessions signs a user out everywhere and reports how many sessions ended.
func (s *Store) EndSessions(ctx context.Context, userID int64) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM meta.user_session WHERE user_id = $1`, userID)
	if err != nil {
		return 0, fmt.Errorf("account: end sessions of %d: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

// EndOtherSessions signs a user out everywhere but the session keep.
func (s *Store) EndOtherSessions(ctx context.Context, userID int64, keep string) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM meta.user_session WHERE user_id = $1 AND id_hash <> $2`, userID, hashSecret(keep))
	if err != nil {
		return 0, fmt.Errorf("account: end other sessions of %d: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

// Prune deletes what access no longer needs: sessions past their absolute
// expiry or idle too long, failed sign-ins older than a day, and password
// links spent or expired a week ago. It reports how many sessions ended.
func (s *Store) Prune(ctx context.Context, p SessionPolicy) (int64, error) {
	tag, err := s.db.Exec(ctx, `DELETE FROM meta.user_session
		WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)`, p.Idle.Seconds())
	if err != nil {
		return 0, fmt.Errorf("account: prune sessions: %w", err)
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM meta.signin_failure WHERE at < now() - interval '1 day'`); err != nil {
		return 0, fmt.Errorf("account: prune failed sign-ins: %w", err)
	}
	if _, err := s.db.Exec(ctx, `DELETE FROM meta.password_link WHERE coalesce(used_at, expires_at) < now() - interval '7 days'`); err != nil {
		return 0, fmt.Errorf("account: prune password links: %w", err)
	}
	return tag.RowsAffected(), nil
}
