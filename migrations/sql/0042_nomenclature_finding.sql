-- The nightly nomenclature audit: every finding on every table of cat, so
-- that only new ones are reported to the stewards, and fixed ones are
-- marked resolved.

-- +goose Up
CREATE TABLE meta.nomenclature_finding (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    table_schema  text NOT NULL,
    table_name    text NOT NULL,
    rule          text NOT NULL,
    object        text NOT NULL,
    severity      text NOT NULL CHECK (severity IN ('error', 'warning')),
    message       text NOT NULL,
    suggestion    text NOT NULL DEFAULT '',
    first_seen    timestamptz NOT NULL DEFAULT now(),
    last_seen     timestamptz NOT NULL DEFAULT now(),
    resolved_at   timestamptz
);
CREATE UNIQUE INDEX nomenclature_finding_open_key ON meta.nomenclature_finding (table_schema, table_name, rule, object) WHERE resolved_at IS NULL;
COMMENT ON TABLE meta.nomenclature_finding IS 'Hallazgos de la auditoría nocturna de nomenclatura sobre las tablas de cat: cuándo aparecieron, la última vez que se vieron y cuándo se corrigieron.';

-- +goose Down
DROP TABLE meta.nomenclature_finding;
