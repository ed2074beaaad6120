package pipeline

import (
	"fmt"
	"sort"
	"sync"
)

// Error types, as Frictionless names them, so that publishers get a report
// format they may already know.
const (
	ErrType        = "type-error"
	ErrConstraint  = "constraint-error"
	ErrPrimaryKey  = "primary-key"
	ErrUnique      = "unique-error"
	ErrForeignKey  = "foreign-key"
	ErrMissingLbl  = "missing-label"
	ErrExtraLbl    = "extra-label"
	ErrMissingCell = "missing-cell"
	ErrExtraCell   = "extra-cell"
	ErrSource      = "source-error"
	ErrEncoding    = "encoding-error"
	ErrRowLimit    = "row-limit"
)

// DefaultMaxErrors caps the errors a report stores; counts stay exact.
const DefaultMaxErrors = 1000

// ReportError is one problem, with its place.
type ReportError struct {
	Type        string `json:"type"`
	Message     string `json:"message"`
	RowNumber   int64  `json:"rowNumber,omitempty"`
	FieldName   string `json:"fieldName,omitempty"`
	FieldNumber int    `json:"fieldNumber,omitempty"`
	Cell        string `json:"cell,omitempty"`
}

// Stats are the exact figures of a load, whatever the cap on stored errors.
type Stats struct {
	Rows     int64            `json:"rows"`
	Valid    int64            `json:"validRows"`
	Rejected int64            `json:"rejectedRows"`
	Errors   int64            `json:"errors"`
	ByType   map[string]int64 `json:"errorsByType,omitempty"`
	Fields   int              `json:"fields"`
	Bytes    int64            `json:"bytes"`
	Seconds  float64          `json:"seconds"`
	Added    int64            `json:"added"`
	Changed  int64            `json:"changed"`
	Removed  int64            `json:"removed"`
}

// Report is the validation report of a load, shaped like a Frictionless
// report: valid, stats, errors.
type Report struct {
	Valid     bool          `json:"valid"`
	Stats     Stats         `json:"stats"`
	Errors    []ReportError `json:"errors"`
	Truncated bool          `json:"truncated,omitempty"`
}

// collector gathers errors for a report: it keeps the first max errors and
// counts all of them. It is safe for concurrent use, since progress is read
// while a load runs.
type collector struct {
	mu     sync.Mutex
	max    int
	errs   []ReportError
	total  int64
	byType map[string]int64
}

func newCollector(max int) *collector {
	if max <= 0 {
		max = DefaultMaxErrors
	}
	return &collector{max: max, byType: map[string]int64{}}
}

func (c *collector) add(e ReportError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total++
	c.byType[e.Type]++
	if len(c.errs) < c.max {
		c.errs = append(c.errs, e)
	}
}

// addCounted records n errors of one type of which only sample is kept.
func (c *collector) addCounted(typ string, n int64, sample []ReportError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += n
	c.byType[typ] += n
	for _, e := range sample {
		if len(c.errs) >= c.max {
			break
		}
		c.errs = append(c.errs, e)
	}
}

func (c *collector) count() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// fill writes the errors into r, sorted by row then field.
func (c *collector) fill(r *Report) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.Errors = append([]ReportError(nil), c.errs...)
	sort.SliceStable(r.Errors, func(i, j int) bool {
		if r.Errors[i].RowNumber != r.Errors[j].RowNumber {
			return r.Errors[i].RowNumber < r.Errors[j].RowNumber
		}
		return r.Errors[i].FieldNumber < r.Errors[j].FieldNumber
	})
	r.Stats.Errors = c.total
	if len(c.byType) > 0 {
		r.Stats.ByType = make(map[string]int64, len(c.byType))
		for k, v := range c.byType {
			r.Stats.ByType[k] = v
		}
	}
	r.Truncated = c.total > int64(len(c.errs))
	r.Valid = c.total == 0
}

// cellError builds the error of one cell with a Spanish message that says
// where: row, column and value.
func cellError(typ string, row int64, field string, fieldNo int, cell, why string) ReportError {
	return ReportError{
		Type:        typ,
		RowNumber:   row,
		FieldName:   field,
		FieldNumber: fieldNo,
		Cell:        cell,
		Message:     fmt.Sprintf("fila %d, columna «%s», valor «%s»: %s", row, field, clip(cell), why),
	}
}

// clip keeps messages short when a cell holds a long text.
func clip(s string) string {
	const max = 80
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max]) + "…"
}
