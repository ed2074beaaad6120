package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/portal/account"
)

type userCmd struct {
	ResetPassword userResetPasswordCmd `cmd:"" name:"reset-password" help:"Give a user a new one-time password, printed once."`
}

type userResetPasswordCmd struct {
	Login string `arg:"" help:"The user's login."`
}

func (c userResetPasswordCmd) Run(ctx context.Context, g *Globals) error {
	pool, err := g.openDB(ctx, "gobdatos-user")
	if err != nil {
		return err
	}
	defer pool.Close()
	users := account.NewStore(pool)
	u, err := users.ByLogin(ctx, c.Login)
	if errors.Is(err, account.ErrNotFound) {
		return fmt.Errorf("no existe el usuario %q", c.Login)
	}
	if err != nil {
		return err
	}
	pw := account.GeneratePassword(16)
	if err := users.SetPassword(ctx, u.ID, pw, true); err != nil {
		return err
	}
	if err := audit.Record(ctx, pool, audit.Entry{Action: "user.reset_password", ObjectType: "user",
		ObjectID: fmt.Sprint(u.ID), Detail: map[string]string{"via": "cli"}}); err != nil {
		return err
	}
	fmt.Printf("Contraseña temporal de %s: %s\nSe pedirá cambiarla al entrar.\n", u.Login, pw)
	return nil
}
