package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/portal/account"
)

type userCmd struct {
	Create        userCreateCmd        `cmd:"" help:"Register a user (\"Registrar usuario\"): a one-time password is printed, or the welcome e-mail is sent with --welcome."`
	List          userListCmd          `cmd:"" help:"List the users with their profile, dependencia and state."`
	SetProfile    userSetProfileCmd    `cmd:"" name:"set-profile" help:"Change a user's profile (superadmin, admin, publicador, consulta)."`
	Deactivate    userDeactivateCmd    `cmd:"" help:"Deactivate a user: sign-in refused, sessions and tokens end at once."`
	Activate      userActivateCmd      `cmd:"" help:"Activate a deactivated user again."`
	ResetPassword userResetPasswordCmd `cmd:"" name:"reset-password" help:"Give a user a new one-time password, printed once."`
}

// userManager is the account manager acting for the operator of the command
// line, who may do everything (the bitácora records the actor "cli").
func userManager(pool *pgxpool.Pool, baseURL string) (*account.Manager, account.Actor) {
	return &account.Manager{DB: pool, BaseURL: baseURL}, account.Actor{}
}

// cliUserError turns the manager's errors into Spanish lines for the operator.
func cliUserError(err error) error {
	var bad account.Invalid
	if errors.As(err, &bad) {
		msgs := make([]string, len(bad))
		for i, e := range bad {
			msgs[i] = e.Message
		}
		return errors.New(strings.Join(msgs, "\n"))
	}
	return err
}

func findUser(ctx context.Context, pool *pgxpool.Pool, login string) (account.User, error) {
	u, err := account.NewStore(pool).ByLogin(ctx, login)
	if errors.Is(err, account.ErrNotFound) {
		return u, fmt.Errorf("no existe el usuario %q", login)
	}
	return u, err
}

func dependenciaID(ctx context.Context, pool *pgxpool.Pool, clave string) (*int64, error) {
	if clave == "" {
		return nil, nil
	}
	var id int64
	err := pool.QueryRow(ctx, `SELECT id FROM meta.dependencia WHERE clave = upper($1)`, clave).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("no existe la dependencia con clave %q", clave)
	}
	return &id, err
}

func details(u account.User) account.Details {
	return account.Details{Login: u.Login, Email: u.Email, FullName: u.FullName, Profile: u.Profile, DependenciaID: u.DependenciaID, Active: u.Active}
}

type userCreateCmd struct {
	Login       string `arg:"" help:"The user's login (lower-case letters, digits, . _ -)."`
	Email       string `name:"email" required:"" help:"E-mail address."`
	Name        string `name:"name" required:"" help:"Full name."`
	Profile     string `name:"profile" default:"consulta" enum:"superadmin,admin,publicador,consulta" help:"Profile: superadmin, admin, publicador, consulta."`
	Dependencia string `name:"dependencia" help:"Clave of the user's dependencia (required for a publicador)."`
	Welcome     bool   `name:"welcome" help:"Send the welcome e-mail with a link to set the password, instead of printing a one-time password."`
	BaseURL     string `name:"base-url" env:"GOBDATOS_BASE_URL" default:"http://127.0.0.1:8080" help:"Public URL of the portal, for the link in the welcome e-mail."`
}

func (c userCreateCmd) Run(ctx context.Context, g *Globals) error {
	pool, err := g.openDB(ctx, "gobdatos-user")
	if err != nil {
		return err
	}
	defer pool.Close()
	dep, err := dependenciaID(ctx, pool, c.Dependencia)
	if err != nil {
		return err
	}
	m, actor := userManager(pool, c.BaseURL)
	u, err := m.Register(ctx, actor, account.Details{Login: c.Login, Email: c.Email, FullName: c.Name,
		Profile: account.Profile(c.Profile), DependenciaID: dep}, c.Welcome)
	if err != nil {
		return cliUserError(err)
	}
	if c.Welcome {
		fmt.Printf("Usuario %s registrado (%s). El correo de bienvenida a %s sale con la próxima entrega del portal.\n", u.Login, u.Profile.Name(), u.Email)
		return nil
	}
	pw := account.GeneratePassword(16)
	if err := m.SetPassword(ctx, actor, u.ID, pw, pw, true); err != nil {
		return err
	}
	fmt.Printf("Usuario %s registrado (%s).\nContraseña temporal: %s\nSe pedirá cambiarla al entrar; no se volverá a mostrar.\n", u.Login, u.Profile.Name(), pw)
	return nil
}

