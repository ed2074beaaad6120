package connectors

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// DefaultCheckTimeout bounds a check whose context has no deadline.
const DefaultCheckTimeout = 15 * time.Second

// RunCheck runs probe within ctx's deadline (DefaultCheckTimeout when it
// has none), measures its latency and turns a panic into StatusError: a check
// never takes the scheduler down.
func RunCheck(ctx context.Context, probe func(ctx context.Context) CheckResult) (res CheckResult) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCheckTimeout)
		defer cancel()
	}
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("check panicked: %v", p)
			res = CheckResult{Status: StatusError, Message: "error interno al revisar el origen", Err: err}
		}
		res.Latency = time.Since(start)
	}()
	done := make(chan CheckResult, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- CheckResult{Status: StatusError, Message: "error interno al revisar el origen", Err: fmt.Errorf("check panicked: %v", p)}
			}
		}()
		done <- probe(ctx)
	}()
	select {
	case res = <-done:
		return res
	case <-ctx.Done():
		// A probe that ignores its context cannot hold the caller past the
		// deadline; it ends on its own and its answer is dropped.
		return Failed(ctx.Err())
	}
}

// Classify maps an error of reaching a source to a Status.
func Classify(err error) Status {
	if err == nil {
		return StatusOK
	}
	var dnsErr *net.DNSError
	var certErr *tls.CertificateVerificationError
	var hostErr x509.HostnameError
	var unknownAuth x509.UnknownAuthorityError
	var invalidCert x509.CertificateInvalidError
	var recordErr tls.RecordHeaderError
	var alertErr tls.AlertError
	var netErr net.Error
	var srcErr *SourceError
	switch {
	case errors.As(err, &srcErr):
		return srcErr.Status
	case errors.As(err, &dnsErr):
		if dnsErr.IsTimeout {
			return StatusTimeout
		}
		return StatusDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return StatusRefused
	case errors.As(err, &certErr), errors.As(err, &hostErr), errors.As(err, &unknownAuth),
		errors.As(err, &invalidCert), errors.As(err, &recordErr), errors.As(err, &alertErr):
		return StatusTLS
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &netErr) && netErr.Timeout():
		return StatusTimeout
	case errors.Is(err, fs.ErrNotExist):
		return StatusMissing
	case errors.Is(err, fs.ErrPermission):
		return StatusPermission
	}
	return StatusError
}

// Failed is the result of a check that failed with err, classified and
// explained in Spanish.
func Failed(err error) CheckResult {
	st := Classify(err)
	msg := StatusMessage(st)
	var srcErr *SourceError
	var rowErr *RowError
	if errors.As(err, &srcErr) || errors.As(err, &rowErr) {
		msg = err.Error() // already Spanish and precise
	}
	return CheckResult{Status: st, Message: msg, Err: err}
}

// SourceError is a failure to reach or read a source, already classified:
// its message is Spanish and carries no secret.
type SourceError struct {
	Status  Status
	Message string
	Err     error
}

func (e *SourceError) Error() string {
	if e.Err == nil {
		return e.Message
	}
	return e.Message + " (" + e.Err.Error() + ")"
}

func (e *SourceError) Unwrap() error { return e.Err }

// Unreachable wraps an error of reaching what (a Spanish noun phrase: «el
// servidor db.example:5432») into a classified SourceError.
func Unreachable(what string, err error) error {
	st := Classify(err)
	msg := StatusMessage(st)
	switch st {
	case StatusDNS:
		msg = "no se encontró en DNS " + what
	case StatusRefused:
		msg = what + " rechazó la conexión (¿puerto o servicio detenido?)"
	case StatusTimeout:
		msg = what + " no respondió a tiempo"
	case StatusTLS:
		msg = "falló la conexión segura (TLS) con " + what + ": certificado no válido o no confiable"
	case StatusError:
		msg = "no se pudo conectar con " + what
	}
	return &SourceError{Status: st, Message: msg, Err: err}
}

// StatusMessage is the Spanish explanation of a status.
func StatusMessage(st Status) string {
	switch st {
	case StatusOK:
		return "el origen responde y se puede leer"
	case StatusDNS:
		return "no se encontró el nombre del servidor (DNS)"
	case StatusRefused:
		return "el servidor rechazó la conexión (¿puerto o servicio detenido?)"
	case StatusTimeout:
		return "el origen no respondió a tiempo"
	case StatusTLS:
		return "falló la conexión segura (TLS): certificado no válido o no confiable"
	case StatusAuth:
		return "el origen rechazó las credenciales"
	case StatusPermission:
		return "las credenciales no tienen permiso para leer el origen"
	case StatusMissing:
		return "el origen no existe (tabla, archivo o dirección)"
	case StatusDrift:
		return "las columnas del origen no coinciden con las esperadas"
	}
	return "no se pudo revisar el origen"
}

// CompareColumns reports the expected columns the source lacks and the
// source's columns not expected, compared without case.
func CompareColumns(expect, got []string) (missing, extra []string) {
	have := make(map[string]bool, len(got))
	for _, g := range got {
		have[strings.ToLower(g)] = true
	}
	want := make(map[string]bool, len(expect))
	for _, e := range expect {
		want[strings.ToLower(e)] = true
		if !have[strings.ToLower(e)] {
			missing = append(missing, e)
		}
	}
	for _, g := range got {
		if !want[strings.ToLower(g)] {
			extra = append(extra, g)
		}
	}
	return missing, extra
}

// ColumnsResult is the result of a check that reached the source and read
// its columns: ok, or drift when expect is not nil and differs.
func ColumnsResult(expect, got []string) CheckResult {
	res := CheckResult{Status: StatusOK, Message: StatusMessage(StatusOK), Columns: got}
	if expect == nil {
		return res
	}
	missing, extra := CompareColumns(expect, got)
	if len(missing) == 0 && len(extra) == 0 {
		return res
	}
	var parts []string
	if len(missing) > 0 {
		parts = append(parts, "faltan: "+strings.Join(missing, ", "))
	}
	if len(extra) > 0 {
		parts = append(parts, "sobran: "+strings.Join(extra, ", "))
	}
	res.Status = StatusDrift
	res.Message = fmt.Sprintf("%s (%s); el origen tiene: %s",
		StatusMessage(StatusDrift), strings.Join(parts, "; "), strings.Join(got, ", "))
	return res
}

// Names are a schema's field names in order.
func Names(schema *arrow.Schema) []string {
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name
	}
	return names
}

// CheckColumns runs probe, which reaches a source and returns its
// columns, within the check's deadline; a failure is classified, columns
// are compared with expect.
func CheckColumns(ctx context.Context, expect []string, probe func(ctx context.Context) ([]string, error)) CheckResult {
	return RunCheck(ctx, func(ctx context.Context) CheckResult {
		names, err := probe(ctx)
		if err != nil {
			return Failed(err)
		}
		return ColumnsResult(expect, names)
	})
}

// CheckByOpening checks a source by opening it with opt and reading its
// schema: enough for files and URLs, where reaching the data is the check.
func CheckByOpening(ctx context.Context, src Source, opt Options, expect []string) CheckResult {
	return CheckColumns(ctx, expect, func(ctx context.Context) ([]string, error) {
		st, err := src.Open(ctx, opt)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		return Names(st.Schema()), nil
	})
}
