package nomenclature

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/schemas"
)

// Rules are the parameters of the naming rules, read from
// schemas/nomenclature.yaml or a file with the same shape.
type Rules struct {
	Schema               string `yaml:"schema" json:"schema"`
	TablePrefix          string `yaml:"table_prefix" json:"table_prefix"`
	MaxIdentifierBytes   int    `yaml:"max_identifier_bytes" json:"max_identifier_bytes"`
	MinTableDescription  int    `yaml:"min_table_description" json:"min_table_description"`
	MinColumnDescription int    `yaml:"min_column_description" json:"min_column_description"`
	KeyPrefix            string `yaml:"key_prefix" json:"key_prefix"`

	AllowedTypes     []string          `yaml:"allowed_types" json:"allowed_types"`
	TypeReplacements map[string]string `yaml:"type_replacements" json:"type_replacements"`
	ControlColumns   []ControlColumn   `yaml:"control_columns" json:"control_columns"`

	DatePrefixes    []string `yaml:"date_prefixes" json:"date_prefixes"`
	BooleanNames    []string `yaml:"boolean_names" json:"boolean_names"`
	BooleanPrefixes []string `yaml:"boolean_prefixes" json:"boolean_prefixes"`
	TextPrefixes    []string `yaml:"text_prefixes" json:"text_prefixes"`
	NumberPrefixes  []string `yaml:"number_prefixes" json:"number_prefixes"`
	PatternPrefixes []string `yaml:"pattern_prefixes" json:"pattern_prefixes"`

	ReservedWords      []string          `yaml:"reserved_words" json:"reserved_words"`
	SingularWords      []string          `yaml:"singular_words" json:"singular_words"`
	Plurals            map[string]string `yaml:"plurals" json:"plurals"`
	SingularEndingInS  []string          `yaml:"singular_ending_in_s" json:"singular_ending_in_s"`
	Abbreviations      map[string]string `yaml:"abbreviations" json:"abbreviations"`
	AllowedPrefixAbbrs []string          `yaml:"allowed_prefix_abbreviations" json:"allowed_prefix_abbreviations"`

	reserved, singular, endsInS, allowedTypes, prefixAbbrs map[string]bool
}

// ControlColumn is a column the platform keeps in every catalog (NOM-C07).
type ControlColumn struct {
	Name    string `yaml:"name" json:"name"`
	Type    string `yaml:"type" json:"type"`
	NotNull bool   `yaml:"not_null" json:"not_null"`
	// Default is the required default expression; empty means any.
	Default string `yaml:"default,omitempty" json:"default,omitempty"`

	sqlType tableschema.SQLType
}

// DefaultRules are the rules shipped in schemas/nomenclature.yaml.
func DefaultRules() (*Rules, error) {
	r, err := ParseRules(schemas.NomenclatureRules())
	if err != nil {
		return nil, fmt.Errorf("nomenclature: embedded rules: %w", err)
	}
	return r, nil
}

// LoadRules reads the rules from a YAML file; an empty path means the
// default rules.
func LoadRules(path string) (*Rules, error) {
	if path == "" {
		return DefaultRules()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("nomenclature: read rules: %w", err)
	}
	r, err := ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("nomenclature: rules %s: %w", path, err)
	}
	return r, nil
}

// ParseRules reads rules from YAML. Unknown keys are an error, so a typo in
// the file does not silently switch a rule off.
func ParseRules(b []byte) (*Rules, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var r Rules
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("las reglas no son YAML válido: %w", err)
	}
	if err := r.prepare(); err != nil {
		return nil, err
	}
	return &r, nil
}

// prepare checks the parameters and builds the lookup sets.
func (r *Rules) prepare() error {
	var errs []error
	if !identRe.MatchString(r.Schema) {
		errs = append(errs, fmt.Errorf("schema %q no es un identificador válido", r.Schema))
	}
	if r.TablePrefix == "" || !identRe.MatchString(strings.TrimSuffix(r.TablePrefix, "_")) {
		errs = append(errs, fmt.Errorf("table_prefix %q no es válido", r.TablePrefix))
	}
	if r.KeyPrefix == "" || !identRe.MatchString(strings.TrimSuffix(r.KeyPrefix, "_")) {
		errs = append(errs, fmt.Errorf("key_prefix %q no es válido", r.KeyPrefix))
	}
	if r.MaxIdentifierBytes < 8 || r.MaxIdentifierBytes > 63 {
		errs = append(errs, fmt.Errorf("max_identifier_bytes debe estar entre 8 y 63, no %d", r.MaxIdentifierBytes))
	}
	if r.MinTableDescription < 0 || r.MinColumnDescription < 0 {
		errs = append(errs, errors.New("las longitudes mínimas de descripción no pueden ser negativas"))
	}
	if len(r.AllowedTypes) == 0 {
		errs = append(errs, errors.New("allowed_types está vacío"))
	}
	r.allowedTypes = set(r.AllowedTypes)
	for i := range r.ControlColumns {
		c := &r.ControlColumns[i]
		t, err := tableschema.ParseSQLType(c.Type)
		if err != nil || !identRe.MatchString(c.Name) {
			errs = append(errs, fmt.Errorf("control_columns[%d]: nombre %q o tipo %q no válido", i, c.Name, c.Type))
			continue
		}
		c.sqlType = t
	}
	for key, list := range map[string][]string{"reserved_words": r.ReservedWords, "singular_words": r.SingularWords,
		"singular_ending_in_s": r.SingularEndingInS, "allowed_types": r.AllowedTypes} {
		for i, w := range list {
			if strings.TrimSpace(w) == "" {
				// An empty word would match nothing; YAML drops a bare null, so quote "null".
				errs = append(errs, fmt.Errorf("%s[%d] está vacío (escriba entre comillas palabras como \"null\" o \"true\")", key, i))
			}
		}
	}
	r.reserved = set(r.ReservedWords)
	r.singular = set(r.SingularWords)
	r.endsInS = set(r.SingularEndingInS)
	r.prefixAbbrs = set(r.AllowedPrefixAbbrs)
	return errors.Join(errs...)
}

func set(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[strings.ToLower(strings.TrimSpace(w))] = true
	}
	return m
}

// IsReserved reports whether word is a PostgreSQL reserved word.
func (r *Rules) IsReserved(word string) bool { return r.reserved[strings.ToLower(word)] }

// YAML writes the rules back in their file form.
func (r *Rules) YAML() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
