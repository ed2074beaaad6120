package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/dgtit-gto/gobdatos/migrations"
)

type migrateCmd struct {
	Up     migrateUpCmd     `cmd:"" default:"1" help:"Apply every pending migration (the default)."`
	Status migrateStatusCmd `cmd:"" help:"List every migration and whether it has been applied."`
}

type migrateUpCmd struct{}

func (migrateUpCmd) Run(ctx context.Context, g *Globals, logger *slog.Logger) error {
	pool, err := g.openDB(ctx, "gobdatos-migrate")
	if err != nil {
		return err
	}
	defer pool.Close()
	res, err := migrations.Up(ctx, pool, nil)
	for _, r := range res {
		fmt.Printf("aplicada  %s  (%s)\n", r.File, r.Duration)
	}
	if err != nil {
		return err
	}
	if len(res) == 0 {
		fmt.Println("La base de datos ya está al día.")
	}
	return nil
}

type migrateStatusCmd struct{}

func (migrateStatusCmd) Run(ctx context.Context, g *Globals) error {
	pool, err := g.openDB(ctx, "gobdatos-migrate")
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := migrations.New(pool, nil)
	if err != nil {
		return err
	}
	defer m.Close()
	st, err := m.Status(ctx)
	if err != nil {
		return err
	}
	t := newTable(os.Stdout, "VERSIÓN", "ARCHIVO", "ESTADO", "APLICADA")
	pending := 0
	for _, s := range st {
		state, at := "pendiente", "—"
		if s.Applied {
			state, at = "aplicada", s.AppliedAt
		} else {
			pending++
		}
		t.row(s.Version, s.File, state, at)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if pending > 0 {
		return exitError{code: 3, msg: fmt.Sprintf("%d migraciones pendientes", pending)}
	}
	return nil
}
