-- Access to the portal: sessions, personal API tokens, one-time links to set
-- a password (the welcome e-mail), and failed sign-ins for throttling. Every
-- secret is stored as its SHA-256 only: a copy of the database opens nothing.

-- +goose Up
CREATE TABLE meta.user_session (
    id_hash       bytea PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES meta.app_user (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    remote_addr   text NOT NULL DEFAULT '',
    user_agent    text NOT NULL DEFAULT ''
);
CREATE INDEX user_session_user_idx ON meta.user_session (user_id);
CREATE INDEX user_session_expires_idx ON meta.user_session (expires_at);
COMMENT ON TABLE meta.user_session IS 'Sesiones abiertas en el portal; se guarda sólo el SHA-256 del identificador de la cookie.';

CREATE TABLE meta.api_token (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES meta.app_user (id) ON DELETE CASCADE,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    token_hash    bytea NOT NULL UNIQUE,
    prefix        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_used_at  timestamptz,
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_token_user_idx ON meta.api_token (user_id);
COMMENT ON TABLE meta.api_token IS 'Tokens personales de API (Authorization: Bearer); se guarda sólo su SHA-256.';

CREATE TABLE meta.password_link (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES meta.app_user (id) ON DELETE CASCADE,
    purpose     text NOT NULL DEFAULT 'welcome' CHECK (purpose IN ('welcome', 'reset')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_link_user_idx ON meta.password_link (user_id);
COMMENT ON TABLE meta.password_link IS 'Enlaces de un solo uso para establecer la contraseña (correo de bienvenida).';

CREATE TABLE meta.signin_failure (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login  text NOT NULL,
    addr   text NOT NULL,
    at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX signin_failure_login_idx ON meta.signin_failure (login, at);
CREATE INDEX signin_failure_addr_idx ON meta.signin_failure (addr, at);
COMMENT ON TABLE meta.signin_failure IS 'Intentos fallidos de inicio de sesión, para limitar los intentos por cuenta y por dirección.';

CREATE INDEX audit_log_action_idx ON meta.audit_log (action, id);

-- +goose Down
DROP INDEX meta.audit_log_action_idx;
DROP TABLE meta.signin_failure;
DROP TABLE meta.password_link;
DROP TABLE meta.api_token;
DROP TABLE meta.user_session;
