-- Achievement rate (value / target) of each follow-up criterion that has a positive target.
SELECT
    'suivi_taux_realisation' AS indicator_id,
    'programme' AS geo_level,
    normalize_label(programme) AS geo_code,
    programme AS geo_name,
    period,
    'critere' AS dimension,
    criterion AS category,
    100.0 * value / target AS value,
    value AS numerator,
    target AS denominator,
    NULL AS ci_low,
    NULL AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    100.0 AS reference_value
FROM staging.followup
WHERE target > 0 AND value IS NOT NULL
