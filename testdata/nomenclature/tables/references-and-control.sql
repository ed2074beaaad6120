-- table: cat.cat_localidad
CREATE TABLE cat.cat_entidad (id_entidad varchar(2) PRIMARY KEY, clave_entidad varchar(2) UNIQUE);
CREATE TABLE cat.cat_localidad (
  id_localidad varchar(9) PRIMARY KEY,
  id_entidad text REFERENCES cat.cat_entidad (id_entidad),
  entidad_alterna varchar(2) REFERENCES cat.cat_entidad (clave_entidad),
  id_ageb varchar(4),
  nombre varchar(120) NOT NULL,
  fecha_alta timestamptz,
  activo boolean);
COMMENT ON TABLE cat.cat_localidad IS 'Localidades del Marco Geoestadístico.';
COMMENT ON COLUMN cat.cat_localidad.id_localidad IS 'Clave de la localidad.';
COMMENT ON COLUMN cat.cat_localidad.id_entidad IS 'Entidad federativa.';
COMMENT ON COLUMN cat.cat_localidad.entidad_alterna IS 'Entidad por su clave alterna.';
COMMENT ON COLUMN cat.cat_localidad.id_ageb IS 'Área geoestadística básica.';
COMMENT ON COLUMN cat.cat_localidad.nombre IS 'Nombre de la localidad.';
COMMENT ON COLUMN cat.cat_localidad.fecha_alta IS 'Alta del registro.';
COMMENT ON COLUMN cat.cat_localidad.activo IS 'Registro vigente.';
