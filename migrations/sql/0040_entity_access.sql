-- Entity access (F-DGTIT-DAID-GGD-5): a PostgreSQL login role that lets an
-- entity write exactly its own tables in cat. The role lives in the cluster;
-- this table records who granted it, on which tables, and its password,
-- sealed with the platform key so the connectivity checks can log in as it.

-- +goose Up
CREATE TABLE meta.entity_access (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dependencia_id   bigint NOT NULL REFERENCES meta.dependencia (id),
    role_name        text NOT NULL CHECK (role_name ~ '^[a-z][a-z0-9_]{2,62}$' AND role_name !~ '^pg_'),
    tables           text[] NOT NULL CHECK (cardinality(tables) > 0),
    password_sealed  bytea NOT NULL,
    key_id           text NOT NULL,
    granted_by       text NOT NULL,
    granted_at       timestamptz NOT NULL DEFAULT now(),
    rotated_at       timestamptz,
    revoked_by       text,
    revoked_at       timestamptz
);
CREATE UNIQUE INDEX entity_access_role_key ON meta.entity_access (role_name) WHERE revoked_at IS NULL;
CREATE INDEX entity_access_dependencia_idx ON meta.entity_access (dependencia_id);
COMMENT ON TABLE meta.entity_access IS 'Accesos de entidades (F-DGTIT-DAID-GGD-5): rol de PostgreSQL limitado a las tablas de cat de una entidad; la contraseña se guarda cifrada.';

-- An entity's role may create nothing: no temporary tables in this
-- database and (before PostgreSQL 15) nothing in public. The platform's own
-- user keeps its temporary tables.
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %I', current_database(), current_user);
END
$$;
-- +goose StatementEnd
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO PUBLIC', current_database());
END
$$;
-- +goose StatementEnd
DROP TABLE meta.entity_access;
