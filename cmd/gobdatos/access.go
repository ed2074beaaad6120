package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"strings"

	"github.com/dgtit-gto/gobdatos/catalog/access"
	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
)

// keyringOf builds the keyring that seals stored credentials from the
// configured secret and the previous ones.
func keyringOf(s secretConfig, dataDir string, logger *slog.Logger) (*keyring.Keyring, error) {
	secret, err := s.resolve(dataDir, logger)
	if err != nil {
		return nil, err
	}
	return s.keyring(secret)
}

// keyring is keyringOf for a secret already resolved.
func (s secretConfig) keyring(secret []byte) (*keyring.Keyring, error) {
	prev := make([][]byte, 0, len(s.SecretKeyPrevious))
	for _, p := range s.SecretKeyPrevious {
		if p = strings.TrimSpace(p); p != "" {
			prev = append(prev, []byte(p))
		}
	}
	return keyring.New(secret, prev...)
}

// consoleActor is who the bitácora names for changes made from the command line.
func consoleActor() audit.Actor {
	name := "desconocido"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return audit.Actor{Login: "consola:" + name}
}

type accessCmd struct {
	secretConfig
	Grant  accessGrantCmd  `cmd:"" help:"Create an entity's PostgreSQL role limited to its tables in cat; prints its password once."`
	Rotate accessRotateCmd `cmd:"" help:"Give an entity's role a new password, printed once."`
	Revoke accessRevokeCmd `cmd:"" help:"Take every privilege away from an entity's role and drop it (the record stays)."`
	List   accessListCmd   `cmd:"" help:"List the entities' roles and their tables."`
}

func (c *accessCmd) Help() string {
	return `Entity access (format F-DGTIT-DAID-GGD-5): a PostgreSQL login role with which an entity writes
its own catalog tables in cat — SELECT, INSERT, UPDATE and DELETE on exactly those tables; no
other schema, no DDL, no temporary tables. The password is shown once; the platform keeps it
sealed with GOBDATOS_SECRET_KEY so the connectivity checks can log in as the role.
The user of DATABASE_URL must be allowed to create roles (CREATEROLE) and own the database.`
}

func (c *accessCmd) store(ctx context.Context, g *Globals, logger *slog.Logger) (*access.Store, func(), error) {
	keys, err := keyringOf(c.secretConfig, g.DataDir, logger)
	if err != nil {
		return nil, nil, err
	}
	pool, err := g.openDB(ctx, "gobdatos-access")
	if err != nil {
		return nil, nil, err
	}
	return &access.Store{DB: pool, Keys: keys}, pool.Close, nil
}

type accessGrantCmd struct {
	Dependencia string   `arg:"" help:"Clave of the dependencia or entidad, e.g. SEG."`
	Tables      []string `name:"table" short:"t" required:"" help:"A table of cat the entity may write (repeat, or separate with commas)."`
	Role        string   `name:"role" help:"Name of the role; default ent_ and the clave in lower case."`
}

func (c accessGrantCmd) Run(ctx context.Context, g *Globals, parent *accessCmd, logger *slog.Logger) error {
	st, done, err := parent.store(ctx, g, logger)
	if err != nil {
		return err
	}
	defer done()
	gr, pw, err := st.Grant(ctx, access.Request{Dependencia: c.Dependencia, Role: c.Role, Tables: c.Tables, Actor: consoleActor()})
	if err != nil {
		return spanishAccessError(err)
	}
	fmt.Printf("Rol %s creado para %s con acceso a: cat.%s\n", gr.Role, gr.Dependencia, strings.Join(gr.Tables, ", cat."))
	fmt.Printf("Contraseña (sólo se muestra esta vez): %s\n", pw)
	return nil
}

type accessRotateCmd struct {
	Role string `arg:"" help:"The role."`
}

func (c accessRotateCmd) Run(ctx context.Context, g *Globals, parent *accessCmd, logger *slog.Logger) error {
	st, done, err := parent.store(ctx, g, logger)
	if err != nil {
		return err
	}
	defer done()
	pw, err := st.Rotate(ctx, c.Role, consoleActor())
	if err != nil {
		return spanishAccessError(err)
	}
	fmt.Printf("Nueva contraseña de %s (sólo se muestra esta vez): %s\n", c.Role, pw)
	return nil
}

type accessRevokeCmd struct {
	Role string `arg:"" help:"The role."`
}

func (c accessRevokeCmd) Run(ctx context.Context, g *Globals, parent *accessCmd, logger *slog.Logger) error {
	st, done, err := parent.store(ctx, g, logger)
	if err != nil {
		return err
	}
	defer done()
	if err := st.Revoke(ctx, c.Role, consoleActor()); err != nil {
		return spanishAccessError(err)
	}
	fmt.Printf("Acceso de %s revocado: el rol ya no existe.\n", c.Role)
	return nil
}

type accessListCmd struct {
	All bool `name:"all" help:"Include revoked grants."`
}

func (c accessListCmd) Run(ctx context.Context, g *Globals, parent *accessCmd, logger *slog.Logger) error {
	st, done, err := parent.store(ctx, g, logger)
	if err != nil {
		return err
	}
	defer done()
	list, err := st.List(ctx, c.All)
	if err != nil {
		return err
	}
	t := newTable(os.Stdout, "ROL", "DEPENDENCIA", "TABLAS", "OTORGADO", "POR", "ESTADO")
	for _, a := range list {
		state := "activo"
		if a.RevokedAt != nil {
			state = "revocado " + a.RevokedAt.Local().Format("2006-01-02 15:04")
		} else if a.RotatedAt != nil {
			state = "activo (contraseña cambiada " + a.RotatedAt.Local().Format("2006-01-02 15:04") + ")"
		}
		t.row(a.Role, a.Dependencia, strings.Join(a.Tables, ","), a.GrantedAt.Local().Format("2006-01-02 15:04"), a.GrantedBy, state)
	}
	return t.flush()
}

func spanishAccessError(err error) error {
	if errors.Is(err, access.ErrNotFound) {
		return errors.New("no hay un acceso activo con ese rol")
	}
	if errors.Is(err, access.ErrInvalid) {
		return errors.New(strings.TrimPrefix(err.Error(), access.ErrInvalid.Error()+": "))
	}
	return err
}
