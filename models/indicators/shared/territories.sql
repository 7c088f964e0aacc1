-- The EPCI, départements and régions the indicators publish, their names and the territory each
-- is compared with: one definition, so that every indicator counts, names and compares the same
-- territories. Temporary macros and a table, made on the night's connection once the tables exist;
-- the files of this folder run in name order, so this one stands after professional_years.sql,
-- which it reads, and before yearly_activity.sql and yearly_movements.sql, which read it.

-- each commune once per level: its EPCI (when it has one), its département, its région
CREATE OR REPLACE TEMP MACRO territory_membership() AS TABLE (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, commune_code FROM ref.communes
    WHERE epci_code IS NOT NULL
    UNION ALL
    SELECT 'departement', department_code, commune_code FROM ref.communes
    UNION ALL
    SELECT 'region', region_code, commune_code FROM ref.communes
);

-- the territories wholly covered by the activity panel (every commune in a département the
-- activity files cover: a territory half covered would show a false desert), with their
-- population; a table, made once, since finding the covered départements reads the activity
CREATE OR REPLACE TEMP TABLE covered_territories AS (
    WITH covered_departments AS (
        SELECT DISTINCT c.department_code
        FROM (SELECT DISTINCT commune_code FROM professional_years) a
        JOIN ref.communes c USING (commune_code)
    )
    SELECT m.geo_level, m.geo_code, sum(c.population) AS population
    FROM territory_membership() m
    JOIN ref.communes c USING (commune_code)
    GROUP BY ALL
    HAVING bool_and(c.department_code IN (SELECT department_code FROM covered_departments))
);

CREATE OR REPLACE TEMP MACRO territory_names() AS TABLE (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, epci_name AS geo_name FROM ref.epci
    UNION ALL SELECT 'departement', department_code, department_name FROM ref.departements
    UNION ALL SELECT 'region', region_code, region_name FROM ref.regions
);

-- an EPCI is compared with the département holding most of its population, a département with
-- its région (a région with nothing)
CREATE OR REPLACE TEMP MACRO territory_parents() AS TABLE (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, 'departement' AS parent_level,
           arg_max(department_code, population) AS parent_code
    FROM ref.communes WHERE epci_code IS NOT NULL GROUP BY epci_code
    UNION ALL
    SELECT 'departement', department_code, 'region', region_code FROM ref.departements
);
