package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"math"
	"math/bits"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
	"github.com/dgtit-gto/gobdatos/pipeline/offheap"
)

// published is what a re-load compares its rows with: for every active row
// of the published version, its key in COPY text and a hash of the row
// (see digest.go), read from the catalog's digest or, when it has none
// usable, from the live rows. A source row whose hash equals its published
// row's is that row, valid by construction: it is neither converted,
// checked nor staged.
//
// The index lives outside the Go heap (package offheap): about 16 bytes a
// row plus the keys, which at millions of rows would otherwise double under
// the collector's pacing.
type published struct {
	version int
	cols    []*column
	keyPos  []int // positions in cols of the key's columns, in key order
	seed    maphash.Seed
	hkey    digestKey
	// fromDigest says the rows came from the digest, not the live table.
	fromDigest bool
	logger     *slog.Logger
	rows       []pubRow // offheap
	slots      []uint32 // offheap; open addressing on the key hash: index+1 in rows, 0 empty
	arena      []byte   // offheap; the rows' digest entries (appendDigestEntry)
	// unchanged has a bit per row: the load brought it unchanged, so it
	// stays; every other published key is a candidate for removal.
	unchanged []uint64
	scratch   []byte
}

// pubRow is one published row.
type pubRow struct {
	key   uint32 // the low bits of the key's hash
	at    uint32 // offset of the row's entry in arena
	first uint32 // row number of the load's first valid row with this key; 0 none yet
}

