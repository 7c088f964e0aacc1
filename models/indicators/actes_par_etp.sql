-- Acts per FTE per month by profession and complete year: the year's acts over its FTE-months.
-- The interval is the acts' Poisson interval over the FTE-months; suppression follows the
-- number of professionals. No all-professions row: acts of different professions do not add up.
WITH ratios AS (
    SELECT geo_level, geo_code, year, category, acts, fte AS fte_months, professionals
    FROM yearly_activity  -- models/indicators/shared/yearly_activity.sql
    WHERE category <> 'ensemble' AND fte > 0
)
SELECT
    'actes_par_etp' AS indicator_id,
    r.geo_level,
    r.geo_code,
    n.geo_name,
    CAST(r.year AS VARCHAR) AS period,
    'profession' AS dimension,
    r.category,
    r.acts / r.fte_months AS value,
    r.acts AS numerator,
    r.fte_months AS denominator,
    poisson_low(r.acts) / r.fte_months AS ci_low,
    poisson_high(r.acts) / r.fte_months AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    parent.acts / parent.fte_months AS reference_value,
    r.professionals AS suppression_count
FROM ratios r
JOIN territory_names() n USING (geo_level, geo_code)
LEFT JOIN territory_parents() p USING (geo_level, geo_code)
LEFT JOIN ratios parent ON parent.geo_level = p.parent_level AND parent.geo_code = p.parent_code
                    AND parent.year = r.year AND parent.category = r.category
