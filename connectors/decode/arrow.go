package decode

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/dgtit-gto/gobdatos/connectors"
)

// openArrow reads Arrow IPC, stream or file format: a file is its magic, the
// same stream, then a footer, so both are read as a stream without seeking.
func openArrow(ctx context.Context, br *bufio.Reader, opt connectors.Options, counter *connectors.Counter, closeFn func() error) (connectors.Stream, error) {
	if head, _ := br.Peek(8); bytes.HasPrefix(head, []byte("ARROW1")) {
		_, _ = br.Discard(8)
	}
	rr, err := ipc.NewReader(br, ipc.WithAllocator(opt.Mem()))
	if err != nil {
		return nil, &connectors.RowError{Message: "el archivo no es Arrow IPC válido", Err: err}
	}
	return connectors.FromRecordReader(ctx, rr, opt, counter, closeFn), nil
}

// openParquet reads Parquet, which keeps its metadata at the end: a local
// file is read in place; a body is first spooled to a temporary file.
func openParquet(ctx context.Context, in Input, br *bufio.Reader, opt connectors.Options, counter *connectors.Counter, closeFn func() error) (connectors.Stream, error) {
	var ras interface {
		io.ReaderAt
		io.Seeker
	}
	if in.ReaderAt != nil && in.Size > 0 {
		ras = io.NewSectionReader(&countingReaderAt{r: in.ReaderAt, counter: counter}, 0, in.Size)
	} else {
		tmp, err := os.CreateTemp("", "gobdatos-*.parquet")
		if err != nil {
			return nil, &connectors.RowError{Message: "no se pudo crear el archivo temporal para leer Parquet", Err: err}
		}
		prevClose := closeFn
		closeFn = func() error {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
			return prevClose()
		}
		if _, err := io.Copy(tmp, br); err != nil {
			_ = closeFn()
			return nil, readError(err)
		}
		ras = tmp
	}
	pf, err := file.NewParquetReader(ras)
	if err != nil {
		_ = closeFn()
		return nil, &connectors.RowError{Message: "el archivo no es Parquet válido", Err: err}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(opt.Batch())}, opt.Mem())
	if err != nil {
		_ = pf.Close()
		_ = closeFn()
		return nil, &connectors.RowError{Message: "no se pudo leer el esquema del archivo Parquet", Err: err}
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		_ = pf.Close()
		_ = closeFn()
		return nil, &connectors.RowError{Message: "no se pudo leer el archivo Parquet", Err: err}
	}
	return connectors.FromRecordReader(ctx, rr, opt, counter, func() error {
		return errors.Join(pf.Close(), closeFn())
	}), nil
}

type countingReaderAt struct {
	r       io.ReaderAt
	counter *connectors.Counter
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.counter.AddBytes(int64(n))
	return n, err
}