// deltaApplies says whether a re-load of the catalog can compare rows with
// the published ones: it needs a primary key of text or integer columns,
// whose equality in PostgreSQL is equality of the canonical text, and no
// check that looks at other rows than the changed ones (a unique field, a
// foreign key to the catalog itself).
func deltaApplies(res *tableschema.Resource, cols []*column) bool {
	s := res.Schema
	if len(s.PrimaryKey) == 0 || len(keySets(res)) != 1 {
		return false
	}
	for _, fk := range s.ForeignKeys {
		if strings.TrimPrefix(fk.Reference.Resource, "cat.") == "" {
			return false
		}
	}
	for _, k := range s.PrimaryKey {
		ok := false
		for _, c := range cols {
			if c.name == k {
				ok = (c.kind == kText && c.sql.Base != "char") || c.kind == kInt
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func newPublished(c *catalog.Catalog, cols []*column) *published {
	return &published{cols: cols, seed: maphash.MakeSeed(), keyPos: keyPositions(c.Resource, cols)}
}

// keyPositions are the positions in cols of the primary key's columns, in
// the key's order.
func keyPositions(res *tableschema.Resource, cols []*column) []int {
	var pos []int
	for _, k := range res.Schema.PrimaryKey {
		for j, col := range cols {
			if col.name == k {
				pos = append(pos, j)
			}
		}
	}
	return pos
}

// free gives back the index's memory.
func (p *published) free() {
	_ = offheap.Free(p.rows)
	_ = offheap.Free(p.slots)
	_ = offheap.Free(p.arena)
	p.rows, p.slots, p.arena = nil, nil, nil
}

// pendingPublished is the published rows being read while the source
// starts.
type pendingPublished struct {
	done   chan struct{}
	cancel context.CancelFunc
	p      *published
	err    error
}

// readPublished starts reading the published rows of c, from its digest
// when plan finds it good. Its connection is taken before it returns: the
// load's COPY, which waits for the published rows, takes its own after,
// so loads that share a pool never wait on each other for one.
func readPublished(ctx context.Context, pool *pgxpool.Pool, c *catalog.Catalog, cols []*column, plan digestPlan, logger *slog.Logger) *pendingPublished {
	ctx, cancel := context.WithCancel(ctx)
	pp := &pendingPublished{done: make(chan struct{}), cancel: cancel}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		pp.err = fmt.Errorf("lectura de las filas publicadas: %w", err)
		close(pp.done)
		return pp
	}
	go func() {
		defer close(pp.done)
		defer conn.Release()
		p := newPublished(c, cols)
		p.logger = logger
		if err := p.read(ctx, conn, c, plan); err != nil {
			p.free()
			pp.err = fmt.Errorf("lectura de las filas publicadas: %w", err)
			return
		}
		pp.p = p
	}()
	return pp
}

// wait returns the published rows once read.
func (pp *pendingPublished) wait() (*published, error) {
	<-pp.done
	return pp.p, pp.err
}

// stop ends the reading if it still goes, and frees what was read.
func (pp *pendingPublished) stop() {
	pp.cancel()
	<-pp.done
	if pp.p != nil {
		pp.p.free()
	}
}

// read fills p, in one snapshot with the version number: from the digest
// when it holds this version untouched, else from the live rows.
func (p *published) read(ctx context.Context, conn *pgxpool.Conn, c *catalog.Catalog, plan digestPlan) error {
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer pgdb.Rollback(ctx, tx)
	var rows int64
	if err := tx.QueryRow(ctx, `SELECT c.current_version, coalesce(v.row_count, 0)
		FROM meta.catalog c LEFT JOIN meta.catalog_version v ON v.catalog_id = c.id AND v.number = c.current_version
		WHERE c.id = $1`, c.ID).Scan(&p.version, &rows); err != nil {
		return err
	}
	if plan.token != 0 {
		head, err := readDigestHead(ctx, tx, c, p.version, plan)
		if err != nil {
			return err
		}
		if head.usable {
			err := p.readDigest(ctx, tx, c, plan, head)
			if err == nil {
				return p.index()
			}
			if ctx.Err() != nil {
				return err
			}
			// A digest that cannot be read is only a cache that failed:
			// the live rows say the same.
			p.logger.Warn("load: the catalog's digest could not be read; the live rows are read instead", "catalog", c.Clave, "err", err)
			p.free()
			p.fromDigest = false
		}
	}
	p.hkey = newDigestKey()
	if err := p.alloc(rows, rows*int64(10+8*len(p.keyPos))); err != nil {
		return err
	}
	names := make([]string, len(p.cols))
	for i, col := range p.cols {
		names[i] = pgdb.QuoteIdent(col.name)
	}
	w := &copyLines{line: p.add}
	if _, err := tx.Conn().PgConn().CopyTo(ctx, w, "COPY (SELECT "+strings.Join(names, ", ")+" FROM "+
		pgdb.QuoteQualified(catalog.Schema, c.Table)+" WHERE activo) TO STDOUT"); err != nil {
		return err
	}
	if w.err != nil {
		return w.err
	}
	if len(w.pending) > 0 {
		return fmt.Errorf("COPY ended inside a row")
	}
	return p.index()
}

// readDigest fills p from the digest head describes.
func (p *published) readDigest(ctx context.Context, tx pgx.Tx, c *catalog.Catalog, plan digestPlan, head digestHead) error {
	p.fromDigest, p.hkey = true, head.key
	if err := p.alloc(head.rows, head.bytes); err != nil {
		return err
	}
	// A savepoint keeps the snapshot's transaction usable if the read
	// fails in PostgreSQL.
	sp, err := tx.Begin(ctx)
	if err != nil {
		return err
	}
	defer pgdb.Rollback(ctx, sp)
	if err := readDigestChunks(ctx, sp, c.ID, plan.token, p.addEntries); err != nil {
		return err
	}
	if int64(len(p.rows)) != head.rows {
		return fmt.Errorf("the digest has %d rows, its head says %d", len(p.rows), head.rows)
	}
	return nil
}

// alloc makes room for rows rows whose entries take about bytes.
func (p *published) alloc(rows, bytes int64) error {
	var err error
	if p.rows, err = offheap.Make[pubRow](int(max(rows, 1))); err != nil {
		return err
	}
	if p.arena, err = offheap.Make[byte](int(max(bytes, 64))); err != nil {
		return err
	}
	p.rows, p.arena = p.rows[:0], p.arena[:0]
	return nil
}

// copyLines hands each line of COPY's text output to line.
type copyLines struct {
	line    func([]byte) error
	pending []byte
	err     error
}

func (w *copyLines) Write(data []byte) (int, error) {
	n := len(data)
	if len(w.pending) > 0 {
		data = append(w.pending, data...)
		w.pending = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if err := w.line(data[:i]); err != nil {
			w.err = err
			return 0, err
		}
		data = data[i+1:]
	}
	if len(data) > 0 {
		w.pending = append([]byte(nil), data...)
	}
	return n, nil
}

// add records one line of COPY text output, the definition's columns in
// order: the line is hashed as it is, as the source's rows are.
func (p *published) add(line []byte) error {
	key, err := p.keyOfLine(line)
	if err != nil {
		return err
	}
	return p.addRow(key, p.hkey.sum(line))
}

// keyOfLine is the key's fields of a line of COPY text, joined by tabs.
func (p *published) keyOfLine(line []byte) ([]byte, error) {
	if len(p.keyPos) == 1 && p.keyPos[0] == 0 {
		if i := bytes.IndexByte(line, '\t'); i >= 0 {
			return line[:i], nil
		}
		return line, nil
	}
	p.scratch = p.scratch[:0]
	for k, pos := range p.keyPos {
		f, ok := copyField(line, pos)
		if !ok {
			return nil, fmt.Errorf("COPY row without field %d", pos+1)
		}
		if k > 0 {
			p.scratch = append(p.scratch, '\t')
		}
		p.scratch = append(p.scratch, f...)
	}
	return p.scratch, nil
}

// copyField is the n-th (0-based) tab-separated field of line.
func copyField(line []byte, n int) ([]byte, bool) {
	for ; n > 0; n-- {
		i := bytes.IndexByte(line, '\t')
		if i < 0 {
			return nil, false
		}
		line = line[i+1:]
	}
	if i := bytes.IndexByte(line, '\t'); i >= 0 {
		return line[:i], true
	}
	return line, true
}

// addEntries records a chunk of digest entries.
func (p *published) addEntries(entries []byte) error {
	for len(entries) > 0 {
		n, w := binary.Uvarint(entries)
		if w <= 0 || uint64(len(entries)-w) < n+8 {
			return errors.New("a digest entry is cut short")
		}
		key := entries[w : w+int(n)]
		if err := p.addRow(key, binary.LittleEndian.Uint64(entries[w+int(n):])); err != nil {
			return err
		}
		entries = entries[w+int(n)+8:]
	}
	return nil
}

// addRow records one published row.
func (p *published) addRow(key []byte, h uint64) error {
	var err error
	at := len(p.arena)
	if at+len(key)+binary.MaxVarintLen64+8 > math.MaxUint32 {
		return fmt.Errorf("the published keys take more than 4 GB")
	}
	if p.arena, err = offheap.Grow(p.arena, len(key)+binary.MaxVarintLen64+8); err != nil {
		return err
	}
	p.arena = appendDigestEntry(p.arena, key, h)
	if p.rows, err = offheap.Grow(p.rows, 1); err != nil {
		return err
	}
	p.rows = append(p.rows, pubRow{key: uint32(maphash.Bytes(p.seed, key)), at: uint32(at)})
	return nil
}

// unescapeCopy appends the value of a field of COPY's text format.
func unescapeCopy(dst, s []byte) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i == len(s)-1 {
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'v':
			c = '\v'
		default:
			c = s[i]
		}
		dst = append(dst, c)
	}
	return dst
}

// index builds the hash table over the keys (load factor at most 2/3).
func (p *published) index() error {
	size := 1 << bits.Len(uint(len(p.rows)+len(p.rows)/2))
	var err error
	if p.slots, err = offheap.Make[uint32](size); err != nil {
		return err
	}
	mask := uint32(size - 1)
	for i := range p.rows {
		for s := p.rows[i].key & mask; ; s = (s + 1) & mask {
			if p.slots[s] == 0 {
				p.slots[s] = uint32(i + 1)
				break
			}
		}
	}
	p.unchanged = make([]uint64, (len(p.rows)+63)/64)
	return nil
}

// key is published row i's key in COPY text.
func (p *published) key(i int) []byte {
	at := p.rows[i].at
	n, w := binary.Uvarint(p.arena[at:])
	start := int(at) + w
	return p.arena[start : start+int(n)]
}

// rowHash is published row i's hash.
func (p *published) rowHash(i int) uint64 {
	at := p.rows[i].at
	n, w := binary.Uvarint(p.arena[at:])
	return binary.LittleEndian.Uint64(p.arena[int(at)+w+int(n):])
}

// find finds the published row with this key (COPY text); -1 when none.
// The source's rows mostly come in the order they were published in, so
// the row after the last one found (hint) is tried first.
func (p *published) find(key []byte, hint int) int {
	if hint < len(p.rows) && bytes.Equal(p.key(hint), key) {
		return hint
	}
	h := uint32(maphash.Bytes(p.seed, key))
	mask := uint32(len(p.slots) - 1)
	for s := h & mask; ; s = (s + 1) & mask {
		i := int(p.slots[s]) - 1
		if i < 0 {
			return -1
		}
		if p.rows[i].key == h && bytes.Equal(p.key(i), key) {
			return i
		}
	}
}

// removedKeys streams, as COPY text, the keys of the published rows the
// load did not bring unchanged.
func (p *published) removedKeys() io.Reader {
	return &removedReader{p: p}
}

type removedReader struct {
	p    *published
	next int
	buf  []byte
}

func (r *removedReader) Read(out []byte) (int, error) {
	for len(r.buf) < len(out) && r.next < len(r.p.rows) {
		i := r.next
		r.next++
		if r.p.unchanged[i/64]&(1<<(i%64)) != 0 {
			continue
		}
		r.buf = append(r.buf, r.p.key(i)...)
		r.buf = append(r.buf, '\n')
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(out, r.buf)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	return n, nil
}

// removedTable is the temporary table a re-load's removed keys go to.
const removedTable = "gobdatos_removed"

// stageRemoved copies the removed keys into a temporary table of tx that
// lives until it ends, and returns its name for catalog.PublishDelta.
func (p *published) stageRemoved(ctx context.Context, tx pgx.Tx) (string, error) {
	defs := make([]string, len(p.keyPos))
	for i, j := range p.keyPos {
		defs[i] = pgdb.QuoteIdent(p.cols[j].name) + " " + p.cols[j].sql.String()
	}
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE "+removedTable+" ("+strings.Join(defs, ", ")+") ON COMMIT DROP"); err != nil {
		return "", fmt.Errorf("removed keys: %w", err)
	}
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, p.removedKeys(), "COPY pg_temp."+removedTable+" FROM STDIN"); err != nil {
		return "", fmt.Errorf("removed keys: %w", err)
	}
	return "pg_temp." + removedTable, nil
}
