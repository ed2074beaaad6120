package pipeline

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dchest/siphash"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// A catalog's digest (meta.catalog_digest, see its migration) is what a
// re-load compares with instead of reading every live row again: for each
// active row of the published version, its key in COPY text and a keyed
// hash of a text of the row from which the pipeline makes exactly the live
// values. That text is the row in COPY text, the definition's columns in
// order, as the load that published the row had it: what a first load
// copied (the validated cells), what a re-load compared (the source's
// cells, see cellAppender), or what PostgreSQL wrote when a load read the
// live rows. The same text under the same definition makes the same
// values, so a source row whose hash is its published row's is that row.
//
// The hash is SipHash-2-4 under a random key kept with the digest: a
// publisher who cannot read meta cannot craft a changed row that passes for
// unchanged.

// digestScheme names how rows are hashed; it is part of the shape, so a
// digest made another way is not used.
const digestScheme = "siphash-2-4/copy-text/v1"

// digestTrigger is the statement trigger that marks a table's digest stale
// on every write (meta.f_catalog_digest_stale).
const digestTrigger = "gobdatos_digest"

// digestLockWait bounds how long a load waits to put the trigger on its
// table.
const digestLockWait = "2s"

// digestChunkBytes is about how much of a digest one chunk row holds.
const digestChunkBytes = 256 << 10

type digestKey struct{ k0, k1 uint64 }

func newDigestKey() digestKey {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return digestKeyOf(b[:])
}

func digestKeyOf(b []byte) digestKey {
	return digestKey{binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[8:])}
}

func (k digestKey) bytes() []byte {
	return binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, k.k0), k.k1)
}

func (k digestKey) sum(row []byte) uint64 { return siphash.Hash(k.k0, k.k1, row) }

// digestShape fingerprints what makes a row's values from its text: the
// definition's schema (fields, types, constraints, missing values, keys).
func digestShape(res *tableschema.Resource) (string, error) {
	b, err := json.Marshal(res.Schema)
	if err != nil {
		return "", fmt.Errorf("digest shape: %w", err)
	}
	sum := sha256.Sum256(append([]byte(digestScheme+"\n"), b...))
	return hex.EncodeToString(sum[:]), nil
}

// digestPlan is what a load knows of its catalog's digest before it reads:
// the token of the head row, armed so that any write from now on marks it
// stale, and the shape the digest must have.
type digestPlan struct {
	token int64
	shape string
}

// prepareDigest makes sure the catalog's live table has the trigger and
// its digest a head row that any write from now on marks stale: the one
// that holds the published version's digest when it is still good, else a
// new empty one (a load then reads the live rows, and stores the digest
// that results if nobody else writes the table meanwhile).
func prepareDigest(ctx context.Context, pool *pgxpool.Pool, c *catalog.Catalog, shape string) (digestPlan, error) {
	table := pgdb.QuoteQualified(catalog.Schema, c.Table)
	plan := digestPlan{shape: shape}
	err := pgdb.WithTx(ctx, pool, func(tx pgx.Tx) error {
		// Creating the trigger waits for the transactions that write the
		// table; a load does not wait long for that: it goes on without a
		// digest and tries again next time.
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '"+digestLockWait+"'"); err != nil {
			return err
		}
		var enabled string
		err := tx.QueryRow(ctx, `SELECT tgenabled::text FROM pg_trigger WHERE tgrelid = $1::regclass AND tgname = $2`,
			table, digestTrigger).Scan(&enabled)
		if errors.Is(err, pgx.ErrNoRows) {
			if _, err := tx.Exec(ctx, "CREATE TRIGGER "+pgdb.QuoteIdent(digestTrigger)+
				" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "+table+
				" FOR EACH STATEMENT EXECUTE FUNCTION meta.f_catalog_digest_stale()"); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if enabled != "A" {
			// Also under session_replication_role = replica: logical
			// replication and restores write that way.
			if _, err := tx.Exec(ctx, "ALTER TABLE "+table+" ENABLE ALWAYS TRIGGER "+pgdb.QuoteIdent(digestTrigger)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO meta.catalog_digest (catalog_id, relid, token) VALUES ($1, $2::regclass, $3)
			ON CONFLICT (catalog_id) DO UPDATE SET relid = EXCLUDED.relid, token = EXCLUDED.token, stale = false,
				stale_by = NULL, version = NULL, shape = NULL, hash_key = NULL, rows = NULL, bytes = NULL
			WHERE meta.catalog_digest.stale OR meta.catalog_digest.relid <> EXCLUDED.relid
				OR meta.catalog_digest.version IS DISTINCT FROM $4 OR meta.catalog_digest.shape IS DISTINCT FROM $5`,
			c.ID, table, randomToken(), c.CurrentVersion, shape); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT token FROM meta.catalog_digest WHERE catalog_id = $1`, c.ID).Scan(&plan.token); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, deleteOtherChunks, c.ID, plan.token)
		return err
	})
	if err != nil {
		return digestPlan{}, fmt.Errorf("digest of %s: %w", c.Clave, err)
	}
	return plan, nil
}

