-- Professionals per 10,000 inhabitants by profession, per complete year, for every EPCI,
-- département and région whose communes are all covered by the activity files (a territory
-- half covered would show a false desert). A territory with no professional gets a 0 row.
WITH grid AS (
    SELECT t.geo_level, t.geo_code, t.population, y.year, p.category
    FROM covered_territories t
    CROSS JOIN complete_years y
    CROSS JOIN (SELECT DISTINCT profession_code AS category FROM staging.activity
                UNION ALL SELECT 'ensemble') p
),
rates AS (
    SELECT g.*, coalesce(c.professionals, 0) AS professionals,
           1e4 * coalesce(c.professionals, 0) / g.population AS rate
    FROM grid g
    LEFT JOIN yearly_activity c  -- models/indicators/shared/yearly_activity.sql
           USING (geo_level, geo_code, year, category)
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
JOIN territory_names() n USING (geo_level, geo_code)
LEFT JOIN territory_parents() p USING (geo_level, geo_code)
LEFT JOIN rates parent_rate ON parent_rate.geo_level = p.parent_level
                           AND parent_rate.geo_code = p.parent_code
                           AND parent_rate.year = r.year AND parent_rate.category = r.category
