-- The procedure engine: definitions as loaded (so a case keeps the version it
-- started with), cases (trámites), their append-only history, attachments,
-- and the grants of the manual's roles (puestos) to portal users.

-- +goose Up
CREATE TABLE meta.procedure_definition (
    short      text NOT NULL,
    version    integer NOT NULL CHECK (version >= 1),
    clave      text NOT NULL,
    name       text NOT NULL,
    checksum   text NOT NULL,
    body       jsonb NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (short, version)
);
COMMENT ON TABLE meta.procedure_definition IS 'Definiciones de procedimientos tal como se cargaron, por versión: cada trámite conserva la versión con la que inició.';

CREATE TABLE meta.procedure_folio (
    short  text NOT NULL,
    year   integer NOT NULL,
    last   integer NOT NULL,
    PRIMARY KEY (short, year)
);
COMMENT ON TABLE meta.procedure_folio IS 'Último consecutivo de folio por procedimiento y año.';

CREATE TABLE meta.procedure_case (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    folio            text NOT NULL UNIQUE,
    short            text NOT NULL,
    version          integer NOT NULL,
    state            text NOT NULL,
    data             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    requester_id     bigint REFERENCES meta.app_user (id),
    requester_login  text NOT NULL,
    requester_email  text NOT NULL DEFAULT '',
    requester_name   text NOT NULL DEFAULT '',
    dependencia_id   bigint REFERENCES meta.dependencia (id),
    assignee_id      bigint REFERENCES meta.app_user (id),
    parent_id        bigint REFERENCES meta.procedure_case (id),
    lock_version     integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    closed_at        timestamptz,
    FOREIGN KEY (short, version) REFERENCES meta.procedure_definition (short, version)
);
CREATE INDEX procedure_case_short_idx ON meta.procedure_case (short, state);
CREATE INDEX procedure_case_requester_idx ON meta.procedure_case (requester_id);
CREATE INDEX procedure_case_open_idx ON meta.procedure_case (id) WHERE closed_at IS NULL;
COMMENT ON TABLE meta.procedure_case IS 'Trámites: un caso de un procedimiento, con su estado, datos de sus formatos, solicitante, dependencia y responsable.';

CREATE TABLE meta.procedure_event (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES meta.procedure_case (id),
    seq           integer NOT NULL,
    at            timestamptz NOT NULL DEFAULT now(),
    actor_id      bigint REFERENCES meta.app_user (id),
    actor_login   text NOT NULL,
    action        text NOT NULL,
    from_state    text,
    to_state      text NOT NULL,
    roles         text[] NOT NULL DEFAULT '{}',
    observations  text NOT NULL DEFAULT '',
    data          jsonb NOT NULL DEFAULT '{}',
    UNIQUE (case_id, seq)
);
COMMENT ON TABLE meta.procedure_event IS 'Historial de cada trámite: quién, cuándo, qué acción, de qué estado a cuál y observaciones; sólo se agrega.';

-- +goose StatementBegin
CREATE FUNCTION meta.procedure_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'el historial de un trámite sólo admite agregar registros (% no permitido)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER procedure_event_append_only BEFORE UPDATE OR DELETE ON meta.procedure_event
    FOR EACH ROW EXECUTE FUNCTION meta.procedure_event_append_only();
CREATE TRIGGER procedure_event_no_truncate BEFORE TRUNCATE ON meta.procedure_event
    FOR EACH STATEMENT EXECUTE FUNCTION meta.procedure_event_append_only();

CREATE TABLE meta.procedure_attachment (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id       bigint NOT NULL REFERENCES meta.procedure_case (id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    content_type  text NOT NULL,
    size          bigint NOT NULL,
    sha256        text NOT NULL,
    content       bytea NOT NULL,
    actor_id      bigint REFERENCES meta.app_user (id),
    actor_login   text NOT NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX procedure_attachment_case_idx ON meta.procedure_attachment (case_id);
COMMENT ON TABLE meta.procedure_attachment IS 'Documentos adjuntos a un trámite (minutas, listas de asistencia, instructivos).';

CREATE TABLE meta.procedure_role_grant (
    user_id     bigint NOT NULL REFERENCES meta.app_user (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role ~ '^[a-z][a-z0-9_]{0,62}$'),
    granted_by  text NOT NULL,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role)
);
COMMENT ON TABLE meta.procedure_role_grant IS 'Puestos del manual otorgados a usuarios del portal, además de los que su perfil da por omisión.';

-- +goose Down
DROP TABLE meta.procedure_role_grant;
DROP TABLE meta.procedure_attachment;
DROP TABLE meta.procedure_event;
DROP FUNCTION meta.procedure_event_append_only();
DROP TABLE meta.procedure_case;
DROP TABLE meta.procedure_folio;
DROP TABLE meta.procedure_definition;
