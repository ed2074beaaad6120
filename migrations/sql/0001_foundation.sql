-- The two schemas of Datosigto and the platform tables every part shares:
-- dependencias, users, the audit log (bitácora) and the outbox.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS cat;
COMMENT ON SCHEMA cat IS 'Catálogos transversales de Datosigto: una tabla por catálogo, nombrada según la nomenclatura DAID.';

CREATE SCHEMA IF NOT EXISTS meta;
COMMENT ON SCHEMA meta IS 'Plataforma gobdatos: dependencias, usuarios, registro de catálogos, conectores, cargas, solicitudes, bitácora.';

CREATE TABLE meta.dependencia (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clave       text NOT NULL UNIQUE CHECK (clave ~ '^[A-Z][A-Z0-9-]{1,19}$'),
    nombre      text NOT NULL CHECK (length(nombre) BETWEEN 3 AND 300),
    tipo        text NOT NULL DEFAULT 'dependencia' CHECK (tipo IN ('dependencia', 'entidad', 'externa')),
    activo      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE meta.dependencia IS 'Dependencias y entidades de la administración pública estatal que publican o adoptan catálogos.';

CREATE TABLE meta.app_user (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login                 text NOT NULL CHECK (login ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    email                 text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    full_name             text NOT NULL,
    profile               text NOT NULL CHECK (profile IN ('superadmin', 'admin', 'publicador', 'consulta')),
    dependencia_id        bigint REFERENCES meta.dependencia (id),
    password_hash         text,
    must_change_password  boolean NOT NULL DEFAULT false,
    active                boolean NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (profile <> 'publicador' OR dependencia_id IS NOT NULL)
);
CREATE UNIQUE INDEX app_user_login_key ON meta.app_user (lower(login));
CREATE UNIQUE INDEX app_user_email_key ON meta.app_user (lower(email));
COMMENT ON TABLE meta.app_user IS 'Usuarios del portal con su perfil: Super Administrador, Administrador, Publicador (de una dependencia) o Consulta.';

-- The bitácora is append-only: the trigger refuses to change or remove a line.
CREATE TABLE meta.audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_id        bigint REFERENCES meta.app_user (id),
    actor_login     text NOT NULL,
    action          text NOT NULL,
    object_type     text NOT NULL,
    object_id       text NOT NULL DEFAULT '',
    dependencia_id  bigint REFERENCES meta.dependencia (id),
    detail          jsonb NOT NULL DEFAULT '{}',
    request_id      text NOT NULL DEFAULT '',
    remote_addr     text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at_idx ON meta.audit_log (at DESC);
CREATE INDEX audit_log_object_idx ON meta.audit_log (object_type, object_id);
CREATE INDEX audit_log_actor_idx ON meta.audit_log (actor_id);
COMMENT ON TABLE meta.audit_log IS 'Bitácora: cada cambio a usuarios, catálogos y conectores; sólo se agrega, nunca se modifica.';

-- +goose StatementBegin
CREATE FUNCTION meta.audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'la bitácora sólo admite agregar registros (% no permitido)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON meta.audit_log
    FOR EACH ROW EXECUTE FUNCTION meta.audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON meta.audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION meta.audit_log_append_only();

-- Every outgoing message (e-mail, webhook) is written here in the same
-- transaction as the change that causes it, and delivered later with retries.
CREATE TABLE meta.outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('email', 'webhook')),
    recipient     text NOT NULL,
    subject       text NOT NULL DEFAULT '',
    body          text NOT NULL DEFAULT '',
    payload       jsonb NOT NULL DEFAULT '{}',
    dedup_key     text UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    available_at  timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    delivered_at  timestamptz
);
CREATE INDEX outbox_pending_idx ON meta.outbox (available_at) WHERE delivered_at IS NULL;
COMMENT ON TABLE meta.outbox IS 'Mensajes salientes (correo, webhook) pendientes de entrega; se escriben en la misma transacción que el cambio que los origina.';

-- +goose Down
DROP TABLE meta.outbox;
DROP TABLE meta.audit_log;
DROP FUNCTION meta.audit_log_append_only();
DROP TABLE meta.app_user;
DROP TABLE meta.dependencia;
DROP SCHEMA meta;
DROP SCHEMA cat;
