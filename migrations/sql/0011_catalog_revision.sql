-- A published catalog changes through a revision that is reviewed again
-- while the published one keeps serving: the proposed definition and
-- metadata, the structural changes they imply, and whether a Super
-- Administrador forced a breaking one.

-- +goose Up
CREATE TABLE meta.catalog_revision (
    catalog_id  bigint NOT NULL REFERENCES meta.catalog (id) ON DELETE CASCADE,
    number      integer NOT NULL CHECK (number > 0),
    state       text NOT NULL DEFAULT 'borrador'
                CHECK (state IN ('borrador', 'en_revision', 'con_observaciones', 'aprobado', 'publicado', 'descartado')),
    definition  jsonb NOT NULL,
    metadata    jsonb NOT NULL,
    changes     jsonb NOT NULL DEFAULT '[]',
    forced      boolean NOT NULL DEFAULT false,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,
    PRIMARY KEY (catalog_id, number)
);
CREATE UNIQUE INDEX catalog_revision_open_idx ON meta.catalog_revision (catalog_id) WHERE state NOT IN ('publicado', 'descartado');
COMMENT ON TABLE meta.catalog_revision IS 'Revisiones de catálogos publicados: definición y metadatos propuestos, cambios estructurales y su revisión.';

-- +goose Down
DROP TABLE meta.catalog_revision;
