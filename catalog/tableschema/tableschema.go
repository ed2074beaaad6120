// Package tableschema holds a catalog definition: a Frictionless Tabular Data
// Resource (name, title, description, and a Table Schema with fields,
// primaryKey and foreignKeys). It parses and writes the JSON form and gives
// each field's PostgreSQL type, so that the nomenclature check, the DDL of
// the cat table, the validation of loads and the data dictionary all read one
// description of a catalog.
//
// A field's type may be a Frictionless type ("string", "integer", "date", …)
// or, for definitions written by DBAs, a PostgreSQL type ("varchar(5)",
// "numeric(12,2)", "timestamptz"). SQLType normalizes both to one canonical
// PostgreSQL spelling; the nomenclature decides which of those are allowed.
package tableschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Resource is a catalog definition: a Tabular Data Resource.
type Resource struct {
	// Name is the table, e.g. "cat_municipio". It may be written
	// "cat.cat_municipio"; Schema then holds "cat".
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Schema      Schema `json:"schema"`
	// Extra keeps properties this package does not model (profile, path,
	// licenses, sources, …) so that writing a resource back loses nothing.
	Extra map[string]json.RawMessage `json:"-"`
}

// Schema is a Frictionless Table Schema.
type Schema struct {
	Fields        []Field      `json:"fields"`
	PrimaryKey    StringList   `json:"primaryKey,omitempty"`
	ForeignKeys   []ForeignKey `json:"foreignKeys,omitempty"`
	MissingValues []string     `json:"missingValues,omitempty"`
}

// Field is one column.
type Field struct {
	Name        string      `json:"name"`
	Type        string      `json:"type,omitempty"`
	Format      string      `json:"format,omitempty"`
	Title       string      `json:"title,omitempty"`
	Description string      `json:"description,omitempty"`
	Example     any         `json:"example,omitempty"`
	Constraints Constraints `json:"constraints,omitzero"`
}

// Constraints are the Table Schema field constraints.
type Constraints struct {
	Required  bool   `json:"required,omitempty"`
	Unique    bool   `json:"unique,omitempty"`
	MinLength *int   `json:"minLength,omitempty"`
	MaxLength *int   `json:"maxLength,omitempty"`
	Minimum   any    `json:"minimum,omitempty"`
	Maximum   any    `json:"maximum,omitempty"`
	Pattern   string `json:"pattern,omitempty"`
	Enum      []any  `json:"enum,omitempty"`
}

// ForeignKey says that Fields hold the key of another resource.
type ForeignKey struct {
	Fields    StringList `json:"fields"`
	Reference Reference  `json:"reference"`
}

// Reference names the referenced resource (table) and its fields; an empty
// Resource means the same table.
type Reference struct {
	Resource string     `json:"resource"`
	Fields   StringList `json:"fields"`
}

// StringList is a Table Schema list that may be written as a single string
// ("primaryKey": "id") or an array (["a", "b"]).
type StringList []string

// UnmarshalJSON accepts a string or an array of strings.
func (l *StringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = StringList{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return errors.New("se esperaba un texto o una lista de textos")
	}
	*l = ss
	return nil
}

var knownResourceKeys = map[string]bool{"name": true, "title": true, "description": true, "schema": true}

// UnmarshalJSON reads a resource, keeping unknown properties in Extra.
func (r *Resource) UnmarshalJSON(b []byte) error {
	type plain Resource
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	for k, v := range all {
		if !knownResourceKeys[k] {
			if p.Extra == nil {
				p.Extra = map[string]json.RawMessage{}
			}
			p.Extra[k] = v
		}
	}
	*r = Resource(p)
	return nil
}

// MarshalJSON writes a resource with its Extra properties.
func (r Resource) MarshalJSON() ([]byte, error) {
	type plain Resource
	b, err := json.Marshal(plain(r))
	if err != nil || len(r.Extra) == 0 {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for k, v := range r.Extra {
		if !knownResourceKeys[k] {
			all[k] = v
		}
	}
	return json.Marshal(all)
}

// Parse reads a definition. Errors are Spanish and say where the JSON is
// wrong; a definition that parses may still break naming or schema rules
// (that is the nomenclature's job and Check's).
func Parse(r io.Reader) (Resource, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var res Resource
	if err := dec.Decode(&res); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return Resource{}, fmt.Errorf("la definición no es JSON válido (byte %d): %v", se.Offset, se)
		case errors.As(err, &te):
			return Resource{}, fmt.Errorf("la definición tiene un valor de tipo incorrecto en «%s»: se esperaba %s", te.Field, te.Type)
		case errors.Is(err, io.EOF):
			return Resource{}, errors.New("la definición está vacía")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return Resource{}, errors.New("la definición no es JSON válido: termina antes de tiempo")
		default:
			return Resource{}, fmt.Errorf("la definición no se puede leer: %v", err)
		}
	}
	return res, nil
}

// Field returns the field called name, if any.
func (s Schema) Field(name string) (Field, bool) {
	for _, f := range s.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}
