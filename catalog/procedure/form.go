package procedure

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	validation "github.com/go-ozzo/ozzo-validation/v4"
	"github.com/go-ozzo/ozzo-validation/v4/is"
)

// FieldType is the kind of value a field holds.
type FieldType string

// The field types a form may use.
const (
	Text     FieldType = "text"
	TextArea FieldType = "textarea"
	Email    FieldType = "email"
	URL      FieldType = "url"
	Date     FieldType = "date"
	Number   FieldType = "number"
	Boolean  FieldType = "boolean"
	Select   FieldType = "select"
	List     FieldType = "list" // a list of short texts (attendees, tables)
)

var fieldTypes = []FieldType{Text, TextArea, Email, URL, Date, Number, Boolean, Select, List}

// Field is one field of a formato.
type Field struct {
	ID       string    `yaml:"id" json:"id"`
	Label    string    `yaml:"label" json:"label"`
	Type     FieldType `yaml:"type" json:"type"`
	Required bool      `yaml:"required" json:"required,omitempty"`
	Help     string    `yaml:"help" json:"help,omitempty"`
	// Example is a valid value shown as a placeholder (checked at load).
	Example any `yaml:"example" json:"example,omitempty"`
	// MinLength and MaxLength bound texts (characters) and lists (items).
	MinLength int `yaml:"min_length" json:"min_length,omitempty"`
	MaxLength int `yaml:"max_length" json:"max_length,omitempty"`
	// Pattern is a regular expression a text must match whole.
	Pattern string `yaml:"pattern" json:"pattern,omitempty"`
	// PatternHelp says in Spanish what the pattern asks for.
	PatternHelp string `yaml:"pattern_help" json:"pattern_help,omitempty"`
	// Options are the allowed values of a select.
	Options []string `yaml:"options" json:"options,omitempty"`
	Min     *float64 `yaml:"min" json:"min,omitempty"`
	Max     *float64 `yaml:"max" json:"max,omitempty"`
	// Prefill is a field ("form.field") whose value in the case fills this
	// one when its form is shown empty (the F-5's tables from the F-2's
	// catalog).
	Prefill string `yaml:"prefill" json:"prefill,omitempty"`
}

// Prefill returns what f's form starts with on case data: the values the
// case already holds for f (not for repeated forms, which add an entry),
// else each field's Prefill.
func (f Form) Prefill(data map[string]any) map[string]any {
	out := map[string]any{}
	own, _ := data[f.ID].(map[string]any)
	if f.Repeated {
		own = nil
	}
	for _, fd := range f.Fields {
		if v, ok := own[fd.ID]; ok && v != nil && v != "" {
			out[fd.ID] = v
			continue
		}
		if fd.Prefill == "" {
			continue
		}
		formID, fieldID, _ := strings.Cut(fd.Prefill, ".")
		if v, ok := fieldValue(data[formID], fieldID); ok {
			if fd.Type == List {
				if _, isList := v.([]any); !isList {
					v = []any{v}
				}
			}
			out[fd.ID] = v
		}
	}
	return out
}

