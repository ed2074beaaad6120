// Package catalog is the catalog registry of the Modelo de Gobierno de
// Datos: what a catalog is (its metadata and its definition, a Frictionless
// Tabular Data Resource that is the one source of truth of its data
// dictionary), the DDL of its table in schema cat, its lifecycle (borrador →
// en revisión → con observaciones ↔ en revisión → aprobado → publicado;
// retirado) with the permissions of each profile, and the versions of its
// data.
//
// # Versions and history
//
// The live table cat.<table> holds the current rows; a row removed by a
// load stays there with activo = false. Each superseded value of a row is
// written once to hist.<table>, valid from version _v_desde up to (not
// including) _v_hasta; a key that did not exist for a while has a row with
// _ausente = true for that span. The live value of a key is therefore valid
// from the largest _v_hasta of its history (or version 1). A load that
// changes 1% of the rows writes 1% of them (twice: history and live), never
// a copy of the whole table, and any version n is
//
//	active live rows whose history ends at or before n
//	∪ history rows with _v_desde ≤ n < _v_hasta and not _ausente
//
// read in one snapshot, so readers see one version, never a mix. Each
// version's checksum is an order-independent sum (mod 2⁶⁴) of the MD5 of
// every row's text, updated from the changed rows alone.
package catalog
