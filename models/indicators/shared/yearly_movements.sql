-- What the indicators installations, departs and solde_installations count: for each EPCI,
-- département and région wholly covered by the activity panel, each complete year and each
-- profession (and 'ensemble'), the professionals who settled in the territory (their first
-- month there falls in that year) and those who left it (their last month there). Temporary
-- tables, made on the night's connection before the indicators run: three indicators read the
-- movements and two the presence, which are computed once (at national scale each took 1.4 s
-- a reading as macros). The raw counts are never a table of the published file, only the
-- indicators made from them, suppression applied.

-- The first and last month each professional appears in each territory (EPCI, département,
-- région): what an installation and a departure are made of, here and in departs_remplaces.
CREATE OR REPLACE TEMP TABLE territory_presence AS (
    WITH places AS (
        SELECT m.geo_level, m.geo_code, a.*
        FROM (SELECT professional, one_workplace, commune_code,
                     any_value(profession_code) AS profession_code,
                     min(first_month) AS first_month, max(last_month) AS last_month
              FROM professional_years
              GROUP BY professional, one_workplace, commune_code) a
        JOIN territory_membership() m USING (commune_code)
    )
    -- a professional with one workplace (professional_years.sql) is one row per territory
    SELECT geo_level, geo_code, professional, profession_code, first_month, last_month
    FROM places
    WHERE one_workplace
    UNION ALL
    SELECT geo_level, geo_code, professional, any_value(profession_code), min(first_month),
           max(last_month)
    FROM places
    WHERE NOT one_workplace
    GROUP BY geo_level, geo_code, professional
);

CREATE OR REPLACE TEMP TABLE yearly_movements AS (
    WITH presence AS (SELECT * FROM territory_presence),
    panel AS (
        SELECT min(period_month) AS first_month, max(period_month) AS last_month
        FROM staging.activity
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
        FROM covered_territories t
        CROSS JOIN complete_years y
        CROSS JOIN (SELECT DISTINCT profession_code AS category FROM staging.activity
                    UNION ALL SELECT 'ensemble') p
        LEFT JOIN counts c USING (geo_level, geo_code, year, category)
    )
    SELECT g.geo_level, g.geo_code, n.geo_name, g.year, g.category, g.installations,
           g.departures
    FROM grid g
    JOIN territory_names() n USING (geo_level, geo_code)
);
