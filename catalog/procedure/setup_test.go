package procedure_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/dgtit-gto/gobdatos/catalog/procedure"
	"github.com/dgtit-gto/gobdatos/catalog/procedure/proceduretest"
	"github.com/dgtit-gto/gobdatos/migrations/pgtest"
	"github.com/dgtit-gto/gobdatos/schemas"
)

// bundle is what an engine test needs: a fresh database, the engine on the
// shipped definitions, and three people.
type bundle struct {
	pool     *pgxpool.Pool
	engine   *procedure.Engine
	steward  procedure.Actor // Administrador: holds the steward roles
	entity   procedure.Actor // Publicador of dependencia SFIA: files requests
	outsider procedure.Actor // Consulta of another dependencia
	sfia     int64           // the entity's dependencia
}

func loadShipped(t testing.TB) (*procedure.Registry, *procedure.Calendar) {
	t.Helper()
	reg, err := procedure.Load(schemas.Procedures())
	require.NoError(t, err)
	cal, err := procedure.ParseCalendar("gto.yaml", schemas.Calendar())
	require.NoError(t, err)
	return reg, cal
}

func setup(t testing.TB) *bundle {
	t.Helper()
	reg, cal := loadShipped(t)
	pool := pgtest.New(t)
	ctx := context.Background()
	eng := procedure.NewEngine(pool, reg, cal)
	eng.BaseURL = "https://datos.example"
	eng.UsePlatform(proceduretest.Platform(t, pool))
	require.NoError(t, eng.Sync(ctx))
	proceduretest.DropGrantedRoles(t, pool)
	b := &bundle{pool: pool, engine: eng}
	var sfia, other int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SFIA', 'Secretaría de Finanzas, Inversión y Administración') RETURNING id`).Scan(&sfia))
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO meta.dependencia (clave, nombre) VALUES ('SSG', 'Secretaría de Salud') RETURNING id`).Scan(&other))
	b.steward = newUser(t, pool, "coordinadora", "admin", nil)
	b.entity = newUser(t, pool, "enlace.sfia", "publicador", &sfia)
	b.outsider = newUser(t, pool, "consulta.ssg", "consulta", &other)
	proceduretest.PublishedCatalog(t, pool, sfia)
	b.sfia = sfia
	return b
}

func newUser(t testing.TB, pool *pgxpool.Pool, login, profile string, dep *int64) procedure.Actor {
	t.Helper()
	var id int64
	email := login + "@guanajuato.gob.mx"
	require.NoError(t, pool.QueryRow(context.Background(), `
		INSERT INTO meta.app_user (login, email, full_name, profile, dependencia_id)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, login, email, "Nombre de "+login, profile, dep).Scan(&id))
	return procedure.Actor{UserID: &id, Login: login, Email: email, Name: "Nombre de " + login, Profile: profile, DependenciaID: dep}
}

// sample returns valid data for a form: each field's example, or a value
// of its type.
func sample(f procedure.Form) map[string]any {
	out := map[string]any{}
	for _, fd := range f.Fields {
		if fd.Example != nil {
			switch x := fd.Example.(type) {
			case int:
				out[fd.ID] = float64(x)
			case []any:
				out[fd.ID] = x
			default:
				out[fd.ID] = x
			}
			continue
		}
		switch fd.Type {
		case procedure.Text:
			out[fd.ID] = "Texto de ejemplo"
		case procedure.TextArea:
			out[fd.ID] = "Descripción de ejemplo con el detalle necesario."
		case procedure.Email:
			out[fd.ID] = "persona@guanajuato.gob.mx"
		case procedure.URL:
			out[fd.ID] = "https://gobiernodedatos.guanajuato.gob.mx/modelo.pdf"
		case procedure.Date:
			out[fd.ID] = "2026-11-26"
		case procedure.Number:
			v := 1.0
			if fd.Min != nil {
				v = *fd.Min
			}
			out[fd.ID] = v
		case procedure.Boolean:
			out[fd.ID] = true
		case procedure.Select:
			out[fd.ID] = fd.Options[0]
		case procedure.List:
			out[fd.ID] = []any{"cat_municipio"}
		}
	}
	return out
}

func outboxCount(t testing.TB, pool *pgxpool.Pool, recipient, subjectLike string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT count(*) FROM meta.outbox WHERE recipient = $1 AND subject LIKE $2`, recipient, subjectLike).Scan(&n))
	return n
}

// at returns a fixed moment in Guanajuato's time zone.
func at(cal *procedure.Calendar, s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, cal.Location)
	if err != nil {
		panic(err)
	}
	return t
}
