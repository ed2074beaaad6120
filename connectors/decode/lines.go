package decode

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lines reads a text one physical line at a time. The CSV decoder looks at
// each line before it is parsed: a line without a quote is one record,
// split on the delimiter at once; a line with one is handed to
// encoding/csv, which reads through lines too and so is given whole lines
// only, one per Read — its buffer never runs ahead of the record it parses,
// and the two readers stay on the same line.
type lines struct {
	br   *bufio.Reader
	cur  []byte // the line peeked and not yet consumed (or its rest, for Read)
	has  bool
	err  error // the error after cur
	long []byte
	// fast counts the lines the decoder consumed itself, which
	// encoding/csv never saw: its line numbers are short by that many.
	fast int
}

// peek returns the next line (with its '\n', if any) without consuming
// it; the slice is valid until the next call. At the end it returns
// io.EOF with no line.
func (l *lines) peek() ([]byte, error) {
	if l.has {
		return l.cur, nil
	}
	if l.err != nil {
		return nil, l.err
	}
	line, err := l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.long = append(l.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = l.br.ReadSlice('\n')
			l.long = append(l.long, line...)
		}
		line = l.long
	}
	if len(line) == 0 {
		if err == nil {
			err = io.EOF
		}
		l.err = err
		return nil, err
	}
	if err != nil {
		l.err = err // returned after this line
	}
	l.cur, l.has = line, true
	return line, nil
}

// consume drops the peeked line, read by the decoder itself.
func (l *lines) consume() {
	l.cur, l.has = nil, false
	l.fast++
}

// Read gives encoding/csv the next line, or what is left of it.
func (l *lines) Read(p []byte) (int, error) {
	if !l.has {
		if _, err := l.peek(); err != nil {
			return 0, err
		}
	}
	n := copy(p, l.cur)
	l.cur = l.cur[n:]
	if len(l.cur) == 0 {
		l.cur, l.has = nil, false
	}
	return n, nil
}

// plainRecord splits line, a whole line without quotes, on delim as
// encoding/csv would: the line end ("\n", "\r\n", or "\r" at the end of the
// text) is not part of the last field. An empty line is no record (nil).
func plainRecord(line []byte, delim byte, fields [][]byte) [][]byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) == 0 {
		return nil
	}
	fields = fields[:0]
	for {
		i := bytes.IndexByte(line, delim)
		if i < 0 {
			return append(fields, line)
		}
		fields = append(fields, line[:i])
		line = line[i+1:]
	}
}
