// Package schemas holds data that defines behaviour — the nomenclature's
// parameters, procedure definitions — embedded in the binary so the
// directorate can change it without touching code.
package schemas
