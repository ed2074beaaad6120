-- The catalog registry: one row per catalog with its definition (the one
-- source of truth of its data dictionary), its lifecycle and its versions.
-- Every published version of a catalog's rows stays queryable through the
-- schema hist: hist.<table> keeps each superseded row value once, valid from
-- version _v_desde up to (not including) _v_hasta; the live table in cat holds
-- the current values.

-- +goose Up
CREATE SCHEMA IF NOT EXISTS hist;
COMMENT ON SCHEMA hist IS 'Historia de los catálogos: cada valor anterior de cada registro, válido de la versión _v_desde a la _v_hasta (sin incluirla).';

CREATE TABLE meta.catalog (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    clave               text NOT NULL UNIQUE CHECK (clave ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(clave) <= 80),
    table_name          text NOT NULL UNIQUE CHECK (table_name ~ '^[a-z][a-z0-9_]{0,62}$'),
    title               text NOT NULL CHECK (length(title) BETWEEN 3 AND 300),
    description         text NOT NULL DEFAULT '',
    state               text NOT NULL DEFAULT 'borrador'
                        CHECK (state IN ('borrador', 'en_revision', 'con_observaciones', 'aprobado', 'publicado', 'retirado')),
    definition          jsonb NOT NULL,
    dependencia_id      bigint NOT NULL REFERENCES meta.dependencia (id),
    publish_valid_rows  boolean NOT NULL DEFAULT false,
    current_version     integer NOT NULL DEFAULT 0 CHECK (current_version >= 0),
    steward             text NOT NULL DEFAULT '',
    steward_email       text NOT NULL DEFAULT '',
    keywords            text[] NOT NULL DEFAULT '{}',
    license             text NOT NULL DEFAULT '',
    origin              text NOT NULL DEFAULT 'interno' CHECK (origin IN ('interno', 'adoptado')),
    origin_entity       text NOT NULL DEFAULT '',
    update_mechanism    text NOT NULL DEFAULT '',
    periodicity         text NOT NULL DEFAULT '',
    instructivo         bytea,
    instructivo_name    text,
    instructivo_at      timestamptz,
    created_by          text NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    published_at        timestamptz
);
CREATE INDEX catalog_dependencia_idx ON meta.catalog (dependencia_id);
CREATE INDEX catalog_state_idx ON meta.catalog (state);
COMMENT ON TABLE meta.catalog IS 'Registro de catálogos: metadatos (F-DGTIT-DAID-GGD-4), definición (diccionario de datos), estado del ciclo de vida y versión vigente.';

-- Every lifecycle transition: who, when, from where to where, observations.
CREATE TABLE meta.catalog_transition (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    catalog_id    bigint NOT NULL REFERENCES meta.catalog (id) ON DELETE CASCADE,
    revision      integer,
    action        text NOT NULL,
    from_state    text NOT NULL,
    to_state      text NOT NULL,
    actor_id      bigint REFERENCES meta.app_user (id),
    actor_login   text NOT NULL,
    observations  text NOT NULL DEFAULT '',
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX catalog_transition_catalog_idx ON meta.catalog_transition (catalog_id, at);
COMMENT ON TABLE meta.catalog_transition IS 'Transiciones del ciclo de vida de cada catálogo (y de sus revisiones): quién, cuándo y con qué observaciones.';

-- One row per publication of a catalog's data.
CREATE TABLE meta.catalog_version (
    catalog_id  bigint NOT NULL REFERENCES meta.catalog (id) ON DELETE CASCADE,
    number      integer NOT NULL CHECK (number > 0),
    row_count   bigint NOT NULL,
    added       bigint NOT NULL,
    changed     bigint NOT NULL,
    removed     bigint NOT NULL,
    checksum    text NOT NULL,
    actor_id    bigint REFERENCES meta.app_user (id),
    actor_login text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    run_id      bigint,
    PRIMARY KEY (catalog_id, number)
);
COMMENT ON TABLE meta.catalog_version IS 'Versiones publicadas de los datos de cada catálogo: filas, altas, cambios, bajas, suma de verificación, quién y cuándo.';

-- +goose Down
DROP TABLE meta.catalog_version;
DROP TABLE meta.catalog_transition;
DROP TABLE meta.catalog;
DROP SCHEMA hist CASCADE;
