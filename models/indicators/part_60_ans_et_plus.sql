-- Share of the professionals active in the year who are 60 or over that year (year − birth
-- year ≥ 60, or an age band of 60 or over in one of its months), by profession, among those
-- whose birth year or age band the activity files give.
WITH counts AS (
    SELECT geo_level, geo_code, year, category, professionals_aged_60 AS aged_60,
           professionals_of_known_age AS professionals
    FROM yearly_activity  -- models/indicators/shared/yearly_activity.sql
    WHERE professionals_of_known_age > 0
)
SELECT
    'part_60_ans_et_plus' AS indicator_id,
    c.geo_level,
    c.geo_code,
    n.geo_name,
    CAST(c.year AS VARCHAR) AS period,
    CASE WHEN c.category = 'ensemble' THEN 'ensemble' ELSE 'profession' END AS dimension,
    c.category,
    100.0 * c.aged_60 / c.professionals AS value,
    c.aged_60 AS numerator,
    c.professionals AS denominator,
    100.0 * wilson_low(c.aged_60, c.professionals) AS ci_low,
    100.0 * wilson_high(c.aged_60, c.professionals) AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    100.0 * r.aged_60 / r.professionals AS reference_value
FROM counts c
JOIN territory_names() n USING (geo_level, geo_code)
LEFT JOIN territory_parents() p USING (geo_level, geo_code)
LEFT JOIN counts r ON r.geo_level = p.parent_level AND r.geo_code = p.parent_code
                  AND r.year = c.year AND r.category = c.category
