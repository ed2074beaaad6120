-- Connectors as records: an entity's source (kind, address, sealed
-- credentials, the table or query, the target catalog, the load schedule,
-- the check interval), the history of connectivity checks of connectors and
-- of entity access roles, and what the alerts need to notify once.

-- +goose Up
CREATE TABLE meta.connector (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dependencia_id      bigint NOT NULL REFERENCES meta.dependencia (id),
    name                text NOT NULL CHECK (length(name) BETWEEN 3 AND 120),
    kind                text NOT NULL CHECK (kind IN ('postgres', 'mysql', 'http', 'file')),
    address             text NOT NULL CHECK (length(address) BETWEEN 1 AND 2000),
    options             jsonb NOT NULL DEFAULT '{}',
    credentials_sealed  bytea,
    key_id              text,
    object              text NOT NULL DEFAULT '',
    target_catalog      text NOT NULL DEFAULT '',
    expected_columns    text[],
    load_cron           text NOT NULL DEFAULT '',
    load_timeout        interval NOT NULL DEFAULT '30 minutes',
    check_interval      interval NOT NULL DEFAULT '5 minutes' CHECK (check_interval >= '10 seconds'),
    check_timeout       interval NOT NULL DEFAULT '15 seconds' CHECK (check_timeout >= '1 second'),
    enabled             boolean NOT NULL DEFAULT true,
    owner_id            bigint REFERENCES meta.app_user (id) ON DELETE SET NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    -- check bookkeeping: the claim that keeps two instances from checking
    -- it in the same interval, and the alert state
    last_check_at       timestamptz,
    last_status         text NOT NULL DEFAULT '',
    failures            integer NOT NULL DEFAULT 0,
    alerted             boolean NOT NULL DEFAULT false,
    UNIQUE (dependencia_id, name),
    CHECK ((credentials_sealed IS NULL) = (key_id IS NULL))
);
COMMENT ON TABLE meta.connector IS 'Conectores de las dependencias: origen, credenciales cifradas, tabla o consulta, catálogo destino, programa de carga e intervalo de revisión.';

ALTER TABLE meta.entity_access
    ADD COLUMN last_check_at timestamptz,
    ADD COLUMN last_status   text NOT NULL DEFAULT '',
    ADD COLUMN failures      integer NOT NULL DEFAULT 0,
    ADD COLUMN alerted       boolean NOT NULL DEFAULT false;

CREATE TABLE meta.connectivity_check (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    connector_id    bigint REFERENCES meta.connector (id) ON DELETE CASCADE,
    access_id       bigint REFERENCES meta.entity_access (id) ON DELETE CASCADE,
    dependencia_id  bigint NOT NULL REFERENCES meta.dependencia (id),
    checked_at      timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL CHECK (status IN ('ok', 'dns', 'refused', 'timeout', 'tls', 'auth', 'permission', 'missing', 'drift', 'error')),
    latency_ms      double precision NOT NULL,
    message         text NOT NULL DEFAULT '',
    CHECK (num_nonnulls(connector_id, access_id) = 1)
);
CREATE INDEX connectivity_check_connector_idx ON meta.connectivity_check (connector_id, checked_at DESC) WHERE connector_id IS NOT NULL;
CREATE INDEX connectivity_check_access_idx ON meta.connectivity_check (access_id, checked_at DESC) WHERE access_id IS NOT NULL;
CREATE INDEX connectivity_check_dependencia_idx ON meta.connectivity_check (dependencia_id, checked_at DESC);
COMMENT ON TABLE meta.connectivity_check IS 'Historial de revisiones de conectividad de conectores y accesos de entidades: hora, estado, latencia y mensaje.';

-- Schedulers reload a connector's jobs when it changes.
-- +goose StatementBegin
CREATE FUNCTION meta.notify_check_target() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE TG_TABLE_NAME WHEN 'connector' THEN 'connector' ELSE 'access' END;
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('gobdatos_check_targets', kind || ':' || OLD.id);
        RETURN OLD;
    END IF;
    PERFORM pg_notify('gobdatos_check_targets', kind || ':' || NEW.id);
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER connector_notify AFTER INSERT OR DELETE OR UPDATE OF
    kind, address, options, credentials_sealed, object, expected_columns, load_cron, load_timeout, check_interval, check_timeout, enabled
    ON meta.connector FOR EACH ROW EXECUTE FUNCTION meta.notify_check_target();
CREATE TRIGGER entity_access_notify AFTER INSERT OR DELETE OR UPDATE OF password_sealed, revoked_at, tables
    ON meta.entity_access FOR EACH ROW EXECUTE FUNCTION meta.notify_check_target();

-- +goose Down
DROP TRIGGER entity_access_notify ON meta.entity_access;
DROP TABLE meta.connectivity_check;
DROP TABLE meta.connector;
DROP FUNCTION meta.notify_check_target();
ALTER TABLE meta.entity_access DROP COLUMN last_check_at, DROP COLUMN last_status, DROP COLUMN failures, DROP COLUMN alerted;
