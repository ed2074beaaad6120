package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/bits"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

// published is what a re-load compares its rows with: for every active row
// of the published version, a hash of its key, a hash of the whole row and
// the key itself, about 30 bytes a row. Both sides hash the row as COPY's
// text format writes it (PostgreSQL's output of each value; the source's
// cells made canonical where that is cheap), so a source row whose hash
// equals its published row's is that row, valid by construction: it is
// neither converted, checked nor staged.
type published struct {
	version int
	cols    []*column
	order   []int // positions in cols: the key's columns, then the others
	nKeys   int
	seed    maphash.Seed
	rows    []pubRow
	slots   []uint32 // open addressing on the key hash: index+1 in rows, 0 empty
	arena   []byte   // each key in COPY text, preceded by its length (uvarint)
	// unchanged has a bit per row: the load brought it unchanged, so it
	// stays; every other published key is a candidate for removal.
	unchanged []uint64
}

// pubRow is one published row.
type pubRow struct {
	key, row uint64 // hashes of the key's COPY text and of the row's
	at       uint32 // offset of the key in arena
	first    uint32 // row number of the load's first valid row with this key; 0 none yet
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
	p := &published{cols: cols, seed: maphash.MakeSeed(), nKeys: len(c.Resource.Schema.PrimaryKey)}
	for _, k := range c.Resource.Schema.PrimaryKey {
		for j, col := range cols {
			if col.name == k {
				p.order = append(p.order, j)
			}
		}
	}
	for j, col := range cols {
		if !col.inKey(c.Resource.Schema.PrimaryKey) {
			p.order = append(p.order, j)
		}
	}
	return p
}

func (c *column) inKey(pk []string) bool {
	for _, k := range pk {
		if k == c.name {
			return true
		}
	}
	return false
}

// pendingPublished is the published rows being read while the source
// starts.
type pendingPublished struct {
	done   chan struct{}
	cancel context.CancelFunc
	p      *published
	err    error
}

// readPublished starts reading the published rows of c. Its connection is
// taken before it returns: the load's COPY, which waits for the published
// rows, takes its own after, so loads that share a pool never wait on each
// other for one.
func readPublished(ctx context.Context, pool *pgxpool.Pool, c *catalog.Catalog, cols []*column) *pendingPublished {
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
		if err := p.read(ctx, conn, c); err != nil {
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

// stop ends the reading if it still goes.
func (pp *pendingPublished) stop() {
	pp.cancel()
	<-pp.done
}

// read fills p from the live table, in one snapshot with the version
// number.
func (p *published) read(ctx context.Context, conn *pgxpool.Conn, c *catalog.Catalog) error {
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
	p.rows = make([]pubRow, 0, rows)
	p.arena = make([]byte, 0, rows*int64(8+p.nKeys))
	names := make([]string, len(p.order))
	for i, j := range p.order {
		names[i] = pgdb.QuoteIdent(p.cols[j].name)
	}
	w := &copyLines{line: p.add}
	if _, err := tx.Conn().PgConn().CopyTo(ctx, w, "COPY (SELECT "+strings.Join(names, ", ")+" FROM "+
		pgdb.QuoteQualified("cat", c.Table)+" WHERE activo) TO STDOUT"); err != nil {
		return err
	}
	if w.err != nil {
		return w.err
	}
	if len(w.pending) > 0 {
		return fmt.Errorf("COPY ended inside a row")
	}
	p.index()
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

// add records one line of COPY text output: the fields in p.order. The
// line is hashed as it is; the source's rows are written the same way.
func (p *published) add(line []byte) error {
	keyEnd := len(line)
	for f, at := 0, 0; f < p.nKeys; f++ {
		i := bytes.IndexByte(line[at:], '\t')
		if i < 0 {
			if f != p.nKeys-1 {
				return fmt.Errorf("COPY row with %d fields, want at least %d", f+1, p.nKeys)
			}
			break
		}
		keyEnd, at = at+i, at+i+1
	}
	key := line[:keyEnd]
	at := len(p.arena)
	p.arena = binary.AppendUvarint(p.arena, uint64(len(key)))
	p.arena = append(p.arena, key...)
	if len(p.arena) > math.MaxUint32 {
		return fmt.Errorf("the published keys take more than 4 GB")
	}
	p.rows = append(p.rows, pubRow{key: maphash.Bytes(p.seed, key), row: maphash.Bytes(p.seed, line), at: uint32(at)})
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
func (p *published) index() {
	size := 1 << bits.Len(uint(len(p.rows)+len(p.rows)/2))
	p.slots = make([]uint32, size)
	mask := uint64(size - 1)
	for i := range p.rows {
		for s := p.rows[i].key & mask; ; s = (s + 1) & mask {
			if p.slots[s] == 0 {
				p.slots[s] = uint32(i + 1)
				break
			}
		}
	}
	p.unchanged = make([]uint64, (len(p.rows)+63)/64)
}

// key is published row i's key in COPY text.
func (p *published) key(i int) []byte {
	at := p.rows[i].at
	n, w := binary.Uvarint(p.arena[at:])
	start := int(at) + w
	return p.arena[start : start+int(n)]
}

// lookup finds the published row with this key (COPY text); -1 when none.
func (p *published) lookup(key []byte, h uint64) int {
	mask := uint64(len(p.slots) - 1)
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
	defs := make([]string, p.nKeys)
	for i, j := range p.order[:p.nKeys] {
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
