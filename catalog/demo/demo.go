// Package demo loads the data a first start shows, so the portal is not
// empty: a handful of the state government's dependencias and INEGI's
// catalogs of Mexico's states and municipalities (see SOURCES.md).
package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dgtit-gto/gobdatos/catalog/audit"
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

// Seed loads the demo data once: dependencias are upserted by clave; the
// catalog tables are created and filled only when they do not exist yet, so
// a second start changes nothing.
func Seed(ctx context.Context, db pgdb.DBTX) (Result, error) {
	var res Result
	err := pgdb.WithTx(ctx, db, func(tx pgx.Tx) error {
		for _, d := range Dependencias() {
			tag, err := tx.Exec(ctx, `
				INSERT INTO meta.dependencia (clave, nombre, tipo) VALUES ($1, $2, $3)
				ON CONFLICT (clave) DO NOTHING`, d.Clave, d.Nombre, d.Tipo)
			if err != nil {
				return fmt.Errorf("demo: dependencia %s: %w", d.Clave, err)
			}
			res.Dependencias += int(tag.RowsAffected())
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('cat.cat_municipio') IS NOT NULL`).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		ms, err := Municipios()
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, catalogDDL); err != nil {
			return fmt.Errorf("demo: create catalogs: %w", err)
		}
		now := time.Now()
		seen := map[string]bool{}
		var entidades [][]any
		for _, m := range ms {
			if !seen[m.CveEntidad] {
				seen[m.CveEntidad] = true
				entidades = append(entidades, []any{m.CveEntidad, m.NomEntidad, m.NomAbrEntidad, now})
			}
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"cat", "cat_entidad"},
			[]string{"id_entidad", "nombre", "abreviatura", "fecha_alta"}, pgx.CopyFromRows(entidades))
		if err != nil {
			return fmt.Errorf("demo: load cat_entidad: %w", err)
		}
		res.Entidades = int(n)
		rows := make([][]any, len(ms))
		for i, m := range ms {
			// INEGI writes "----" where a municipality (the alcaldías of
			// Mexico City) has no cabecera: that is a missing value.
			var cabecera, nomCabecera *string
			if m.CveCabecera != "----" && m.CveCabecera != "" {
				cabecera, nomCabecera = &m.CveCabecera, &m.NomCabecera
			}
			rows[i] = []any{m.CveCompleta, m.CveEntidad, m.CveMunicipio, m.NomMunicipio, cabecera, nomCabecera,
				m.PoblacionTotal, m.PoblacionMasculina, m.PoblacionFemenina, m.ViviendasHabitadas, now}
		}
		n, err = tx.CopyFrom(ctx, pgx.Identifier{"cat", "cat_municipio"},
			[]string{"id_municipio", "id_entidad", "clave_municipio", "nombre", "clave_cabecera", "nombre_cabecera",
				"poblacion_total", "poblacion_masculina", "poblacion_femenina", "viviendas_habitadas", "fecha_alta"},
			pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("demo: load cat_municipio: %w", err)
		}
		res.Municipios = int(n)
		if _, err := tx.Exec(ctx, "ANALYZE cat.cat_entidad; ANALYZE cat.cat_municipio"); err != nil {
			return fmt.Errorf("demo: analyze: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{
			Action: "demo.seed", ObjectType: "catalog", ObjectID: "cat_municipio",
			Detail: map[string]int{"entidades": res.Entidades, "municipios": res.Municipios},
		})
	})
	return res, err
}

const catalogDDL = `
CREATE TABLE cat.cat_entidad (
    id_entidad          varchar(2) PRIMARY KEY CHECK (id_entidad ~ '^[0-9]{2}$'),
    nombre              varchar(100) NOT NULL,
    abreviatura         varchar(20) NOT NULL,
    activo              boolean NOT NULL DEFAULT true,
    fecha_alta          timestamptz NOT NULL DEFAULT now(),
    fecha_modificacion  timestamptz
);
COMMENT ON TABLE cat.cat_entidad IS 'Entidades federativas de México según el Marco Geoestadístico del INEGI.';
COMMENT ON COLUMN cat.cat_entidad.id_entidad IS 'Clave INEGI de la entidad federativa, dos dígitos con cero a la izquierda.';
COMMENT ON COLUMN cat.cat_entidad.nombre IS 'Nombre oficial de la entidad federativa.';
COMMENT ON COLUMN cat.cat_entidad.abreviatura IS 'Abreviatura INEGI de la entidad.';
COMMENT ON COLUMN cat.cat_entidad.activo IS 'Indica si el registro está vigente.';
COMMENT ON COLUMN cat.cat_entidad.fecha_alta IS 'Fecha y hora en que se dio de alta el registro.';
COMMENT ON COLUMN cat.cat_entidad.fecha_modificacion IS 'Fecha y hora de la última modificación del registro.';

CREATE TABLE cat.cat_municipio (
    id_municipio         varchar(5) PRIMARY KEY CHECK (id_municipio ~ '^[0-9]{5}$'),
    id_entidad           varchar(2) NOT NULL REFERENCES cat.cat_entidad (id_entidad),
    clave_municipio      varchar(3) NOT NULL CHECK (clave_municipio ~ '^[0-9]{3}$'),
    nombre               varchar(150) NOT NULL,
    clave_cabecera       varchar(4) CHECK (clave_cabecera ~ '^[0-9]{4}$'),
    nombre_cabecera      varchar(150),
    poblacion_total      integer NOT NULL CHECK (poblacion_total >= 0),
    poblacion_masculina  integer NOT NULL CHECK (poblacion_masculina >= 0),
    poblacion_femenina   integer NOT NULL CHECK (poblacion_femenina >= 0),
    viviendas_habitadas  integer NOT NULL CHECK (viviendas_habitadas >= 0),
    activo               boolean NOT NULL DEFAULT true,
    fecha_alta           timestamptz NOT NULL DEFAULT now(),
    fecha_modificacion   timestamptz
);
CREATE INDEX cat_municipio_id_entidad_idx ON cat.cat_municipio (id_entidad);
COMMENT ON TABLE cat.cat_municipio IS 'Municipios de México con su clave geoestadística INEGI (AGEEML) y totales del Censo de Población y Vivienda 2020.';
COMMENT ON COLUMN cat.cat_municipio.id_municipio IS 'Clave geoestadística completa: entidad (2 dígitos) y municipio (3 dígitos).';
COMMENT ON COLUMN cat.cat_municipio.id_entidad IS 'Clave de la entidad federativa a la que pertenece el municipio.';
COMMENT ON COLUMN cat.cat_municipio.clave_municipio IS 'Clave del municipio dentro de su entidad, tres dígitos.';
COMMENT ON COLUMN cat.cat_municipio.nombre IS 'Nombre oficial del municipio.';
COMMENT ON COLUMN cat.cat_municipio.clave_cabecera IS 'Clave de la localidad cabecera municipal, cuatro dígitos; vacía en las alcaldías de la Ciudad de México, que no tienen cabecera.';
COMMENT ON COLUMN cat.cat_municipio.nombre_cabecera IS 'Nombre de la localidad cabecera municipal.';
COMMENT ON COLUMN cat.cat_municipio.poblacion_total IS 'Población total según el Censo 2020.';
COMMENT ON COLUMN cat.cat_municipio.poblacion_masculina IS 'Población masculina según el Censo 2020.';
COMMENT ON COLUMN cat.cat_municipio.poblacion_femenina IS 'Población femenina según el Censo 2020.';
COMMENT ON COLUMN cat.cat_municipio.viviendas_habitadas IS 'Viviendas particulares habitadas según el Censo 2020.';
COMMENT ON COLUMN cat.cat_municipio.activo IS 'Indica si el registro está vigente.';
COMMENT ON COLUMN cat.cat_municipio.fecha_alta IS 'Fecha y hora en que se dio de alta el registro.';
COMMENT ON COLUMN cat.cat_municipio.fecha_modificacion IS 'Fecha y hora de la última modificación del registro.';
`
