// Package nomenclature holds the DAID naming rules for the catalogs in
// schema cat (NOMENCLATURE.md): pure functions over a catalog definition
// (tableschema.Resource) or a live table (Table, filled by the introspect
// sub-package), giving findings with rule id, severity, object, a Spanish
// message and, where one exists, a suggested name that passes.
//
// The rules' parameters — prefixes, reserved words, allowed types, control
// columns, lengths, singular words, abbreviations — are data, in
// schemas/nomenclature.yaml (DefaultRules) or a file of the same shape
// (LoadRules, GOBDATOS_NOMENCLATURE_RULES).
//
// Where NOMENCLATURE.md leaves room, these are the decisions taken:
//
//   - Severity is "error" or "warning" in JSON (the API's words); people
//     read "error" and "aviso" (Severity.Label).
//   - One finding per (object, rule): several problems of one rule on one
//     object are one finding with the messages joined. Findings are sorted
//     by object, then rule id, so a table's findings come before its
//     columns'.
//   - Rules overlap on purpose, as in the document's example: a name with
//     capitals breaks both NOM-T02 (shape) and NOM-T04 (ASCII); "__" breaks
//     NOM-T02 and NOM-T05.
//   - NOM-T04 is about non-ASCII letters, white space and capitals; other
//     punctuation (quotes, hyphens, semicolons) is NOM-T02's.
//   - NOM-T05: the reserved-word check looks at the whole entity after the
//     prefix (cat_user is refused, cat_order_item is not). Reserved words
//     are PostgreSQL's "reserved" and "reserved (can be function or type)"
//     keywords.
//   - NOM-T07 warns when the last word ends in s, is not a known singular
//     ending in s (país, estatus, análisis…), and either its singular is a
//     known word or the s follows a vowel. The suggestion uses the known
//     plural, else drops "es" after d, l, n, r, j or y that follow a vowel
//     (ciudades → ciudad), else drops "s".
//   - Suggested table names are transliterated, prefixed, shortened to 63
//     bytes and put in singular; NOM-C03 expects id_<entidad> of the table
//     as it is when its name is valid, else of the suggested name.
//   - Transliteration writes ñ as "ni" (año → anio), maps Cyrillic and
//     Greek look-alikes to Latin letters, folds fullwidth forms (NFKD),
//     drops accents, splits camelCase (fechaAlta → fecha_alta).
//   - NOM-C03: a missing or composite primary key is a finding on the
//     table; a single key with the wrong name is a finding on that column.
//   - NOM-C04: a reference may carry a qualifier after the entity
//     (id_entidad_nacimiento → cat_entidad), so a table can reference one
//     catalog twice. A reference to a catalog must point at its key
//     (id_<entidad>). The type comparison needs the referenced key's type:
//     live tables know it; definitions know it only for references to
//     themselves. A foreign key of several columns is a finding on the table.
//   - NOM-C05 reads the column name as written (lower-cased): "fechaAlta"
//     is a date whose name does not start with "fecha_". Both directions
//     are checked for dates and booleans (a date must be fecha_*, a fecha_*
//     must be a date). Timestamps without time zone satisfy NOM-C05 and
//     are NOM-C06's; control columns are NOM-C07's only.
//   - NOM-C06 allows varchar without length and numeric without precision
//     (a Frictionless "number" is numeric); NOM-C09 then warns about text
//     without length. The suggestion names the allowed type to use.
//   - NOM-C07: missing control columns are one finding on the table, only
//     for live tables (a definition may leave them out). A present control
//     column must have the type; in a live table also NOT NULL and the
//     default where the rules say so. A column whose name equals a control
//     column's in another case ("Activo") is taken as that column (and
//     breaks NOM-C01).
//   - NOM-C09: a live column has a pattern when a CHECK constraint on it
//     uses a regular expression (~ or SIMILAR TO).
//   - NOM-C10: abbreviations are looked up word by word in the
//     transliterated name; num and cve are allowed as the first word only.
package nomenclature
