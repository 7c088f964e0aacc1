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
-- complete years whose December's 12-month window ends inside the panel
activity_years AS (
    SELECT y.year
    FROM complete_years() y, panel
    WHERE make_date(y.year, 12, 1) + INTERVAL 12 MONTH <= panel.last_month
),
-- months as integers, so that windows are plain arithmetic
events AS (
    SELECT p.geo_level, p.geo_code, p.profession_code,
           CASE WHEN p.last_month < panel.last_month
                 AND year(p.last_month) IN (SELECT year FROM activity_years)
                THEN year(p.last_month) * 12 + month(p.last_month) END AS departure,
           CASE WHEN p.first_month > panel.first_month
                THEN year(p.first_month) * 12 + month(p.first_month) END AS installation
    FROM territory_presence p, panel
    WHERE (p.geo_level, p.geo_code) IN (SELECT (geo_level, geo_code) FROM covered_territories)
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
JOIN territory_names() n USING (geo_level, geo_code)
LEFT JOIN territory_parents() p USING (geo_level, geo_code)
LEFT JOIN counts r ON r.geo_level = p.parent_level AND r.geo_code = p.parent_code
                  AND r.year = c.year AND r.category = c.category
