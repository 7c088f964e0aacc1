-- Professionals who settled in the territory during each complete year of the activity panel,
-- by profession: their first month in the territory falls in that year. Counts, with exact
-- Poisson (Byar from 10) intervals; not compared with a reference (territories differ in size).
SELECT
    'installations' AS indicator_id,
    geo_level,
    geo_code,
    geo_name,
    CAST(year AS VARCHAR) AS period,
    CASE WHEN category = 'ensemble' THEN 'ensemble' ELSE 'profession' END AS dimension,
    category,
    installations AS value,
    installations AS numerator,
    NULL AS denominator,
    poisson_low(installations) AS ci_low,
    poisson_high(installations) AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    NULL AS reference_value
FROM yearly_movements  -- models/indicators/shared/yearly_movements.sql
