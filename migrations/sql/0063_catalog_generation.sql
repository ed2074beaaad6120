-- The generation of the catalog registry: a number that grows with every
-- committed transaction that changes what a list of catalogs shows (the
-- catalogs, their dependencias, their versions). Portal instances keep the
-- encoded list answers keyed by it and read it on every request (one tiny
-- query shared by the requests that arrive together), so a change made on
-- any instance, or by the command line, is seen at once by all of them.
--
-- The bump is a deferred constraint trigger: it runs at commit, so the
-- generation row is locked only for the instant before a transaction
-- commits (never for the length of a load), and the new number becomes
-- visible in the same instant as the change itself. A transaction bumps it
-- once however many rows it touches.

-- +goose Up
CREATE TABLE meta.catalog_generation (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    n         bigint NOT NULL DEFAULT 1,
    last_xact xid8
);
COMMENT ON TABLE meta.catalog_generation IS 'Generación del registro de catálogos: crece con cada transacción que cambia catálogos, dependencias o versiones (invalida las respuestas guardadas de las listas).';
INSERT INTO meta.catalog_generation DEFAULT VALUES;

-- +goose StatementBegin
CREATE FUNCTION meta.f_bump_catalog_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE meta.catalog_generation SET n = n + 1, last_xact = pg_current_xact_id()
        WHERE last_xact IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE CONSTRAINT TRIGGER catalog_generation AFTER INSERT OR UPDATE OR DELETE ON meta.catalog
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION meta.f_bump_catalog_generation();
CREATE CONSTRAINT TRIGGER catalog_generation AFTER INSERT OR UPDATE OR DELETE ON meta.catalog_version
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION meta.f_bump_catalog_generation();
CREATE CONSTRAINT TRIGGER catalog_generation AFTER INSERT OR UPDATE OR DELETE ON meta.dependencia
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION meta.f_bump_catalog_generation();

-- +goose Down
DROP TRIGGER catalog_generation ON meta.dependencia;
DROP TRIGGER catalog_generation ON meta.catalog_version;
DROP TRIGGER catalog_generation ON meta.catalog;
DROP FUNCTION meta.f_bump_catalog_generation();
DROP TABLE meta.catalog_generation;
