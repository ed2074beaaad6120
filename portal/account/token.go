package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TokenPrefix starts every personal API token, so a leaked one is easy to
// recognise (and to find with secret scanners).
const TokenPrefix = "gbd_"

// ErrTokenNotFound means no such token of that user.
var ErrTokenNotFound = errors.New("account: token not found")

// Token is a personal API token as listed: never its secret.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
}

// NewToken creates a personal API token for user and returns it with its
// secret, which is shown once: only its hash is kept.
func (s *Store) NewToken(ctx context.Context, userID int64, name string, expiresAt *time.Time) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 100 {
		return Token{}, "", &InputError{Field: "name", Message: "El nombre del token es obligatorio (hasta 100 caracteres)."}
	}
	if expiresAt != nil && !expiresAt.After(time.Now()) {
		return Token{}, "", &InputError{Field: "expires_at", Message: "La fecha de vencimiento debe ser futura."}
	}
	secret, hash := newSecret(TokenPrefix)
	t := Token{Name: name, Prefix: secret[:len(TokenPrefix)+6], ExpiresAt: expiresAt}
	err := s.db.QueryRow(ctx, `
		INSERT INTO meta.api_token (user_id, name, token_hash, prefix, expires_at)
		VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at`,
		userID, name, hash, t.Prefix, expiresAt).Scan(&t.ID, &t.CreatedAt)
	if err != nil {
		return Token{}, "", fmt.Errorf("account: new token for %d: %w", userID, err)
	}
	return t, secret, nil
}

// Tokens lists a user's live tokens, newest first.
func (s *Store) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	rows, err := s.db.Query(ctx, `
		SELECT id, name, prefix, created_at, last_used_at, expires_at FROM meta.api_token
		WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
		ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("account: tokens of %d: %w", userID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) {
		var t Token
		err := r.Scan(&t.ID, &t.Name, &t.Prefix, &t.CreatedAt, &t.LastUsedAt, &t.ExpiresAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("account: tokens of %d: %w", userID, err)
	}
	return out, nil
}

// RevokeToken ends one of a user's tokens.
func (s *Store) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	tag, err := s.db.Exec(ctx, `UPDATE meta.api_token SET revoked_at = now()
		WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, tokenID, userID)
	if err != nil {
		return fmt.Errorf("account: revoke token %d: %w", tokenID, err)
	}
	if tag.RowsAffected() == 0 {
		return ErrTokenNotFound
	}
	return nil
}

// RevokeTokens ends every token of a user.
func (s *Store) RevokeTokens(ctx context.Context, userID int64) (int64, error) {
	tag, err := s.db.Exec(ctx, `UPDATE meta.api_token SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, userID)
	if err != nil {
		return 0, fmt.Errorf("account: revoke tokens of %d: %w", userID, err)
	}
	return tag.RowsAffected(), nil
}

// TokenUser returns the active user a live token belongs to. ErrNotFound
// covers unknown, revoked, expired and deactivated alike.
func (s *Store) TokenUser(ctx context.Context, secret string) (User, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return User{}, ErrNotFound
	}
	hash := hashSecret(secret)
	var tokenID int64
	var lastUsed *time.Time
	var u User
	err := s.db.QueryRow(ctx, `
		SELECT t.id, t.last_used_at, `+prefixed("u", userColumns)+`
		FROM meta.api_token t JOIN meta.app_user u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL
		  AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.active`,
		hash).Scan(append([]any{&tokenID, &lastUsed}, u.fields()...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, ErrNotFound
	}
	if err != nil {
		return User{}, fmt.Errorf("account: token: %w", err)
	}
	if lastUsed == nil || time.Since(*lastUsed) > touchEvery {
		if _, err := s.db.Exec(ctx, `UPDATE meta.api_token SET last_used_at = now() WHERE id = $1`, tokenID); err != nil {
			return User{}, fmt.Errorf("account: touch token: %w", err)
		}
	}
	return u, nil
}
