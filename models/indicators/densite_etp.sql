-- FTE per 10,000 inhabitants by profession, per complete year (the year's FTE-months / 12),
-- on the territories densite_professionnels covers. FTE is not a count: its interval is the
-- headcount's Byar interval scaled by the mean FTE per professional, and suppression follows
-- the headcount (suppression_count).
WITH counts AS (
    SELECT geo_level, geo_code, year, category, fte / 12 AS fte, professionals
    FROM yearly_activity  -- models/indicators/shared/yearly_activity.sql
),
grid AS (
    SELECT t.geo_level, t.geo_code, t.population, y.year, p.category
    FROM covered_territories t
    CROSS JOIN complete_years y
    CROSS JOIN (SELECT DISTINCT profession_code AS category FROM staging.activity
                UNION ALL SELECT 'ensemble') p
),
rates AS (
    SELECT g.*, coalesce(c.fte, 0) AS fte, coalesce(c.professionals, 0) AS professionals,
           1e4 * coalesce(c.fte, 0) / g.population AS rate,
           -- no professional: the interval of a zero count, at one FTE each
           coalesce(c.fte / nullif(c.professionals, 0), 1) AS fte_per_professional
    FROM grid g
    LEFT JOIN counts c USING (geo_level, geo_code, year, category)
)
SELECT
    'densite_etp' AS indicator_id,
    r.geo_level,
    r.geo_code,
    n.geo_name,
    CAST(r.year AS VARCHAR) AS period,
    CASE WHEN r.category = 'ensemble' THEN 'ensemble' ELSE 'profession' END AS dimension,
    r.category,
    r.rate AS value,
    r.fte AS numerator,
    r.population AS denominator,
    rate_low(r.professionals, r.population, 1e4) * r.fte_per_professional AS ci_low,
    rate_high(r.professionals, r.population, 1e4) * r.fte_per_professional AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    parent_rate.rate AS reference_value,
    r.professionals AS suppression_count
FROM rates r
JOIN territory_names() n USING (geo_level, geo_code)
LEFT JOIN territory_parents() p USING (geo_level, geo_code)
LEFT JOIN rates parent_rate ON parent_rate.geo_level = p.parent_level
                           AND parent_rate.geo_code = p.parent_code
                           AND parent_rate.year = r.year AND parent_rate.category = r.category
