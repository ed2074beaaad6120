package catalog

import (
	"errors"
	"fmt"
	"strings"
)

// ErrorKind classifies a refused request; the API maps it to a status.
type ErrorKind string

// The kinds of refusal.
const (
	KindNotFound   ErrorKind = "not_found"
	KindForbidden  ErrorKind = "forbidden"
	KindTransition ErrorKind = "transition"
	KindInvalid    ErrorKind = "invalid"
	KindConflict   ErrorKind = "conflict"
	KindBreaking   ErrorKind = "breaking"
)

// Error is a refusal with a Spanish message for people; it always means
// that nothing was changed.
type Error struct {
	Kind    ErrorKind
	Message string
	// Details are further Spanish lines: nomenclature findings, the
	// breaking changes of a revision.
	Details []string
	Err     error
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return e.Message
	}
	return e.Message + ": " + strings.Join(e.Details, "; ")
}

func (e *Error) Unwrap() error { return e.Err }

// IsKind reports whether err is an *Error of that kind.
func IsKind(err error, kind ErrorKind) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == kind
}

func errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

func notFound(clave string) *Error {
	return errorf(KindNotFound, "no existe el catálogo «%s»", clave)
}
