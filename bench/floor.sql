-- The floor of the benchmark: the night's headline marts computed by one DuckDB script, with
-- no orchestration, no validation, no pseudonymisation, no audit and no dashboards. Whatever
-- the night spends above this is the price of those.
--
-- Variables, set before the script runs (bench/floor.py does it):
--   activity_files  list of the activity CSV files, all UTF-8 (DuckDB has no Windows-1252
--                   reader here, so bench/floor.py transcodes those files first, timed)
--   census_files    list of the census CSV files
--   followup_files  list of the follow-up CSV files
--   reference       folder of the reference geography (data/reference)

CREATE SCHEMA IF NOT EXISTS marts;

CREATE OR REPLACE TEMP TABLE communes AS
SELECT commune_code, department_code, region_code, epci_code, population
FROM read_parquet(getvariable('reference') || '/communes.parquet');

-- One pass over the activity files, with explicit types for the columns the marts read
-- (projection pushdown skips the others); `months` is a bit set of the months seen.
CREATE OR REPLACE TEMP TABLE panel AS
SELECT id_professionnel, profession, code_commune_exercice AS commune_code,
       CAST(left(periode, 4) AS INTEGER) AS year,
       bit_or(1 << (CAST(right(periode, 2) AS INTEGER) - 1)) AS months
FROM read_csv(getvariable('activity_files'), delim = ';', header = true,
              decimal_separator = ',',
              types = {'periode': 'VARCHAR', 'id_professionnel': 'VARCHAR',
                       'profession': 'VARCHAR', 'code_commune_exercice': 'VARCHAR'})
GROUP BY ALL;

-- Only complete years, as the night's densite_professionnels.
CREATE OR REPLACE TEMP TABLE active AS
SELECT * EXCLUDE (months) FROM panel
WHERE year IN (SELECT year FROM panel GROUP BY year HAVING bit_or(months) = 4095);

CREATE OR REPLACE TABLE marts.densities AS
WITH membership AS (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, commune_code FROM communes
    WHERE epci_code IS NOT NULL
    UNION ALL SELECT 'departement', department_code, commune_code FROM communes
    UNION ALL SELECT 'region', region_code, commune_code FROM communes
),
covered_departments AS (
    SELECT DISTINCT c.department_code FROM active a JOIN communes c USING (commune_code)
),
territories AS (
    SELECT m.geo_level, m.geo_code, sum(c.population) AS population
    FROM membership m JOIN communes c USING (commune_code)
    GROUP BY ALL
    HAVING bool_and(c.department_code IN (SELECT department_code FROM covered_departments))
),
counts AS (
    SELECT m.geo_level, m.geo_code, a.year, coalesce(a.profession, 'ensemble') AS category,
           count(DISTINCT a.id_professionnel) AS professionals
    FROM active a JOIN membership m USING (commune_code)
    GROUP BY GROUPING SETS ((m.geo_level, m.geo_code, a.year, a.profession),
                            (m.geo_level, m.geo_code, a.year))
),
grid AS (
    SELECT t.*, y.year, p.category
    FROM territories t
    CROSS JOIN (SELECT DISTINCT year FROM active) y
    CROSS JOIN (SELECT DISTINCT profession AS category FROM active
                UNION ALL SELECT 'ensemble') p
),
rates AS (
    SELECT g.*, coalesce(c.professionals, 0) AS professionals,
           1e4 * coalesce(c.professionals, 0) / g.population AS rate
    FROM grid g LEFT JOIN counts c USING (geo_level, geo_code, year, category)
),
parents AS (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, 'departement' AS parent_level,
           arg_max(department_code, population) AS parent_code
    FROM communes WHERE epci_code IS NOT NULL GROUP BY epci_code
    UNION ALL
    SELECT DISTINCT 'departement', department_code, 'region', region_code FROM communes
)
SELECT r.geo_level, r.geo_code, r.year, r.category, r.professionals, r.population, r.rate,
       -- Byar's approximation of the Poisson interval (the night is exact below 10)
       CASE WHEN r.professionals = 0 THEN 0 ELSE
           1e4 * greatest(r.professionals * (1 - 1 / (9 * r.professionals)
               - 1.959964 / (3 * sqrt(r.professionals))) ** 3, 0) / r.population END AS ci_low,
       1e4 * (r.professionals + 1) * (1 - 1 / (9 * (r.professionals + 1))
           + 1.959964 / (3 * sqrt(r.professionals + 1))) ** 3 / r.population AS ci_high,
       parent.rate AS reference_value
FROM rates r
LEFT JOIN parents p USING (geo_level, geo_code)
LEFT JOIN rates parent ON parent.geo_level = p.parent_level AND parent.geo_code = p.parent_code
                      AND parent.year = r.year AND parent.category = r.category;

CREATE OR REPLACE TABLE marts.census_counts AS
SELECT region, date_recensement AS period, territoire AS territory,
       coalesce(stade, 'ensemble') AS stage, count(*) AS projects
FROM read_csv(getvariable('census_files'), delim = ';', header = true, all_varchar = true)
GROUP BY GROUPING SETS ((region, date_recensement, territoire, stade),
                        (region, date_recensement, territoire),
                        (region, date_recensement, stade),
                        (region, date_recensement));

CREATE OR REPLACE TABLE marts.followup_achievement AS
WITH typed AS (
    SELECT programme, critere AS criterion, periode AS period,
           CAST(replace(valeur, ',', '.') AS DOUBLE) AS value,
           CAST(replace(cible, ',', '.') AS DOUBLE) AS target
    FROM read_csv(getvariable('followup_files'), delim = ';', header = true,
                  all_varchar = true)
)
SELECT programme, criterion, period, value, target, 100.0 * value / target AS achievement_rate
FROM typed
WHERE target > 0;
