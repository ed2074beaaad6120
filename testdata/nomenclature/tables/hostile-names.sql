-- table: cat.cat_municipiо; --
-- The table's last "о" is Cyrillic; names travel as parameters, never in SQL text.
CREATE TABLE cat."cat_municipiо; --" ("id_municipio""; DROP TABLE x; --" integer PRIMARY KEY, "nombre /* c */" varchar(10));
COMMENT ON TABLE cat."cat_municipiо; --" IS 'Municipios con nombres hostiles para las pruebas.';