// deleteOtherChunks drops a catalog's chunks that are not under the
// token given: those of a digest replaced, or of a load that stored none.
const deleteOtherChunks = `DELETE FROM meta.catalog_digest_chunk WHERE catalog_id = $1 AND token <> $2`

func randomToken() int64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int64(binary.LittleEndian.Uint64(b[:]) >> 1)
}

// digestHead is the head row as a load's snapshot sees it.
type digestHead struct {
	usable      bool
	key         digestKey
	rows, bytes int64
}

// readDigestHead reads, in the snapshot of tx, whether the catalog's
// digest holds version and plan's shape, untouched since plan was made.
func readDigestHead(ctx context.Context, tx pgx.Tx, c *catalog.Catalog, version int, plan digestPlan) (digestHead, error) {
	var h digestHead
	var key []byte
	err := tx.QueryRow(ctx, `
		SELECT coalesce(NOT d.stale AND d.token = $2 AND d.version = $3 AND d.shape = $4 AND d.relid = $5::regclass
			AND EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = d.relid AND t.tgname = $6 AND t.tgenabled = 'A'), false),
			d.hash_key, coalesce(d.rows, 0), coalesce(d.bytes, 0)
		FROM meta.catalog_digest d WHERE d.catalog_id = $1`,
		c.ID, plan.token, version, plan.shape, pgdb.QuoteQualified(catalog.Schema, c.Table), digestTrigger).
		Scan(&h.usable, &key, &h.rows, &h.bytes)
	if errors.Is(err, pgx.ErrNoRows) {
		return digestHead{}, nil
	}
	if err != nil {
		return digestHead{}, fmt.Errorf("digest of %s: %w", c.Clave, err)
	}
	if h.usable && len(key) == 16 {
		h.key = digestKeyOf(key)
	} else {
		h.usable = false
	}
	return h, nil
}

// readDigestChunks hands each chunk of the digest to add, in order.
func readDigestChunks(ctx context.Context, tx pgx.Tx, catalogID, token int64, add func(entries []byte) error) error {
	rows, err := tx.Query(ctx, `SELECT entries FROM meta.catalog_digest_chunk WHERE catalog_id = $1 AND token = $2 ORDER BY n`, catalogID, token)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := add(rows.RawValues()[0]); err != nil {
			return err
		}
	}
	return rows.Err()
}

// appendDigestEntry appends one row's entry: the key's length (uvarint),
// the key in COPY text, the row's hash (8 bytes, little-endian).
func appendDigestEntry(dst, key []byte, h uint64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(key)))
	dst = append(dst, key...)
	return binary.LittleEndian.AppendUint64(dst, h)
}

// digestSpill collects the digest of what a load publishes, row by row in
// the source's order, and writes it in chunks, as it goes, under a token of
// its own that no reader looks for: the publication then only points the
// head row at it. Its memory does not grow with the source, and the writing
// runs while the load still reads.
type digestSpill struct {
	key       digestKey
	catalogID int64
	token     int64
	chunk     []byte
	n         int // rows in chunk
	rows      int64
	bytes     int64
	chunks    int32

	pool   *pgxpool.Pool
	cancel context.CancelFunc
	queue  chan digestChunk
	free   chan []byte
	done   chan struct{}
	err    error // the writer's, once done is closed
	ended  bool
	stored bool
}

