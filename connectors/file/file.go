// Package file is the connector for an uploaded or local file: CSV, JSON,
// NDJSON, Arrow IPC or Parquet, decoded by connectors/decode.
package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/dgtit-gto/gobdatos/connectors"
	"github.com/dgtit-gto/gobdatos/connectors/decode"
)

// Source is a file on the local file system.
type Source struct {
	// Path is the file to read.
	Path string `json:"path"`
	// Options are the defaults for Check; Open takes its own.
	Options connectors.Options `json:"options"`
}

var _ connectors.Source = Source{}

// Open opens the file as a stream.
func (s Source) Open(ctx context.Context, opt connectors.Options) (connectors.Stream, error) {
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, openError(s.Path, err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, openError(s.Path, err)
	}
	if info.IsDir() {
		_ = f.Close()
		return nil, &connectors.RowError{Message: fmt.Sprintf("«%s» es una carpeta, no un archivo", s.Path)}
	}
	st, err := decode.Open(ctx, decode.Input{R: f, Name: s.Path, Size: info.Size(), ReaderAt: f, Closer: f}, opt)
	if err != nil {
		return nil, fmt.Errorf("archivo %s: %w", s.Path, err)
	}
	return st, nil
}

func openError(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &connectors.RowError{Message: fmt.Sprintf("el archivo «%s» no existe", path), Err: err}
	case errors.Is(err, fs.ErrPermission):
		return &connectors.RowError{Message: fmt.Sprintf("sin permiso para leer el archivo «%s»", path), Err: err}
	}
	return &connectors.RowError{Message: fmt.Sprintf("no se pudo abrir el archivo «%s»", path), Err: err}
}

// Check says whether the file exists and is readable, and compares its
// columns with expect.
func (s Source) Check(ctx context.Context, expect []string) connectors.CheckResult {
	return connectors.CheckByOpening(ctx, s, s.Options, expect)
}
