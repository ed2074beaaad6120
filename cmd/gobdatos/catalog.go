package main

// catalogCmd groups the catalog commands; each subcommand lives in its own
// file (catalog_lint.go, …).
type catalogCmd struct {
	Lint  catalogLintCmd  `cmd:"" help:"Check a catalog definition or a live table against the DAID nomenclature (exit 1 when there is an error)."`
	Rules catalogRulesCmd `cmd:"" help:"Print the nomenclature rules and their parameters."`

	Create      catalogCreateCmd      `cmd:"" help:"Create a catalog from its definition: its table in cat and its registry entry, as a draft."`
	Register    catalogRegisterCmd    `cmd:"" help:"Register a table that already exists in cat as a catalog (its rows become version 1)."`
	List        catalogListCmd        `cmd:"" help:"List the registered catalogs."`
	Show        catalogShowCmd        `cmd:"" help:"Show a catalog: metadata, state, pending revision, lifecycle history."`
	Edit        catalogEditCmd        `cmd:"" help:"Change a catalog's definition or metadata (a published one through a revision)."`
	Transition  catalogTransitionCmd  `cmd:"" help:"Move a catalog through its lifecycle: enviar, observar, aprobar, publicar, retirar."`
	Schema      catalogSchemaCmd      `cmd:"" help:"Print a catalog's data dictionary (Table Schema JSON)."`
	Versions    catalogVersionsCmd    `cmd:"" help:"List a catalog's versions, or print the rows of one (--rows N) as CSV."`
	Diff        catalogDiffCmd        `cmd:"" help:"Print the rows that changed between two versions, as CSV."`
	Instructivo catalogInstructivoCmd `cmd:"" help:"Write a catalog's instructivo (PDF), or upload a hand-made one."`
}
