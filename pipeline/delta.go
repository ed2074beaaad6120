package pipeline

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// delta is a re-load's part of rowSource: in each batch it finds the rows
// equal to their published row, which count as valid and go no further, and
// hands only the others to the validator. It also finds the keys repeated
// across the load among the published keys, with the row numbers of both
// copies (the staged rows' other repeats are found in staging, as always).
type delta struct {
	pending *pendingPublished
	p       *published
	key     keySet
	mem     memory.Allocator
	// spill collects the digest of what the load publishes; nil when the
	// catalog keeps none.
	spill    *digestSpill
	newSpill func(digestKey) *digestSpill
	next     int // the published row after the last one found

	cells   []cellFunc // per batch, in the definition's order
	buf     []byte
	keyBuf  []byte
	spans   [][2]int // per column, where its cell is in buf
	match   []int    // per row, its published row; -1 none
	same    []bool
	hashes  []uint64 // per row, its hash
	keys    []byte   // per row, its key (keyEnds)
	keyEnds []int
	sel     []int   // the rows to convert
	rows    []int64 // the batch's row numbers before selection
}

// newDelta compares with the published rows pending; newSpill, when the
// catalog keeps a digest, starts collecting it under the published rows'
// hash key.
func newDelta(pending *pendingPublished, key keySet, newSpill func(digestKey) *digestSpill) *delta {
	return &delta{pending: pending, key: key, mem: memory.DefaultAllocator, newSpill: newSpill}
}

var errTooManyRowsForDelta = errors.New("la carga pasa de 4,294,967,295 filas")

// convert does what validator.convert does for the rows of rec that differ
// from the published ones, and records the rest as valid: b holds only the
// rows to stage. It returns the number of rows rejected.
func (d *delta) convert(v *validator, rec arrow.RecordBatch, b *batch) (int, error) {
	if d.p == nil {
		p, err := d.pending.wait()
		if err != nil {
			return 0, err
		}
		d.p = p
		if d.newSpill != nil {
			d.spill = d.newSpill(p.hkey)
		}
	}
	p := d.p
	n := int(rec.NumRows())
	if n > 0 && b.rows[n-1] > math.MaxUint32 {
		return 0, errTooManyRowsForDelta
	}
	d.cells = d.cells[:0]
	for j, c := range v.cols {
		d.cells = append(d.cells, cellAppender(c, rec.Column(v.src[j]), v.missing))
	}
	d.match, d.same, d.sel, d.hashes = d.match[:0], d.same[:0], d.sel[:0], d.hashes[:0]
	d.keys, d.keyEnds = d.keys[:0], d.keyEnds[:0]
	single := len(p.keyPos) == 1
	if cap(d.spans) < len(d.cells) {
		d.spans = make([][2]int, len(d.cells))
	}
	spans := d.spans[:len(d.cells)]
	for i := range n {
		buf := d.buf[:0]
		for f, cell := range d.cells {
			if f > 0 {
				buf = append(buf, '\t')
			}
			start := len(buf)
			buf = cell(buf, i)
			spans[f] = [2]int{start, len(buf)}
		}
		var key []byte
		if single {
			key = buf[spans[p.keyPos[0]][0]:spans[p.keyPos[0]][1]]
		} else {
			d.keyBuf = d.keyBuf[:0]
			for k, pos := range p.keyPos {
				if k > 0 {
					d.keyBuf = append(d.keyBuf, '\t')
				}
				d.keyBuf = append(d.keyBuf, buf[spans[pos][0]:spans[pos][1]]...)
			}
			key = d.keyBuf
		}
		d.buf = buf
		m := p.find(key, d.next)
		if m >= 0 {
			d.next = m + 1
		}
		h := p.hkey.sum(buf)
		same := m >= 0 && p.rowHash(m) == h
		d.match, d.same, d.hashes = append(d.match, m), append(d.same, same), append(d.hashes, h)
		if d.spill != nil {
			d.keys = append(d.keys, key...)
			d.keyEnds = append(d.keyEnds, len(d.keys))
		}
		if !same {
			d.sel = append(d.sel, i)
		}
	}
	d.rows = append(d.rows[:0], b.rows...)
	var bad int
	switch len(d.sel) {
	case n:
		bad = v.convert(rec, b)
	case 0:
		b.n = 0
	default:
		sub, err := takeRows(rec, d.sel, d.mem)
		if err != nil {
			return 0, err
		}
		for j, i := range d.sel {
			b.rows[j] = b.rows[i]
		}
		b.rows = b.rows[:len(d.sel)]
		bad = v.convert(sub, b)
		sub.Release()
	}
	// In row order, the first valid row with a published key takes it; a
	// later one repeats it.
	j := 0
	for i := range n {
		m := d.match[i]
		ok := true
		if !d.same[i] {
			ok = b.ok[j]
			if m >= 0 && ok && !d.claim(v, m, d.rows[i]) {
				b.ok[j] = false
				ok = false
				bad++
			}
			j++
		} else if !d.claim(v, m, d.rows[i]) {
			ok = false
			bad++
		} else {
			p.unchanged[m/64] |= 1 << (m % 64)
		}
		if ok && d.spill != nil {
			start := 0
			if i > 0 {
				start = d.keyEnds[i-1]
			}
			d.spill.add(d.keys[start:d.keyEnds[i]], d.hashes[i])
		}
	}
	return bad, nil
}

