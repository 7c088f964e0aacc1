-- Professionals per 10,000 inhabitants by profession, per complete year, for every EPCI,
-- département and région whose communes are all covered by the activity files (a territory
-- half covered would show a false desert). A territory with no professional gets a 0 row.
WITH activity_years AS (
    SELECT year(period_month) AS year
    FROM staging.activity
    GROUP BY 1
    HAVING count(DISTINCT month(period_month)) = 12
),
active AS (
    SELECT DISTINCT a.professional_hash, a.profession_code, a.commune_code,
           year(a.period_month) AS year
    FROM staging.activity a
    WHERE year(a.period_month) IN (SELECT year FROM activity_years)
),
covered_departments AS (
    SELECT DISTINCT c.department_code
    FROM staging.activity a
    JOIN ref.communes c USING (commune_code)
),
membership AS (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, commune_code FROM ref.communes
    WHERE epci_code IS NOT NULL
    UNION ALL
    SELECT 'departement', department_code, commune_code FROM ref.communes
    UNION ALL
    SELECT 'region', region_code, commune_code FROM ref.communes
),
territories AS (
    SELECT m.geo_level, m.geo_code, sum(c.population) AS population
    FROM membership m
    JOIN ref.communes c USING (commune_code)
    GROUP BY ALL
    HAVING bool_and(c.department_code IN (SELECT department_code FROM covered_departments))
),
counts AS (
    SELECT m.geo_level, m.geo_code, a.year, coalesce(a.profession_code, 'ensemble') AS category,
           count(DISTINCT a.professional_hash) AS professionals
    FROM active a
    JOIN membership m USING (commune_code)
    GROUP BY GROUPING SETS ((m.geo_level, m.geo_code, a.year, a.profession_code),
                            (m.geo_level, m.geo_code, a.year))
),
grid AS (
    SELECT t.geo_level, t.geo_code, t.population, y.year, p.category
    FROM territories t
    CROSS JOIN activity_years y
    CROSS JOIN (SELECT DISTINCT profession_code AS category FROM staging.activity
                UNION ALL SELECT 'ensemble') p
),
rates AS (
    SELECT g.*, coalesce(c.professionals, 0) AS professionals,
           1e4 * coalesce(c.professionals, 0) / g.population AS rate
    FROM grid g
    LEFT JOIN counts c USING (geo_level, geo_code, year, category)
),
names AS (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, epci_name AS geo_name FROM ref.epci
    UNION ALL SELECT 'departement', department_code, department_name FROM ref.departements
    UNION ALL SELECT 'region', region_code, region_name FROM ref.regions
),
parents AS (
    -- an EPCI is compared with the département holding most of its population
    SELECT 'epci' AS geo_level, epci_code AS geo_code, 'departement' AS parent_level,
           arg_max(department_code, population) AS parent_code
    FROM ref.communes WHERE epci_code IS NOT NULL GROUP BY epci_code
    UNION ALL
    SELECT 'departement', department_code, 'region', region_code FROM ref.departements
)
SELECT
    'densite_professionnels' AS indicator_id,
    r.geo_level,
    r.geo_code,
    n.geo_name,
    CAST(r.year AS VARCHAR) AS period,
    CASE WHEN r.category = 'ensemble' THEN 'ensemble' ELSE 'profession' END AS dimension,
    r.category,
    r.rate AS value,
    r.professionals AS numerator,
    r.population AS denominator,
    rate_low(r.professionals, r.population, 1e4) AS ci_low,
    rate_high(r.professionals, r.population, 1e4) AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    parent_rate.rate AS reference_value
FROM rates r
JOIN names n USING (geo_level, geo_code)
LEFT JOIN parents p USING (geo_level, geo_code)
LEFT JOIN rates parent_rate ON parent_rate.geo_level = p.parent_level
                           AND parent_rate.geo_code = p.parent_code
                           AND parent_rate.year = r.year AND parent_rate.category = r.category
