package main

// catalogCmd groups the catalog commands; each subcommand lives in its own
// file (catalog_lint.go, …).
type catalogCmd struct {
	Lint  catalogLintCmd  `cmd:"" help:"Check a catalog definition or a live table against the DAID nomenclature (exit 1 when there is an error)."`
	Rules catalogRulesCmd `cmd:"" help:"Print the nomenclature rules and their parameters."`
}
