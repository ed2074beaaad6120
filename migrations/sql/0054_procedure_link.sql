-- +goose Up
CREATE TABLE meta.procedure_link (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id   bigint NOT NULL REFERENCES meta.procedure_case (id),
    seq       integer NOT NULL,
    kind      text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_]{0,62}$'),
    ref       text NOT NULL CHECK (length(ref) BETWEEN 1 AND 300),
    label     text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (case_id, kind, ref)
);
COMMENT ON TABLE meta.procedure_link IS 'Lo que los pasos de un trámite crearon o vincularon en la plataforma (catálogo, revisión, acceso, conector, instructivo), con el evento del historial que lo hizo.';

-- +goose Down
DROP TABLE meta.procedure_link;
