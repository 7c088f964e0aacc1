-- Professionals who left the territory during each complete year of the activity panel, by
-- profession: their last month in the territory falls in that year. Counts, with exact
-- Poisson (Byar from 10) intervals; not compared with a reference (territories differ in size).
WITH panel AS (
    SELECT min(period_month) AS first_month, max(period_month) AS last_month
    FROM staging.activity
),
activity_years AS (
    SELECT year(period_month) AS year
    FROM staging.activity
    GROUP BY 1
    HAVING count(DISTINCT month(period_month)) = 12
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
    SELECT m.geo_level, m.geo_code
    FROM membership m
    JOIN ref.communes c USING (commune_code)
    GROUP BY ALL
    HAVING bool_and(c.department_code IN (SELECT department_code FROM covered_departments))
),
-- first and last month each professional appears in each territory
presence AS (
    SELECT m.geo_level, m.geo_code, a.professional_hash,
           any_value(a.profession_code) AS profession_code,
           min(a.first_month) AS first_month, max(a.last_month) AS last_month
    FROM (SELECT professional_hash, commune_code, any_value(profession_code) AS profession_code,
                 min(period_month) AS first_month, max(period_month) AS last_month
          FROM staging.activity GROUP BY professional_hash, commune_code) a
    JOIN membership m USING (commune_code)
    GROUP BY m.geo_level, m.geo_code, a.professional_hash
),
-- an installation is a first appearance after the panel's first month, a departure a last
-- appearance before its last month (nobody can be seen arriving or leaving at the edges)
movements AS (
    SELECT p.geo_level, p.geo_code, p.profession_code,
           year(p.first_month) AS year, 1 AS installations, 0 AS departures
    FROM presence p, panel
    WHERE p.first_month > panel.first_month
    UNION ALL
    SELECT p.geo_level, p.geo_code, p.profession_code,
           year(p.last_month), 0, 1
    FROM presence p, panel
    WHERE p.last_month < panel.last_month
),
counts AS (
    SELECT geo_level, geo_code, year, coalesce(profession_code, 'ensemble') AS category,
           sum(installations) AS installations, sum(departures) AS departures
    FROM movements
    GROUP BY GROUPING SETS ((geo_level, geo_code, year, profession_code),
                            (geo_level, geo_code, year))
),
grid AS (
    SELECT t.geo_level, t.geo_code, y.year, p.category,
           coalesce(c.installations, 0) AS installations,
           coalesce(c.departures, 0) AS departures
    FROM territories t
    CROSS JOIN activity_years y
    CROSS JOIN (SELECT DISTINCT profession_code AS category FROM staging.activity
                UNION ALL SELECT 'ensemble') p
    LEFT JOIN counts c USING (geo_level, geo_code, year, category)
),
names AS (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, epci_name AS geo_name FROM ref.epci
    UNION ALL SELECT 'departement', department_code, department_name FROM ref.departements
    UNION ALL SELECT 'region', region_code, region_name FROM ref.regions
)
SELECT
    'departs' AS indicator_id,
    g.geo_level,
    g.geo_code,
    n.geo_name,
    CAST(g.year AS VARCHAR) AS period,
    CASE WHEN g.category = 'ensemble' THEN 'ensemble' ELSE 'profession' END AS dimension,
    g.category,
    g.departures AS value,
    g.departures AS numerator,
    NULL AS denominator,
    poisson_low(g.departures) AS ci_low,
    poisson_high(g.departures) AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    NULL AS reference_value
FROM grid g
JOIN names n USING (geo_level, geo_code)
