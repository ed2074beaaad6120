-- The digest of a published catalog: what a re-load compares its source
-- with instead of reading every live row again. For each active row of the
-- version it names, the key in COPY text and a keyed 64-bit hash (SipHash)
-- of a text of the row from which the pipeline makes exactly the live
-- values (see pipeline/digest.go). It is a cache: unlogged (a crash empties
-- it), and a load that finds no usable digest reads the live rows.
--
-- Trust rests on one rule: any write to a live table that is not the
-- pipeline's own publication marks its digest stale. A statement trigger on
-- each live table (created by the pipeline before it first stores a
-- digest) does it; it runs as the table's owner, so the entity roles that
-- write their tables directly (F-5) need no rights on meta. The trigger
-- updates the head row instead of deleting it, so a writer that waits on a
-- publication's lock re-reads the digest that publication stored, and marks
-- it stale in turn. stale_by records who made it stale: a publication
-- stores its digest only if nobody but itself wrote the table since it
-- read the digest.

-- +goose Up
CREATE UNLOGGED TABLE meta.catalog_digest (
    catalog_id  bigint PRIMARY KEY REFERENCES meta.catalog (id) ON DELETE CASCADE,
    relid       oid NOT NULL,
    token       bigint NOT NULL,
    stale       boolean NOT NULL DEFAULT false,
    stale_by    xid8,
    version     integer,
    shape       text,
    hash_key    bytea,
    rows        bigint,
    bytes       bigint
);
CREATE INDEX catalog_digest_relid_idx ON meta.catalog_digest (relid);
COMMENT ON TABLE meta.catalog_digest IS 'Resumen (llave y hash de cada fila) de la versión publicada de un catálogo, con el que una recarga compara sin releer las filas; caché: se marca obsoleto con cualquier escritura directa a la tabla.';

CREATE UNLOGGED TABLE meta.catalog_digest_chunk (
    catalog_id  bigint NOT NULL REFERENCES meta.catalog_digest (catalog_id) ON DELETE CASCADE,
    token       bigint NOT NULL,
    n           integer NOT NULL,
    rows        integer NOT NULL,
    entries     bytea NOT NULL,
    PRIMARY KEY (catalog_id, token, n)
);
-- The entries are hashes and keys: compressing them is wasted work.
ALTER TABLE meta.catalog_digest_chunk ALTER COLUMN entries SET STORAGE EXTERNAL;
COMMENT ON TABLE meta.catalog_digest_chunk IS 'Partes del resumen de un catálogo: por fila, la longitud de la llave (uvarint), la llave en texto COPY y el hash de la fila (8 bytes).';

-- +goose StatementBegin
CREATE FUNCTION meta.f_catalog_digest_stale() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE meta.catalog_digest SET stale = true, stale_by = pg_current_xact_id()
        WHERE relid = TG_RELID AND NOT stale;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION meta.f_catalog_digest_stale() CASCADE;
DROP TABLE meta.catalog_digest_chunk;
DROP TABLE meta.catalog_digest;
