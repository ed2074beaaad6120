-- table: cat.cat_municipio
CREATE TABLE cat.cat_entidad (
  id_entidad varchar(2) PRIMARY KEY CHECK (id_entidad ~ '^[0-9]{2}$'),
  nombre varchar(100) NOT NULL,
  fecha_alta timestamptz NOT NULL DEFAULT now(),
  fecha_modificacion timestamptz,
  activo boolean NOT NULL DEFAULT true);
CREATE TABLE cat.cat_municipio (
  id_municipio varchar(5) PRIMARY KEY,
  id_entidad varchar(2) NOT NULL REFERENCES cat.cat_entidad (id_entidad),
  clave_municipio varchar(3) NOT NULL CHECK (clave_municipio ~ '^[0-9]{3}$'),
  nombre varchar(150) NOT NULL,
  poblacion_total integer CHECK (poblacion_total >= 0),
  fecha_alta timestamptz NOT NULL DEFAULT now(),
  fecha_modificacion timestamptz,
  activo boolean NOT NULL DEFAULT true);
COMMENT ON TABLE cat.cat_municipio IS 'Municipios de México con su clave geoestadística del INEGI.';
COMMENT ON COLUMN cat.cat_municipio.id_municipio IS 'Clave geoestadística completa.';
COMMENT ON COLUMN cat.cat_municipio.id_entidad IS 'Entidad federativa.';
COMMENT ON COLUMN cat.cat_municipio.clave_municipio IS 'Clave del municipio en su entidad.';
COMMENT ON COLUMN cat.cat_municipio.nombre IS 'Nombre oficial.';
COMMENT ON COLUMN cat.cat_municipio.poblacion_total IS 'Población total, Censo 2020.';
COMMENT ON COLUMN cat.cat_municipio.fecha_alta IS 'Alta del registro.';
COMMENT ON COLUMN cat.cat_municipio.fecha_modificacion IS 'Última modificación.';
COMMENT ON COLUMN cat.cat_municipio.activo IS 'Registro vigente.';
