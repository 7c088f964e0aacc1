-- What the indicators installations, departs and solde_installations count: for each EPCI,
-- département and région wholly covered by the activity panel, each complete year and each
-- profession (and 'ensemble'), the professionals who settled in the territory (their first
-- month there falls in that year) and those who left it (their last month there). A temporary
-- macro, made on the night's connection before the indicators run: the raw counts are never a
-- table of the published file, only the indicators made from them, suppression applied.
CREATE OR REPLACE TEMP MACRO yearly_movements() AS TABLE (
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
    SELECT g.geo_level, g.geo_code, n.geo_name, g.year, g.category, g.installations,
           g.departures
    FROM grid g
    JOIN names n USING (geo_level, geo_code)
);
