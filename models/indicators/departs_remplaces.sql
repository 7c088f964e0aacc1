-- Share of the departures of a year replaced within 12 months by an installation of the same
-- profession in the same territory: departures and installations (first and last month seen in
-- the territory, as in installations/departs) are matched one to one, in time order, each
-- departure taking the earliest installation not yet taken that comes in the 12 months after its
-- last month (greedy matching, optimal for windows of equal length). Only years whose every
-- departure has its whole window inside the panel; a year without departure has no row.
WITH RECURSIVE panel AS (
    SELECT min(period_month) AS first_month, max(period_month) AS last_month
    FROM staging.activity
),
activity_years AS (
    SELECT year(period_month) AS year
    FROM staging.activity, panel
    GROUP BY 1, panel.last_month
    HAVING count(DISTINCT month(period_month)) = 12
       AND make_date(year(period_month), 12, 1) + INTERVAL 12 MONTH <= panel.last_month
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
-- months as integers, so that windows are plain arithmetic
events AS (
    SELECT p.geo_level, p.geo_code, p.profession_code,
           CASE WHEN p.last_month < panel.last_month
                 AND year(p.last_month) IN (SELECT year FROM activity_years)
                THEN year(p.last_month) * 12 + month(p.last_month) END AS departure,
           CASE WHEN p.first_month > panel.first_month
                THEN year(p.first_month) * 12 + month(p.first_month) END AS installation
    FROM presence p, panel
    WHERE (p.geo_level, p.geo_code) IN (SELECT (geo_level, geo_code) FROM territories)
),
queues AS (
    SELECT geo_level, geo_code, profession_code,
           list(departure ORDER BY departure) FILTER (WHERE departure IS NOT NULL) AS departures,
           coalesce(list(installation ORDER BY installation)
                    FILTER (WHERE installation IS NOT NULL), []) AS installations
    FROM events
    GROUP BY ALL
    HAVING count(departure) > 0
),
-- step k settles the k-th departure; taken is the index of the last installation used
matching AS (
    SELECT geo_level, geo_code, profession_code, 0 AS k, 0 AS taken,
           CAST(NULL AS INTEGER) AS departure, CAST(NULL AS BOOLEAN) AS replaced
    FROM queues
    UNION ALL
    SELECT m.geo_level, m.geo_code, m.profession_code, m.k + 1,
           CASE WHEN s.replaced THEN s.candidate ELSE m.taken END,
           s.departure, s.replaced
    FROM matching m
    JOIN queues q USING (geo_level, geo_code, profession_code)
    CROSS JOIN LATERAL (
        SELECT c.departure, c.candidate,
               c.candidate <= len(q.installations)
               AND q.installations[c.candidate] <= c.departure + 12 AS replaced
        FROM (SELECT q.departures[m.k + 1] AS departure,
                     m.taken + 1 + len(list_filter(
                         list_slice(q.installations, m.taken + 1, len(q.installations)),
                         lambda x: x <= q.departures[m.k + 1])) AS candidate) c
    ) s
    WHERE m.k < len(q.departures)
),
departures AS (
    SELECT geo_level, geo_code, profession_code, (departure - 1) // 12 AS year, replaced
    FROM matching
    WHERE k > 0
),
counts AS (
    SELECT geo_level, geo_code, year, coalesce(profession_code, 'ensemble') AS category,
           count(*) FILTER (WHERE replaced) AS replaced, count(*) AS departures
    FROM departures
    GROUP BY GROUPING SETS ((geo_level, geo_code, year, profession_code),
                            (geo_level, geo_code, year))
),
names AS (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, epci_name AS geo_name FROM ref.epci
    UNION ALL SELECT 'departement', department_code, department_name FROM ref.departements
    UNION ALL SELECT 'region', region_code, region_name FROM ref.regions
),
parents AS (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, 'departement' AS parent_level,
           arg_max(department_code, population) AS parent_code
    FROM ref.communes WHERE epci_code IS NOT NULL GROUP BY epci_code
    UNION ALL
    SELECT 'departement', department_code, 'region', region_code FROM ref.departements
)
SELECT
    'departs_remplaces' AS indicator_id,
    c.geo_level,
    c.geo_code,
    n.geo_name,
    CAST(c.year AS VARCHAR) AS period,
    CASE WHEN c.category = 'ensemble' THEN 'ensemble' ELSE 'profession' END AS dimension,
    c.category,
    100.0 * c.replaced / c.departures AS value,
    c.replaced AS numerator,
    c.departures AS denominator,
    100.0 * wilson_low(c.replaced, c.departures) AS ci_low,
    100.0 * wilson_high(c.replaced, c.departures) AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    100.0 * r.replaced / r.departures AS reference_value
FROM counts c
JOIN names n USING (geo_level, geo_code)
LEFT JOIN parents p USING (geo_level, geo_code)
LEFT JOIN counts r ON r.geo_level = p.parent_level AND r.geo_code = p.parent_code
                  AND r.year = c.year AND r.category = c.category
