// Package portal is gobdatos' web face: the Spanish HTML pages, the JSON API
// under /api/v1, the CKAN-compatible read API, DCAT, and the probes and
// metrics that operators scrape.
//
// Wiring lives in one readable place, routes.go: one bindXxx call per area.
// Pages are html/template files embedded from templates/; each page is parsed
// with the shared partials (files starting with "_") at start-up, so a
// missing or broken template stops the server before the first request.
//
// Errors returned by handlers reach one handler (errors.go): under /api/ they
// become application/problem+json (RFC 9457) with a stable code and a Spanish
// title and detail; elsewhere an HTML page in Spanish.
package portal
