package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
)

type connectorsCmd struct {
	secretConfig
	RotateKey connectorsRotateKeyCmd `cmd:"" name:"rotate-key" help:"Re-seal every stored credential under the current GOBDATOS_SECRET_KEY (give the old one in GOBDATOS_SECRET_KEY_PREVIOUS)."`
}

type connectorsRotateKeyCmd struct{}

func (connectorsRotateKeyCmd) Run(ctx context.Context, g *Globals, parent *connectorsCmd, logger *slog.Logger) error {
	keys, err := keyringOf(parent.secretConfig, g.DataDir, logger)
	if err != nil {
		return err
	}
	pool, err := g.openDB(ctx, "gobdatos-connectors")
	if err != nil {
		return err
	}
	defer pool.Close()
	nc, err := (&registry.Store{DB: pool, Keys: keys}).Reseal(ctx)
	if err != nil {
		return err
	}
	na, err := (&access.Store{DB: pool, Keys: keys}).Reseal(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("Credenciales cifradas de nuevo con la clave %s: %d de conectores, %d de accesos de entidades.\n", keys.CurrentID(), nc, na)
	return nil
}
