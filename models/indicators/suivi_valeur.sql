-- Each follow-up criterion's declared value per period, with its target as denominator (a period
-- whose value is not known yet has none).
SELECT
    'suivi_valeur' AS indicator_id,
    'programme' AS geo_level,
    normalize_label(programme) AS geo_code,
    programme AS geo_name,
    period,
    'critere' AS dimension,
    criterion AS category,
    value,
    value AS numerator,
    target AS denominator,
    NULL AS ci_low,
    NULL AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    target AS reference_value
FROM staging.followup
WHERE value IS NOT NULL
