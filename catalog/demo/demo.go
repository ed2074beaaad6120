// Package demo loads the data a first start shows, so the portal is not
// empty: a handful of the state government's dependencias and INEGI's
// catalogs of Mexico's states and municipalities (see SOURCES.md).
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dgtit-gto/gobdatos/catalog"
	"github.com/dgtit-gto/gobdatos/catalog/audit"
	"github.com/dgtit-gto/gobdatos/catalog/nomenclature"
	"github.com/dgtit-gto/gobdatos/catalog/tableschema"
	"github.com/dgtit-gto/gobdatos/migrations/pgdb"
)

//go:embed municipios_completo.json
var municipiosJSON []byte

// Dependencia is one seeded dependencia or entidad.
type Dependencia struct {
	Clave, Nombre, Tipo string
}

// Dependencias returns the seeded dependencias and entidades of the Gobierno
// del Estado de Guanajuato.
func Dependencias() []Dependencia {
	return []Dependencia{
		{"SFIA", "Secretaría de Finanzas, Inversión y Administración", "dependencia"},
		{"SEG", "Secretaría de Educación de Guanajuato", "dependencia"},
		{"SSG", "Secretaría de Salud de Guanajuato", "dependencia"},
		{"SDES", "Secretaría de Desarrollo Económico Sustentable", "dependencia"},
		{"SICOM", "Secretaría de Infraestructura, Conectividad y Movilidad", "dependencia"},
		{"SMAOT", "Secretaría de Medio Ambiente y Ordenamiento Territorial", "dependencia"},
		{"STRC", "Secretaría de la Transparencia y Rendición de Cuentas", "dependencia"},
		{"IPLANEG", "Instituto de Planeación, Estadística y Geografía del Estado de Guanajuato", "entidad"},
		{"INEGI", "Instituto Nacional de Estadística y Geografía", "externa"},
	}
}

// Municipio is one row of INEGI's AGEEML catalog with its 2020 census totals.
type Municipio struct {
	CveEntidad         string `json:"cve_entidad"`
	NomEntidad         string `json:"nom_entidad"`
	NomAbrEntidad      string `json:"nom_abr_entidad"`
	CveMunicipio       string `json:"cve_municipio"`
	NomMunicipio       string `json:"nom_municipio"`
	CveCompleta        string `json:"cve_completa"`
	CveCabecera        string `json:"cve_cabecera"`
	NomCabecera        string `json:"nom_cabecera"`
	PoblacionTotal     int64  `json:"poblacion_total"`
	PoblacionMasculina int64  `json:"poblacion_masculina"`
	PoblacionFemenina  int64  `json:"poblacion_femenina"`
	ViviendasHabitadas int64  `json:"viviendas_habitadas"`
}

// Municipios decodes the embedded INEGI file.
func Municipios() ([]Municipio, error) {
	var ms []Municipio
	if err := json.Unmarshal(municipiosJSON, &ms); err != nil {
		return nil, fmt.Errorf("demo: municipios: %w", err)
	}
	return ms, nil
}

// Result says what Seed did.
type Result struct {
	Dependencias int
	Entidades    int
	Municipios   int
}

//go:embed cat_entidad.json
var entidadJSON []byte

//go:embed cat_municipio.json
var municipioJSON []byte

// Definitions returns the definitions of the demo catalogs, entidad first.
func Definitions() ([]tableschema.Resource, error) {
	var out []tableschema.Resource
	for _, raw := range [][]byte{entidadJSON, municipioJSON} {
		res, err := tableschema.Parse(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("demo: definition: %w", err)
		}
		out = append(out, res)
	}
	return out, nil
}

