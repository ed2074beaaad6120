package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// ErrLinkInvalid means a set-password link is unknown, used or expired.
var ErrLinkInvalid = errors.New("account: password link invalid or expired")

// NewPasswordLink makes a one-time link secret to set a user's password,
// valid for ttl; the user's earlier links stop working.
func (s *Store) NewPasswordLink(ctx context.Context, userID int64, purpose string, ttl time.Duration) (string, error) {
	if _, err := s.db.Exec(ctx, `UPDATE meta.password_link SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, userID); err != nil {
		return "", fmt.Errorf("account: retire password links: %w", err)
	}
	secret, hash := newSecret("")
	if _, err := s.db.Exec(ctx, `INSERT INTO meta.password_link (token_hash, user_id, purpose, expires_at)
		VALUES ($1, $2, $3, now() + make_interval(secs => $4))`, hash, userID, purpose, ttl.Seconds()); err != nil {
		return "", fmt.Errorf("account: new password link: %w", err)
	}
	return secret, nil
}

// PasswordLinkUser returns the active user a live link belongs to.
func (s *Store) PasswordLinkUser(ctx context.Context, secret string) (User, error) {
	u, err := scanUser(s.db.QueryRow(ctx, `
		SELECT `+prefixed("u", userColumns)+` FROM meta.password_link l JOIN meta.app_user u ON u.id = l.user_id
		WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > now() AND u.active`, hashSecret(secret)))
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrLinkInvalid
	}
	return u, err
}

// UsePasswordLink sets the password of the link's user, typed twice, and
// spends the link. It records the change in the bitácora.
func UsePasswordLink(ctx context.Context, db pgdb.DBTX, secret, password, confirm, remoteAddr string) (User, error) {
	if err := CheckNewPassword(password, confirm); err != nil {
		return User{}, err
	}
	var u User
	err := pgdb.WithTx(ctx, db, func(tx pgx.Tx) error {
		st := NewStore(tx)
		tag, err := tx.Exec(ctx, `UPDATE meta.password_link SET used_at = now()
			WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()`, hashSecret(secret))
		if err != nil {
			return fmt.Errorf("account: spend password link: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return ErrLinkInvalid
		}
		u, err = scanUser(tx.QueryRow(ctx, `
			SELECT `+prefixed("u", userColumns)+` FROM meta.password_link l JOIN meta.app_user u ON u.id = l.user_id
			WHERE l.token_hash = $1 AND u.active`, hashSecret(secret)))
		if errors.Is(err, ErrNotFound) {
			return ErrLinkInvalid
		}
		if err != nil {
			return err
		}
		if err := st.SetPassword(ctx, u.ID, password, false); err != nil {
			return err
		}
		if _, err := st.EndSessions(ctx, u.ID); err != nil {
			return err
		}
		id := u.ID
		return audit.Record(ctx, tx, audit.Entry{Actor: audit.Actor{ID: &id, Login: u.Login}, Action: "user.set_password",
			ObjectType: "user", ObjectID: fmt.Sprint(u.ID), DependenciaID: u.DependenciaID,
			Detail: map[string]string{"via": "enlace"}, RemoteAddr: remoteAddr})
	})
	return u, err
}
