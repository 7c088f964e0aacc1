-- Acts per FTE per month by profession and complete year: the year's acts over its FTE-months.
-- The interval is the acts' Poisson interval over the FTE-months; suppression follows the
-- number of professionals. No all-professions row: acts of different professions do not add up.
WITH ratios AS (
    SELECT m.geo_level, m.geo_code, a.year, a.profession_code AS category,
           sum(a.acts) AS acts, sum(a.fte) AS fte_months,
           count(DISTINCT a.professional_hash) AS professionals
    FROM (
        -- one row per professional × commune × year before fanning out to three levels
        SELECT year(a.period_month) AS year, a.professional_hash, a.profession_code,
               a.commune_code, sum(a.acts) AS acts, sum(a.fte) AS fte
        FROM staging.activity a
        WHERE year(a.period_month) IN (SELECT year FROM complete_years())
        GROUP BY ALL
    ) a
    JOIN territory_membership() m USING (commune_code)
    JOIN covered_territories t USING (geo_level, geo_code)
    GROUP BY ALL
    HAVING sum(a.fte) > 0
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
