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
    FROM complete_years y, panel
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
-- the installations of each territory and profession, in time order
installations AS (
    SELECT geo_level, geo_code, profession_code, list(installation ORDER BY installation) AS months
    FROM events
    WHERE installation IS NOT NULL
    GROUP BY ALL
),
-- the departures of each month, with how many installations came by that month (none of them
-- can replace these departures) and by the end of their window: departures of the same month
-- have the same window, so the matching settles them together, one step per month rather than
-- per departure (a région had 1,700 departures of one profession: as many recursion steps)
departure_months AS (
    SELECT d.geo_level, d.geo_code, d.profession_code, d.month, d.departures,
           row_number() OVER (PARTITION BY d.geo_level, d.geo_code, d.profession_code
                              ORDER BY d.month) AS k,
           len(list_filter(coalesce(i.months, []), lambda x: x <= d.month)) AS installed_before,
           len(list_filter(coalesce(i.months, []), lambda x: x <= d.month + 12))
               AS installed_within
    FROM (SELECT geo_level, geo_code, profession_code, departure AS month, count(*) AS departures
          FROM events
          WHERE departure IS NOT NULL
          GROUP BY ALL) d
    LEFT JOIN installations i USING (geo_level, geo_code, profession_code)
),
-- step k settles the departures of the k-th month: each in turn takes the next installation
-- after its month not yet taken, while one comes within its window; taken counts the earliest
-- installations taken or passed over so far (passed: before these departures)
matching AS (
    SELECT DISTINCT geo_level, geo_code, profession_code, 0 AS k, CAST(0 AS BIGINT) AS taken,
           CAST(NULL AS BIGINT) AS month, CAST(0 AS BIGINT) AS departures,
           CAST(0 AS BIGINT) AS replaced
    FROM departure_months
    UNION ALL
    SELECT m.geo_level, m.geo_code, m.profession_code, d.k, s.passed + s.replaced, d.month,
           d.departures, s.replaced
    FROM matching m
    JOIN departure_months d ON d.geo_level = m.geo_level AND d.geo_code = m.geo_code
                           AND d.profession_code = m.profession_code AND d.k = m.k + 1
    CROSS JOIN LATERAL (
        SELECT p.passed, least(d.departures, greatest(d.installed_within - p.passed, 0)) AS replaced
        FROM (SELECT greatest(m.taken, d.installed_before) AS passed) p
    ) s
),
departures AS (
    SELECT geo_level, geo_code, profession_code, (month - 1) // 12 AS year, departures, replaced
    FROM matching
    WHERE k > 0
),
counts AS (
    SELECT geo_level, geo_code, year, coalesce(profession_code, 'ensemble') AS category,
           sum(replaced) AS replaced, sum(departures) AS departures
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
