-- Full-text search over the catalog registry: accent-insensitive (unaccent
-- before the Spanish stemmer, on both the documents and the queries, so
-- "acambaro" finds "Acámbaro"), over titles, claves, keywords, descriptions
-- and the definition's column names, titles and descriptions.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public;

-- unaccent() is STABLE (it reads its dictionary by name); with the
-- dictionary named explicitly the result depends only on the input, so this
-- wrapper may be IMMUTABLE and used in generated columns and indexes.
CREATE FUNCTION meta.f_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    RETURN public.unaccent('public.unaccent'::regdictionary, $1);

-- The searchable text of a catalog, weighted: A title, clave and keywords;
-- B description; C the columns (name, name with spaces, title, description).
-- +goose StatementBegin
CREATE FUNCTION meta.catalog_search_doc(title text, clave text, keywords text[], description text, definition jsonb)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT setweight(to_tsvector('spanish', meta.f_unaccent(coalesce(title, '') || ' ' || coalesce(replace(clave, '-', ' '), ''))), 'A')
        || setweight(to_tsvector('spanish', meta.f_unaccent(coalesce(array_to_string(keywords, ' '), ''))), 'A')
        || setweight(to_tsvector('spanish', meta.f_unaccent(coalesce(description, ''))), 'B')
        || setweight(to_tsvector('spanish', meta.f_unaccent(coalesce((
            SELECT string_agg(concat_ws(' ', f->>'name', replace(f->>'name', '_', ' '), f->>'title', f->>'description'), ' ')
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(definition->'schema'->'fields') = 'array'
                                           THEN definition->'schema'->'fields' ELSE '[]'::jsonb END) f), ''))), 'C');
END;
-- +goose StatementEnd

ALTER TABLE meta.catalog ADD COLUMN search tsvector
    GENERATED ALWAYS AS (meta.catalog_search_doc(title, clave, keywords, description, definition)) STORED;
CREATE INDEX catalog_search_idx ON meta.catalog USING gin (search);
CREATE INDEX catalog_keywords_idx ON meta.catalog USING gin (keywords);
COMMENT ON COLUMN meta.catalog.search IS 'Documento de búsqueda de texto completo (sin acentos, español): título, clave, palabras clave, descripción y columnas.';

-- +goose Down
ALTER TABLE meta.catalog DROP COLUMN search;
DROP INDEX IF EXISTS meta.catalog_keywords_idx;
DROP FUNCTION meta.catalog_search_doc(text, text, text[], text, jsonb);
DROP FUNCTION meta.f_unaccent(text);
