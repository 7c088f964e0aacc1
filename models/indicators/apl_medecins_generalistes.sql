-- APL-like accessibility to GPs (pipelines/access): each commune's value comes from the 2SFCA;
-- an EPCI, département or région is the population-weighted mean of its communes, published
-- only when every one of its communes was computed (a territory cut by the edge of the data
-- or missing coordinates would be understated). Communes without inhabitants have no value.
-- Suppression and the interval follow the distinct GPs within reach of the territory's
-- inhabitants (suppression_count), as densite_etp follows the headcount behind its FTE.
WITH years AS (
    SELECT DISTINCT year FROM staging.gp_accessibility
),
-- the territories of models/indicators/shared/territories.sql, and each commune on its own
membership AS (
    SELECT 'commune' AS geo_level, commune_code AS geo_code, commune_code FROM ref.communes
    UNION ALL
    SELECT * FROM territory_membership()
),
territories AS (
    SELECT m.geo_level, m.geo_code, y.year,
           sum(g.accessible_fte) AS accessible_fte, sum(g.population) AS population
    FROM membership m
    CROSS JOIN years y
    LEFT JOIN staging.gp_accessibility g ON g.commune_code = m.commune_code AND g.year = y.year
    GROUP BY ALL
    HAVING bool_and(coalesce(g.status = 'calculé', false)) AND sum(g.population) > 0
),
-- the communes within reach of any inhabitant of the territory, then their distinct GPs
reach AS (
    SELECT DISTINCT m.geo_level, m.geo_code, k.reachable_commune_code AS commune_code
    FROM membership m
    JOIN staging.commune_catchments k USING (commune_code)
),
gps AS (
    SELECT DISTINCT year(period_month) AS year, commune_code, professional_hash
    FROM staging.activity
    WHERE profession_code = 'medecin_generaliste'
      AND year(period_month) IN (SELECT year FROM years)
),
reachable AS (
    SELECT r.geo_level, r.geo_code, g.year, count(DISTINCT g.professional_hash) AS gps
    FROM reach r
    JOIN gps g USING (commune_code)
    GROUP BY ALL
),
rates AS (
    SELECT t.*, 1e5 * t.accessible_fte / t.population AS apl, coalesce(r.gps, 0) AS gps
    FROM territories t
    LEFT JOIN reachable r USING (geo_level, geo_code, year)
),
names AS (
    SELECT 'commune' AS geo_level, commune_code AS geo_code, commune_name AS geo_name
    FROM ref.communes
    UNION ALL SELECT * FROM territory_names()
),
parents AS (
    -- a commune and an EPCI are compared with their (main) département, a département with
    -- its région
    SELECT 'commune' AS geo_level, commune_code AS geo_code, 'departement' AS parent_level,
           department_code AS parent_code
    FROM ref.communes
    UNION ALL
    SELECT * FROM territory_parents()
)
SELECT
    'apl_medecins_generalistes' AS indicator_id,
    r.geo_level,
    r.geo_code,
    n.geo_name,
    CAST(r.year AS VARCHAR) AS period,
    'ensemble' AS dimension,
    'ensemble' AS category,
    r.apl AS value,
    r.accessible_fte AS numerator,
    r.population AS denominator,
    -- the Poisson interval of the GPs within reach, scaled to the value (none when no GP)
    r.apl * poisson_low(r.gps) / nullif(r.gps, 0) AS ci_low,
    r.apl * poisson_high(r.gps) / nullif(r.gps, 0) AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    parent_rate.apl AS reference_value,
    r.gps AS suppression_count
FROM rates r
JOIN names n USING (geo_level, geo_code)
LEFT JOIN parents p USING (geo_level, geo_code)
LEFT JOIN rates parent_rate ON parent_rate.geo_level = p.parent_level
                           AND parent_rate.geo_code = p.parent_code
                           AND parent_rate.year = r.year
