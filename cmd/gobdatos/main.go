// Command gobdatos is the one binary of the data-governance platform: the
// portal (serve, dev), the database (migrate), and the tools stewards and
// operators run by hand.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // dates show in America/Mexico_City on machines without a zone database

	"github.com/alecthomas/kong"
)

// cli is the command tree; each command lives in its own file.
type cli struct {
	Globals

	Serve      serveCmd      `cmd:"" help:"Run the portal and API against the database at DATABASE_URL (migrates it first)."`
	Dev        devCmd        `cmd:"" help:"Run the portal on an embedded default: a private PostgreSQL in the data folder, demo data and a first Super Administrador."`
	Migrate    migrateCmd    `cmd:"" help:"Apply or list the database migrations."`
	User       userCmd       `cmd:"" help:"Manage portal users from the command line."`
	Access     accessCmd     `cmd:"" help:"Grant, rotate, revoke and list entities' PostgreSQL roles limited to their tables in cat (F-DGTIT-DAID-GGD-5)."`
	Connectors connectorsCmd `cmd:"" help:"Connectors: check connectivity now, re-seal stored credentials after a key change."`
	Catalog    catalogCmd    `cmd:"" help:"Catalogs: create, register, review and publish them; versions, data dictionary, instructivo; the DAID nomenclature."`
	Procedure  procedureCmd  `cmd:"" help:"Procedure definitions (trámites): lint, list, show, diagram, holidays, grant a role."`
	Ingest     ingestCmd     `cmd:"" help:"Load a catalog from a file or URL: validate, stage, publish a new version; --dry-run only reports."`
	Testdb     testdbCmd     `cmd:"" name:"testdb" help:"Run a command (the test suite) with TEST_DATABASE_URL pointing at a PostgreSQL, starting a private one if none answers."`
	Version    versionCmd    `cmd:"" help:"Print the version and exit."`
}

func main() {
	var c cli
	kctx := kong.Parse(&c,
		kong.Name("gobdatos"),
		kong.Description("gobdatos — Modelo de Gobierno de Datos: catálogos transversales de Datosigto.\n\n"+
			"Every flag can also be set with the environment variable shown next to it."),
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := c.Globals.logger()
	kctx.BindTo(ctx, (*context.Context)(nil))
	err := kctx.Run(&c.Globals, logger)
	stop()
	if err != nil {
		var ec exitCoder
		if asExitCoder(err, &ec) {
			if msg := ec.Error(); msg != "" {
				fmt.Fprintln(os.Stderr, "gobdatos:", msg)
			}
			os.Exit(ec.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "gobdatos:", err)
		os.Exit(1)
	}
}
