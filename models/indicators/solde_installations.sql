-- Installations minus departures per complete year and profession. The difference of two
-- Poisson counts gets a normal interval (variance installations + departures). It is hidden
-- whenever either count is under the threshold, since the published other count would give
-- it back: suppression_count is the smaller non-zero of the two.
SELECT
    'solde_installations' AS indicator_id,
    geo_level,
    geo_code,
    geo_name,
    CAST(year AS VARCHAR) AS period,
    CASE WHEN category = 'ensemble' THEN 'ensemble' ELSE 'profession' END AS dimension,
    category,
    installations - departures AS value,
    installations - departures AS numerator,
    NULL AS denominator,
    installations - departures - 1.959963984540054 * sqrt(installations + departures) AS ci_low,
    installations - departures + 1.959963984540054 * sqrt(installations + departures) AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    NULL AS reference_value,
    CASE WHEN least(installations, departures) > 0 THEN least(installations, departures)
         ELSE greatest(installations, departures) END AS suppression_count
FROM yearly_movements  -- models/indicators/shared/yearly_movements.sql
