-- Loads: every run of the pipeline is a row, updated as it goes so that
-- another process (the portal) can show its progress; staging tables live in
-- their own schema, unlogged, and are dropped when their run ends.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS staging;
COMMENT ON SCHEMA staging IS 'Tablas temporales (unlogged) de las cargas en curso; nunca se leen como datos publicados.';

CREATE TABLE meta.load_run (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    catalog_id      bigint NOT NULL,
    catalog_clave   text NOT NULL,
    trigger         text NOT NULL CHECK (trigger IN ('manual', 'upload', 'schedule')),
    state           text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'rejected')),
    stage           text NOT NULL DEFAULT '',
    dry_run         boolean NOT NULL DEFAULT false,
    source          text NOT NULL DEFAULT '',
    actor_id        bigint REFERENCES meta.app_user (id),
    actor_login     text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    heartbeat_at    timestamptz NOT NULL DEFAULT now(),
    timings         jsonb NOT NULL DEFAULT '{}',
    rows_read       bigint NOT NULL DEFAULT 0,
    rows_valid      bigint NOT NULL DEFAULT 0,
    rows_rejected   bigint NOT NULL DEFAULT 0,
    rows_added      bigint NOT NULL DEFAULT 0,
    rows_changed    bigint NOT NULL DEFAULT 0,
    rows_removed    bigint NOT NULL DEFAULT 0,
    bytes_read      bigint NOT NULL DEFAULT 0,
    bytes_total     bigint,
    report          jsonb,
    error           text NOT NULL DEFAULT '',
    error_code      text NOT NULL DEFAULT '',
    version         integer,
    CHECK ((state IN ('queued', 'running')) = (finished_at IS NULL))
);
CREATE INDEX load_run_catalog_idx ON meta.load_run (catalog_id, id DESC);
CREATE INDEX load_run_active_idx ON meta.load_run (state) WHERE state IN ('queued', 'running');
COMMENT ON TABLE meta.load_run IS 'Cargas de catálogos: origen, estado, etapa, tiempos por etapa, conteos, reporte de validación (formato Frictionless) y versión producida.';

-- +goose Down
DROP TABLE meta.load_run;
DROP SCHEMA staging CASCADE;
