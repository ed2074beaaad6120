-- table: cat.Cat_Municipios
-- NOMENCLATURE.md: errors NOM-T02, NOM-T04, NOM-T06, NOM-C01 ×3, NOM-C02 ×4, NOM-C03, NOM-C05,
-- NOM-C06, NOM-C07 and avisos NOM-T07, NOM-C09 ×2.
CREATE TABLE cat."Cat_Municipios"("ID" text PRIMARY KEY, "Nombre_Municipio" text, "fechaAlta" date, vigente char(1));
