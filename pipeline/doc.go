// Package pipeline loads a catalog: it reads a source as a stream of Arrow
// record batches, converts and validates every cell against the catalog's
// Table Schema, stages the valid rows with COPY into an unlogged table,
// checks what only the database can check over all rows (unique and primary
// keys, foreign keys to other published catalogs), and hands the staged rows
// to the catalog registry, which diffs and publishes them in one transaction.
//
// Every load is a run (meta.load_run) updated as it goes, so that another
// process can show its progress; runs of one catalog never overlap (a
// session advisory lock per catalog), and a run left "running" by a crash is
// marked failed at the next start (RecoverRuns).
//
// Memory stays flat whatever the size of the source: the pipeline holds one
// record batch at a time. That is why uniqueness across batches is decided by
// PostgreSQL over the staged rows (a GROUP BY on the key columns) and not by
// a set of keys in memory, which would grow with the source.
package pipeline
