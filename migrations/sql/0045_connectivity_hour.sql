-- The hourly roll-up of connectivity checks: per connector or entity access
-- role, dependencia and hour (UTC), how many checks, how many failed, and
-- their latency's sum and maximum. Uptimes and charts read it instead of a
-- month of checks. A statement trigger keeps it in the transaction that
-- writes the checks, whoever writes them (the checker, a bulk INSERT), so it
-- never lags nor disagrees with them; checks are append-only (pruning
-- deletes old ones and leaves their hours alone).

-- +goose Up
CREATE TABLE meta.connectivity_hour (
    connector_id    bigint REFERENCES meta.connector (id) ON DELETE CASCADE,
    access_id       bigint REFERENCES meta.entity_access (id) ON DELETE CASCADE,
    dependencia_id  bigint NOT NULL REFERENCES meta.dependencia (id),
    hour            timestamptz NOT NULL CHECK (hour = date_trunc('hour', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),
    checks          bigint NOT NULL CHECK (checks > 0),
    failures        bigint NOT NULL CHECK (failures BETWEEN 0 AND checks),
    latency_sum_ms  double precision NOT NULL,
    latency_max_ms  double precision NOT NULL,
    CHECK (num_nonnulls(connector_id, access_id) = 1)
);
CREATE UNIQUE INDEX connectivity_hour_connector_key ON meta.connectivity_hour (connector_id, hour, dependencia_id) WHERE connector_id IS NOT NULL;
CREATE UNIQUE INDEX connectivity_hour_access_key ON meta.connectivity_hour (access_id, hour, dependencia_id) WHERE access_id IS NOT NULL;
CREATE INDEX connectivity_hour_hour_idx ON meta.connectivity_hour (hour);
COMMENT ON TABLE meta.connectivity_hour IS 'Resumen por hora (UTC) de las revisiones de conectividad de cada conector y acceso de entidad: revisiones, fallas, suma y máximo de la latencia.';

-- The partial hour at the start of an uptime window and pruning read the
-- checks by time alone.
CREATE INDEX connectivity_check_checked_at_idx ON meta.connectivity_check (checked_at);

-- +goose StatementBegin
CREATE FUNCTION meta.roll_up_checks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Sorted, so that two statements upserting the same hours lock them in
    -- the same order.
    INSERT INTO meta.connectivity_hour AS h (connector_id, dependencia_id, hour, checks, failures, latency_sum_ms, latency_max_ms)
    SELECT connector_id, dependencia_id, date_trunc('hour', checked_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        count(*), count(*) FILTER (WHERE status <> 'ok'), sum(latency_ms), max(latency_ms)
    FROM new_checks WHERE connector_id IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
    ON CONFLICT (connector_id, hour, dependencia_id) WHERE connector_id IS NOT NULL DO UPDATE SET
        checks = h.checks + EXCLUDED.checks, failures = h.failures + EXCLUDED.failures,
        latency_sum_ms = h.latency_sum_ms + EXCLUDED.latency_sum_ms,
        latency_max_ms = greatest(h.latency_max_ms, EXCLUDED.latency_max_ms);
    INSERT INTO meta.connectivity_hour AS h (access_id, dependencia_id, hour, checks, failures, latency_sum_ms, latency_max_ms)
    SELECT access_id, dependencia_id, date_trunc('hour', checked_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
        count(*), count(*) FILTER (WHERE status <> 'ok'), sum(latency_ms), max(latency_ms)
    FROM new_checks WHERE access_id IS NOT NULL
    GROUP BY 1, 2, 3 ORDER BY 1, 3, 2
    ON CONFLICT (access_id, hour, dependencia_id) WHERE access_id IS NOT NULL DO UPDATE SET
        checks = h.checks + EXCLUDED.checks, failures = h.failures + EXCLUDED.failures,
        latency_sum_ms = h.latency_sum_ms + EXCLUDED.latency_sum_ms,
        latency_max_ms = greatest(h.latency_max_ms, EXCLUDED.latency_max_ms);
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- The lock keeps checks from being written between the back-fill and the
-- trigger (an instance of the previous version still running).
LOCK TABLE meta.connectivity_check IN SHARE ROW EXCLUSIVE MODE;
CREATE TRIGGER connectivity_check_roll_up AFTER INSERT ON meta.connectivity_check
    REFERENCING NEW TABLE AS new_checks FOR EACH STATEMENT EXECUTE FUNCTION meta.roll_up_checks();
-- Checks are history: changing one would leave its hour wrong.
-- +goose StatementBegin
CREATE FUNCTION meta.refuse_check_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'meta.connectivity_check is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER connectivity_check_append_only BEFORE UPDATE ON meta.connectivity_check
    FOR EACH STATEMENT EXECUTE FUNCTION meta.refuse_check_update();

INSERT INTO meta.connectivity_hour (connector_id, access_id, dependencia_id, hour, checks, failures, latency_sum_ms, latency_max_ms)
SELECT connector_id, access_id, dependencia_id, date_trunc('hour', checked_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
    count(*), count(*) FILTER (WHERE status <> 'ok'), sum(latency_ms), max(latency_ms)
FROM meta.connectivity_check
GROUP BY 1, 2, 3, 4;

-- +goose Down
DROP TRIGGER connectivity_check_append_only ON meta.connectivity_check;
DROP FUNCTION meta.refuse_check_update();
DROP TRIGGER connectivity_check_roll_up ON meta.connectivity_check;
DROP FUNCTION meta.roll_up_checks();
DROP INDEX meta.connectivity_check_checked_at_idx;
DROP TABLE meta.connectivity_hour;