// Seed loads the demo data once, through the catalog registry: dependencias
// are upserted by clave; the catalogs entidad and municipio (owned by INEGI,
// adopted, published by the platform) are created from their definitions
// and their first version loaded, only when they are not registered yet,
// so a second start changes nothing. Tables an older seed created without
// the registry are registered as they are.
func Seed(ctx context.Context, pool *pgxpool.Pool) (Result, error) {
	var res Result
	for _, d := range Dependencias() {
		tag, err := pool.Exec(ctx, `
			INSERT INTO meta.dependencia (clave, nombre, tipo) VALUES ($1, $2, $3)
			ON CONFLICT (clave) DO NOTHING`, d.Clave, d.Nombre, d.Tipo)
		if err != nil {
			return res, fmt.Errorf("demo: dependencia %s: %w", d.Clave, err)
		}
		res.Dependencias += int(tag.RowsAffected())
	}
	var inegi int64
	if err := pool.QueryRow(ctx, `SELECT id FROM meta.dependencia WHERE clave = 'INEGI'`).Scan(&inegi); err != nil {
		return res, fmt.Errorf("demo: dependencia INEGI: %w", err)
	}
	rules, err := nomenclature.DefaultRules()
	if err != nil {
		return res, err
	}
	store := catalog.NewStore(pool, catalog.Nomenclature(rules))
	defs, err := Definitions()
	if err != nil {
		return res, err
	}
	ms, err := Municipios()
	if err != nil {
		return res, err
	}
	meta := catalog.NewCatalog{DependenciaID: inegi, Publish: true, Metadata: catalog.Metadata{
		Steward: "Coordinación de Datos Maestros (DAID)", Keywords: []string{"inegi", "geografía", "marco geoestadístico"},
		License: "CC-BY-4.0", Origin: catalog.Adoptado, OriginEntity: "Instituto Nacional de Estadística y Geografía (INEGI)",
		UpdateMechanism: "Carga de archivo del Catálogo Único de Claves de Áreas Geoestadísticas", Periodicity: "anual",
	}}
	loads := [][][]any{entidadRows(ms), municipioRows(ms)}
	for i, def := range defs {
		n, err := seedCatalog(ctx, store, def, meta, loads[i])
		if err != nil {
			return res, err
		}
		if i == 0 {
			res.Entidades = n
		} else {
			res.Municipios = n
		}
	}
	return res, nil
}

// seedCatalog creates (or registers) one demo catalog and loads its first
// version; it returns the rows loaded, 0 when the catalog already existed.
func seedCatalog(ctx context.Context, store *catalog.Store, def tableschema.Resource, meta catalog.NewCatalog, rows [][]any) (int, error) {
	if _, err := store.ByTable(ctx, def.Name); err == nil {
		return 0, nil
	} else if !catalog.IsKind(err, catalog.KindNotFound) {
		return 0, err
	}
	var exists bool
	if err := store.DB().QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, catalog.Schema+"."+def.Name).Scan(&exists); err != nil {
		return 0, err
	}
	if exists {
		_, err := store.Register(ctx, catalog.System(), def.Name, meta)
		return 0, err
	}
	meta.Resource = def
	c, err := store.Create(ctx, catalog.System(), meta)
	if err != nil {
		return 0, fmt.Errorf("demo: create %s: %w", def.Name, err)
	}
	var cols []string
	for _, f := range def.Schema.Fields {
		cols = append(cols, f.Name)
	}
	var n int64
	err = pgdb.WithTx(ctx, store.DB(), func(tx pgx.Tx) error {
		if n, err = tx.CopyFrom(ctx, pgx.Identifier{catalog.Schema, c.Table}, cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("demo: load %s: %w", c.Table, err)
		}
		if _, err := catalog.PublishFirstLoad(ctx, tx, c, catalog.System(), nil); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "ANALYZE "+pgdb.QuoteQualified(catalog.Schema, c.Table)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Action: "demo.seed", ObjectType: "catalog", ObjectID: c.Clave,
			Detail: map[string]int64{"rows": n}})
	})
	return int(n), err
}

func entidadRows(ms []Municipio) [][]any {
	seen := map[string]bool{}
	var out [][]any
	for _, m := range ms {
		if !seen[m.CveEntidad] {
			seen[m.CveEntidad] = true
			out = append(out, []any{m.CveEntidad, m.NomEntidad, m.NomAbrEntidad})
		}
	}
	return out
}

func municipioRows(ms []Municipio) [][]any {
	out := make([][]any, len(ms))
	for i, m := range ms {
		// INEGI writes "----" where a municipality (the alcaldías of
		// Mexico City) has no cabecera: that is a missing value.
		var cabecera, nomCabecera *string
		if m.CveCabecera != "----" && m.CveCabecera != "" {
			cabecera, nomCabecera = &m.CveCabecera, &m.NomCabecera
		}
		out[i] = []any{m.CveCompleta, m.CveEntidad, m.CveMunicipio, m.NomMunicipio, cabecera, nomCabecera,
			m.PoblacionTotal, m.PoblacionMasculina, m.PoblacionFemenina, m.ViviendasHabitadas}
	}
	return out
}