type userListCmd struct {
	Profile string `name:"profile" enum:",superadmin,admin,publicador,consulta" default:"" help:"Only users of this profile."`
	All     bool   `name:"all" help:"Include deactivated users."`
}

func (c userListCmd) Run(ctx context.Context, g *Globals) error {
	pool, err := g.openDB(ctx, "gobdatos-user")
	if err != nil {
		return err
	}
	defer pool.Close()
	f := account.Filter{Profile: account.Profile(c.Profile), Limit: 1000}
	if !c.All {
		t := true
		f.Active = &t
	}
	deps := map[int64]string{}
	rows, err := pool.Query(ctx, `SELECT id, clave FROM meta.dependencia`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var clave string
		if err := rows.Scan(&id, &clave); err != nil {
			return err
		}
		deps[id] = clave
	}
	if err := rows.Err(); err != nil {
		return err
	}
	t := newTable(os.Stdout, "USUARIO", "PERFIL", "DEPENDENCIA", "ACTIVO", "CORREO", "NOMBRE")
	for {
		users, err := account.NewStore(pool).List(ctx, f)
		if err != nil {
			return err
		}
		for _, u := range users {
			dep, active := "—", "sí"
			if u.DependenciaID != nil {
				dep = deps[*u.DependenciaID]
			}
			if !u.Active {
				active = "no"
			}
			t.row(u.Login, u.Profile.Name(), dep, active, u.Email, u.FullName)
		}
		if len(users) < f.Limit {
			break
		}
		f.AfterID = users[len(users)-1].ID
	}
	return t.flush()
}

type userSetProfileCmd struct {
	Login       string `arg:"" help:"The user's login."`
	Profile     string `arg:"" enum:"superadmin,admin,publicador,consulta" help:"The new profile: superadmin, admin, publicador, consulta."`
	Dependencia string `name:"dependencia" help:"Clave of the dependencia (a publicador needs one; otherwise it is kept)."`
}

func (c userSetProfileCmd) Run(ctx context.Context, g *Globals) error {
	return updateUser(ctx, g, c.Login, func(ctx context.Context, pool *pgxpool.Pool, d *account.Details) error {
		d.Profile = account.Profile(c.Profile)
		if c.Dependencia != "" {
			dep, err := dependenciaID(ctx, pool, c.Dependencia)
			if err != nil {
				return err
			}
			d.DependenciaID = dep
		}
		return nil
	}, "Perfil de %s: %s.\n")
}

type userDeactivateCmd struct {
	Login string `arg:"" help:"The user's login."`
}

func (c userDeactivateCmd) Run(ctx context.Context, g *Globals) error {
	return setActive(ctx, g, c.Login, false, "Usuario %s desactivado (%s): sus sesiones y tokens terminaron.\n")
}

type userActivateCmd struct {
	Login string `arg:"" help:"The user's login."`
}

func (c userActivateCmd) Run(ctx context.Context, g *Globals) error {
	return setActive(ctx, g, c.Login, true, "Usuario %s activado (%s).\n")
}

func setActive(ctx context.Context, g *Globals, login string, active bool, done string) error {
	return updateUser(ctx, g, login, func(_ context.Context, _ *pgxpool.Pool, d *account.Details) error {
		d.Active = active
		return nil
	}, done)
}

// updateUser applies change to a user's details through the manager and
// prints done with the login and profile name.
func updateUser(ctx context.Context, g *Globals, login string, change func(context.Context, *pgxpool.Pool, *account.Details) error, done string) error {
	pool, err := g.openDB(ctx, "gobdatos-user")
	if err != nil {
		return err
	}
	defer pool.Close()
	u, err := findUser(ctx, pool, login)
	if err != nil {
		return err
	}
	d := details(u)
	if err := change(ctx, pool, &d); err != nil {
		return err
	}
	m, actor := userManager(pool, "")
	if u, err = m.Update(ctx, actor, u.ID, d); err != nil {
		return cliUserError(err)
	}
	fmt.Printf(done, u.Login, u.Profile.Name())
	return nil
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
	u, err := findUser(ctx, pool, c.Login)
	if err != nil {
		return err
	}
	pw := account.GeneratePassword(16)
	m, actor := userManager(pool, "")
	if err := m.SetPassword(ctx, actor, u.ID, pw, pw, true); err != nil {
		return cliUserError(err)
	}
	fmt.Printf("Contraseña temporal de %s: %s\nSe pedirá cambiarla al entrar.\n", u.Login, pw)
	return nil
}