type digestChunk struct {
	n, rows int32
	entries []byte
}

// digestQueue is how many chunks may wait for the writer.
const digestQueue = 2

func newDigestSpill(ctx context.Context, pool *pgxpool.Pool, catalogID int64, key digestKey) *digestSpill {
	ctx, cancel := context.WithCancel(ctx)
	s := &digestSpill{key: key, catalogID: catalogID, token: randomToken(), pool: pool, cancel: cancel,
		queue: make(chan digestChunk, digestQueue), free: make(chan []byte, digestQueue+2), done: make(chan struct{})}
	s.chunk = s.buffer()
	go s.write(ctx)
	return s
}

func (s *digestSpill) buffer() []byte {
	select {
	case b := <-s.free:
		return b[:0]
	default:
		return make([]byte, 0, digestChunkBytes+256)
	}
}

// write inserts the chunks as they come.
func (s *digestSpill) write(ctx context.Context) {
	defer close(s.done)
	for c := range s.queue {
		if s.err == nil {
			_, err := s.pool.Exec(ctx, `INSERT INTO meta.catalog_digest_chunk (catalog_id, token, n, rows, entries)
				VALUES ($1, $2, $3, $4, $5)`, s.catalogID, s.token, c.n, c.rows, c.entries)
			if err != nil {
				s.err = fmt.Errorf("digest chunk %d: %w", c.n, err)
			}
		}
		select {
		case s.free <- c.entries:
		default:
		}
	}
}

// add records one published row.
func (s *digestSpill) add(key []byte, h uint64) {
	s.chunk = appendDigestEntry(s.chunk, key, h)
	s.n++
	s.rows++
	if len(s.chunk) >= digestChunkBytes {
		s.flush()
	}
}

// flush hands the current chunk to the writer.
func (s *digestSpill) flush() {
	if s.n == 0 {
		return
	}
	s.chunks++
	s.bytes += int64(len(s.chunk))
	s.queue <- digestChunk{n: s.chunks, rows: int32(s.n), entries: s.chunk}
	s.chunk, s.n = s.buffer(), 0
}

// end writes the last chunk and waits for the writer.
func (s *digestSpill) end() error {
	if !s.ended {
		s.ended = true
		s.flush()
		close(s.queue)
	}
	<-s.done
	return s.err
}

// close stops the writer and, unless the digest was stored, removes what
// it wrote.
func (s *digestSpill) close() {
	if s == nil {
		return
	}
	if !s.ended {
		s.cancel()
		s.ended = true
		close(s.queue)
	}
	<-s.done
	s.cancel()
	if s.stored {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_, _ = s.pool.Exec(ctx, `DELETE FROM meta.catalog_digest_chunk WHERE catalog_id = $1 AND token = $2`, s.catalogID, s.token)
}

// store makes this the catalog's digest, of version, in the publication's
// transaction tx, after the publication wrote the live table. It stores
// nothing (false) when somebody else wrote the table since plan was made:
// the digest would not see that write. A failure leaves tx as it was.
func (s *digestSpill) store(ctx context.Context, tx pgx.Tx, plan digestPlan, version int) (bool, error) {
	if err := s.end(); err != nil {
		return false, err
	}
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer pgdb.Rollback(ctx, sp)
	var ok bool
	err = sp.QueryRow(ctx, `SELECT token = $2 AND (NOT stale OR stale_by = pg_current_xact_id())
		FROM meta.catalog_digest WHERE catalog_id = $1 FOR UPDATE`, s.catalogID, plan.token).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !ok) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := sp.Exec(ctx, `UPDATE meta.catalog_digest SET token = $2, stale = false, stale_by = NULL,
		version = $3, shape = $4, hash_key = $5, rows = $6, bytes = $7 WHERE catalog_id = $1`,
		s.catalogID, s.token, version, plan.shape, s.key.bytes(), s.rows, s.bytes); err != nil {
		return false, err
	}
	if _, err := sp.Exec(ctx, deleteOtherChunks, s.catalogID, s.token); err != nil {
		return false, err
	}
	if err := sp.Commit(ctx); err != nil {
		return false, err
	}
	s.stored = true
	return true, nil
}
