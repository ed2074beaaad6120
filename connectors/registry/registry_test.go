package registry_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/connectors/keyring"
	"github.com/dgtit-gto/gobdatos/connectors/registry"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
)

var who = audit.Entry{Actor: audit.Actor{Login: "coordinador"}}

func setup(t *testing.T) (*pgxpool.Pool, *registry.Store) {
	t.Helper()
	pool := pgtest.New(t)
	_, err := pool.Exec(context.Background(), `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SEG', 'Secretaría de Seguridad'), ('SFIA', 'Secretaría de Finanzas')`)
	require.NoError(t, err)
	keys, err := keyring.New([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	return pool, &registry.Store{DB: pool, Keys: keys}
}

func pgInput() registry.Input {
	return registry.Input{
		Dependencia: "SEG", Name: "Base de delitos", Kind: "postgres",
		Address:     "postgres://db.seg.gob.mx:5432/delitos?sslmode=require",
		Options:     json.RawMessage(`{"schema": "public"}`),
		Credentials: &registry.Credentials{User: "lector", Password: "p4ss-muy-secreta"},
		Object:      "delito", TargetCatalog: "cat_delito", ExpectedColumns: []string{"clave", "nombre"},
		LoadCron: "0 3 * * *",
	}
}

func TestCRUDKeepsCredentialsSealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, st := setup(t)
	c, err := st.Create(ctx, pgInput(), who)
	require.NoError(t, err)
	require.True(t, c.HasCredentials)
	require.Equal(t, "SEG", c.Dependencia)
	require.Equal(t, registry.Seconds(300), c.CheckInterval, "default 5 minutes")
	require.Equal(t, registry.Seconds(15), c.CheckTimeout)
	require.True(t, c.Enabled)
	out, err := json.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(out), "p4ss-muy-secreta")

	var raw, detail string
	require.NoError(t, pool.QueryRow(ctx, `SELECT encode(credentials_sealed, 'escape') FROM meta.connector`).Scan(&raw))
	require.NotContains(t, raw, "p4ss-muy-secreta")
	require.NotContains(t, raw, "lector")
	require.NoError(t, pool.QueryRow(ctx, `SELECT string_agg(detail::text, ' ') FROM meta.audit_log`).Scan(&detail))
	require.NotContains(t, detail, "p4ss-muy-secreta")

	sec, err := st.Secret(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, registry.Credentials{User: "lector", Password: "p4ss-muy-secreta"}, sec)

	// An update without credentials keeps them; one with new credentials replaces them.
	in := pgInput()
	in.Credentials = nil
	in.CheckInterval = 60
	off := false
	in.Enabled = &off
	c2, err := st.Update(ctx, c.ID, in, who)
	require.NoError(t, err)
	require.Equal(t, registry.Seconds(60), c2.CheckInterval)
	require.False(t, c2.Enabled)
	sec, err = st.Secret(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "p4ss-muy-secreta", sec.Password)
	in.Credentials = &registry.Credentials{Token: "tok"}
	_, err = st.Update(ctx, c.ID, in, who)
	require.NoError(t, err)
	sec, err = st.Secret(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, registry.Credentials{Token: "tok"}, sec)
	in.Credentials, in.ClearCredentials = nil, true
	c3, err := st.Update(ctx, c.ID, in, who)
	require.NoError(t, err)
	require.False(t, c3.HasCredentials)

	h := pgInput()
	h.Dependencia, h.Name, h.Kind, h.Address, h.Credentials, h.LoadCron = "SFIA", "API de municipios", "http", "https://api.sfia.gob.mx/municipios", nil, ""
	_, err = st.Create(ctx, h, who)
	require.NoError(t, err)
	all, err := st.List(ctx, registry.Filter{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	seg := c.DependenciaID
	mine, err := st.List(ctx, registry.Filter{DependenciaID: &seg})
	require.NoError(t, err)
	require.Len(t, mine, 1)
	enabled, err := st.List(ctx, registry.Filter{OnlyEnabled: true})
	require.NoError(t, err)
	require.Len(t, enabled, 1)
	require.Equal(t, "SFIA", enabled[0].Dependencia)

	require.NoError(t, st.Delete(ctx, c.ID, who))
	_, err = st.Get(ctx, c.ID)
	require.ErrorIs(t, err, registry.ErrNotFound)
	require.ErrorIs(t, st.Delete(ctx, c.ID, who), registry.ErrNotFound)
	_, err = st.Update(ctx, c.ID, pgInput(), who)
	require.ErrorIs(t, err, registry.ErrNotFound)
	var actions string
	require.NoError(t, pool.QueryRow(ctx, `SELECT string_agg(action, ',' ORDER BY id) FROM meta.audit_log`).Scan(&actions))
	require.Equal(t, "connector.create,connector.update,connector.update,connector.update,connector.create,connector.delete", actions)
}

func TestInvalidInputChangesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, st := setup(t)
	for name, tc := range map[string]struct {
		edit  func(*registry.Input)
		field string
		want  string
	}{
		"kind":            {func(in *registry.Input) { in.Kind = "ftp" }, "kind", "el tipo debe ser uno de"},
		"short name":      {func(in *registry.Input) { in.Name = "x" }, "name", "de 3 a 120"},
		"password in url": {func(in *registry.Input) { in.Address = "postgres://u:clave-oculta@h:5432/db" }, "address", "no debe llevar usuario"},
		"wrong scheme":    {func(in *registry.Input) { in.Address = "mysql://h/db" }, "address", "postgres://"},
		"relative file":   {func(in *registry.Input) { in.Kind, in.Address = "file", "datos.csv" }, "address", "ruta absoluta"},
		"secret option":   {func(in *registry.Input) { in.Options = json.RawMessage(`{"api_key": "x"}`) }, "options", "no deben llevar secretos"},
		"options array":   {func(in *registry.Input) { in.Options = json.RawMessage(`[1]`) }, "options", "objeto JSON"},
		"cron":            {func(in *registry.Input) { in.LoadCron = "cada noche" }, "load_cron", "expresión cron"},
		"cron no target":  {func(in *registry.Input) { in.TargetCatalog = "" }, "target_catalog", "catálogo destino"},
		"interval":        {func(in *registry.Input) { in.CheckInterval = 5 }, "check_interval_seconds", "entre 10 segundos"},
		"timeout":         {func(in *registry.Input) { in.CheckInterval, in.CheckTimeout = 30, 60 }, "check_timeout_seconds", "no mayor que el intervalo"},
		"dependencia":     {func(in *registry.Input) { in.Dependencia = "NADA" }, "dependencia", "no existe"},
		"owner":           {func(in *registry.Input) { o := int64(999); in.OwnerID = &o }, "owner_id", "no existe"},
	} {
		in := pgInput()
		tc.edit(&in)
		_, err := st.Create(ctx, in, who)
		require.ErrorIs(t, err, registry.ErrInvalid, name)
		var ie *registry.InvalidError
		require.ErrorAs(t, err, &ie, name)
		require.Equal(t, tc.field, ie.Fields[0].Field, name)
		require.Contains(t, ie.Fields[0].Message, tc.want, name)
		require.NotContains(t, err.Error(), "clave-oculta", name)
	}
	_, err := st.Create(ctx, pgInput(), who)
	require.NoError(t, err)
	_, err = st.Create(ctx, pgInput(), who)
	require.ErrorContains(t, err, "ya tiene un conector con ese nombre")
	var n int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM meta.connector`).Scan(&n))
	require.Equal(t, 1, n)
}

func TestChangesAreAnnounced(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pool, st := setup(t)
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, "LISTEN "+registry.Channel)
	require.NoError(t, err)
	c, err := st.Create(ctx, pgInput(), who)
	require.NoError(t, err)
	n, err := conn.Conn().WaitForNotification(ctx)
	require.NoError(t, err)
	require.Equal(t, "connector:"+itoa(c.ID), n.Payload)

	// Check bookkeeping is not a change of the connector.
	_, err = pool.Exec(ctx, `UPDATE meta.connector SET last_check_at = now(), failures = 1`)
	require.NoError(t, err)
	require.NoError(t, st.Delete(ctx, c.ID, who))
	n, err = conn.Conn().WaitForNotification(ctx)
	require.NoError(t, err)
	require.Equal(t, "connector:"+itoa(c.ID), n.Payload, "the delete, not the bookkeeping")
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	_, err = conn.Conn().WaitForNotification(short)
	require.Error(t, err, "nothing else was announced")
}

func TestResealConnectors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, st := setup(t)
	c, err := st.Create(ctx, pgInput(), who)
	require.NoError(t, err)
	keys, err := keyring.New([]byte(strings.Repeat("n", 32)), []byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	st2 := &registry.Store{DB: pool, Keys: keys}
	n, err := st2.Reseal(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	onlyNew, err := keyring.New([]byte(strings.Repeat("n", 32)))
	require.NoError(t, err)
	sec, err := (&registry.Store{DB: pool, Keys: onlyNew}).Secret(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "p4ss-muy-secreta", sec.Password)
	_, err = st.Secret(ctx, c.ID)
	require.ErrorIs(t, err, keyring.ErrUnknownKey, "the old key alone no longer opens it")
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
