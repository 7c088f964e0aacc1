-- Professionals who left the territory during each complete year of the activity panel, by
-- profession: their last month in the territory falls in that year. Counts, with exact
-- Poisson (Byar from 10) intervals; not compared with a reference (territories differ in size).
SELECT
    'departs' AS indicator_id,
    geo_level,
    geo_code,
    geo_name,
    CAST(year AS VARCHAR) AS period,
    CASE WHEN category = 'ensemble' THEN 'ensemble' ELSE 'profession' END AS dimension,
    category,
    departures AS value,
    departures AS numerator,
    NULL AS denominator,
    poisson_low(departures) AS ci_low,
    poisson_high(departures) AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    NULL AS reference_value
FROM yearly_movements  -- models/indicators/shared/yearly_movements.sql