// claim marks published row m as brought by row; false (and the error
// recorded) when an earlier row brought it.
func (d *delta) claim(v *validator, m int, row int64) bool {
	r := &d.p.rows[m]
	if r.first == 0 {
		r.first = uint32(row)
		return true
	}
	v.errs.add(repeatError(d.key, row, int64(r.first), d.p.keyText(m)))
	return false
}

// keyText is published row m's key as PostgreSQL writes it, fields joined
// by ", ".
func (p *published) keyText(m int) string {
	var parts []string
	for _, f := range bytes.Split(p.key(m), []byte{'\t'}) {
		parts = append(parts, string(unescapeCopy(nil, f)))
	}
	return strings.Join(parts, ", ")
}

// takeRows is a record of the rows sel (ascending) of rec.
func takeRows(rec arrow.RecordBatch, sel []int, mem memory.Allocator) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	release := func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}
	var parts []arrow.Array
	for c := range cols {
		arr := rec.Column(c)
		parts = parts[:0]
		for s := 0; s < len(sel); {
			e := s + 1
			for e < len(sel) && sel[e] == sel[e-1]+1 {
				e++
			}
			parts = append(parts, array.NewSlice(arr, int64(sel[s]), int64(sel[e-1]+1)))
			s = e
		}
		out, err := array.Concatenate(parts, mem)
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			release()
			return nil, err
		}
		cols[c] = out
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(len(sel)))
	release()
	return out, nil
}

// cellFunc appends a row's cell in COPY text.
type cellFunc func(buf []byte, i int) []byte

// cellAppender writes the cells of arr for column c as PostgreSQL writes
// the value the validator makes of them, where that is cheap to know:
// integers and booleans are made canonical (unless a pattern looks at their
// text), the rest is taken as it is. A cell spelled otherwise than
// PostgreSQL writes it only looks changed: it is converted and checked, and
// the diff in PostgreSQL finds it equal.
func cellAppender(c *column, arr arrow.Array, missing map[string]bool) cellFunc {
	if sv, ok := arr.(stringValues); ok {
		onlyEmpty := len(missing) == 1 && missing[""]
		canon := c.pattern == nil
		return func(buf []byte, i int) []byte {
			if sv.IsNull(i) {
				return append(buf, copyNull...)
			}
			s := sv.Value(i)
			if (onlyEmpty && s == "") || (!onlyEmpty && missing[s]) {
				return append(buf, copyNull...)
			}
			if canon {
				switch c.kind {
				case kInt:
					if !canonicalInt(s) {
						if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
							return strconv.AppendInt(buf, n, 10)
						}
					}
				case kBool:
					if t, ok := boolText(s); ok {
						return append(buf, t...)
					}
				}
			}
			return appendCopyText(buf, s)
		}
	}
	text := func(buf []byte, i int) []byte { return appendCopyText(buf, arr.ValueStr(i)) }
	switch a := arr.(type) {
	case *array.Int64:
		text = func(buf []byte, i int) []byte { return strconv.AppendInt(buf, a.Value(i), 10) }
	case *array.Int32:
		text = func(buf []byte, i int) []byte { return strconv.AppendInt(buf, int64(a.Value(i)), 10) }
	case *array.Int16:
		text = func(buf []byte, i int) []byte { return strconv.AppendInt(buf, int64(a.Value(i)), 10) }
	case *array.Boolean:
		if c.kind == kBool {
			text = func(buf []byte, i int) []byte { return appendBool(buf, a.Value(i)) }
		}
	case *array.Date32:
		if c.kind == kDate {
			text = func(buf []byte, i int) []byte { return a.Value(i).ToTime().AppendFormat(buf, time.DateOnly) }
		}
	}
	return func(buf []byte, i int) []byte {
		if arr.IsNull(i) {
			return append(buf, copyNull...)
		}
		return text(buf, i)
	}
}

// canonicalInt says whether s is an integer as PostgreSQL writes it.
func canonicalInt(s string) bool {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 18 || (d[0] == '0' && (len(d) > 1 || len(s) > 1)) {
		return false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return false
		}
	}
	return true
}

// boolText is PostgreSQL's text of a boolean cell the validator accepts.
func boolText(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "t", "sí", "si", "verdadero":
		return "t", true
	case "false", "0", "f", "no", "falso":
		return "f", true
	}
	return "", false
}