// Problem is one thing wrong with submitted data.
type Problem struct {
	Form    string `json:"form"`
	Field   string `json:"field"`
	Label   string `json:"label"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	s := fmt.Sprintf("%s, campo «%s»: %s", p.Form, p.Label, p.Message)
	if p.Value != "" {
		s += fmt.Sprintf(" (valor %q)", p.Value)
	}
	return s
}

// InvalidDataError lists every problem found in submitted data.
type InvalidDataError struct {
	Problems []Problem
}

func (e *InvalidDataError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return "datos no válidos: " + strings.Join(parts, "; ")
}

// maxText bounds any text field that sets no MaxLength, so a form never
// stores an unbounded value.
const maxText = 20000

// Validate checks data against the form: unknown fields, types and rules.
// It returns *InvalidDataError listing every problem, or nil. partial
// skips the required check for fields absent from data.
func (f Form) Validate(data map[string]any) error {
	var problems []Problem
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !slices.ContainsFunc(f.Fields, func(fd Field) bool { return fd.ID == k }) {
			problems = append(problems, Problem{Form: f.Clave, Field: k, Label: k, Message: "el formato no tiene este campo"})
		}
	}
	for _, fd := range f.Fields {
		v, ok := data[fd.ID]
		if msg := fd.check(v, ok); msg != "" {
			problems = append(problems, Problem{Form: f.Clave, Field: fd.ID, Label: fd.Label, Value: shortValue(v), Message: msg})
		}
	}
	if len(problems) > 0 {
		return &InvalidDataError{Problems: problems}
	}
	return nil
}

func shortValue(v any) string {
	if v == nil {
		return ""
	}
	s := fmt.Sprint(v)
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "…"
	}
	return s
}

// check returns a Spanish message, or "" when the value is fine.
func (fd Field) check(v any, present bool) string {
	if !present || v == nil || v == "" {
		if fd.Required {
			return "es obligatorio"
		}
		return ""
	}
	var err error
	switch fd.Type {
	case Text, TextArea, Email, URL, Date, Select:
		s, ok := v.(string)
		if !ok {
			return "debe ser texto"
		}
		err = validation.Validate(strings.TrimSpace(s), fd.textRules()...)
	case Number:
		n, ok := v.(float64)
		if !ok {
			return "debe ser un número"
		}
		var rules []validation.Rule
		if fd.Min != nil {
			rules = append(rules, validation.Min(*fd.Min).Error(fmt.Sprintf("debe ser al menos %v", *fd.Min)))
		}
		if fd.Max != nil {
			rules = append(rules, validation.Max(*fd.Max).Error(fmt.Sprintf("debe ser a lo más %v", *fd.Max)))
		}
		err = validation.Validate(n, rules...)
	case Boolean:
		if _, ok := v.(bool); !ok {
			return "debe ser sí o no"
		}
	case List:
		items, ok := v.([]any)
		if !ok {
			return "debe ser una lista"
		}
		if fd.Required && len(items) == 0 {
			return "es obligatorio"
		}
		for i, it := range items {
			s, ok := it.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return fmt.Sprintf("el elemento %d debe ser un texto no vacío", i+1)
			}
			if len([]rune(s)) > 500 {
				return fmt.Sprintf("el elemento %d tiene más de 500 caracteres", i+1)
			}
		}
		err = validation.Validate(items, fd.lengthRule("elementos")...)
	}
	if err != nil {
		var ve validation.Error
		if errors.As(err, &ve) {
			return ve.Error()
		}
		return err.Error()
	}
	return ""
}

func (fd Field) lengthRule(unit string) []validation.Rule {
	maxLen := fd.MaxLength
	if maxLen == 0 && fd.Type != List {
		maxLen = maxText
	}
	if fd.MinLength == 0 && maxLen == 0 {
		return nil
	}
	var msg string
	switch {
	case fd.MinLength > 0 && maxLen > 0:
		msg = fmt.Sprintf("debe tener entre %d y %d %s", fd.MinLength, maxLen, unit)
	case fd.MinLength > 0:
		msg = fmt.Sprintf("debe tener al menos %d %s", fd.MinLength, unit)
	default:
		msg = fmt.Sprintf("debe tener a lo más %d %s", maxLen, unit)
	}
	if fd.Type == List {
		return []validation.Rule{validation.Length(fd.MinLength, maxLen).Error(msg)}
	}
	return []validation.Rule{validation.RuneLength(fd.MinLength, maxLen).Error(msg)}
}

func (fd Field) textRules() []validation.Rule {
	rules := fd.lengthRule("caracteres")
	switch fd.Type {
	case Email:
		rules = append(rules, is.EmailFormat.Error("debe ser un correo electrónico válido"))
	case URL:
		rules = append(rules, is.URL.Error("debe ser una dirección web válida (https://…)"))
	case Date:
		rules = append(rules, validation.Date("2006-01-02").Error("debe ser una fecha AAAA-MM-DD"))
	case Select:
		opts := make([]any, len(fd.Options))
		for i, o := range fd.Options {
			opts[i] = o
		}
		rules = append(rules, validation.In(opts...).Error("debe ser una de: "+strings.Join(fd.Options, ", ")))
	}
	if fd.Pattern != "" {
		msg := fd.PatternHelp
		if msg == "" {
			msg = "no tiene el formato esperado"
		}
		rules = append(rules, validation.Match(regexp.MustCompile(`^(?:`+fd.Pattern+`)$`)).Error(msg))
	}
	return rules
}
