-- Achievement rate of each follow-up criterion that has a positive target: value / target, or
-- target / value for a target « au plus » (achievement_rate in models/macros.sql).
SELECT
    'suivi_taux_realisation' AS indicator_id,
    'programme' AS geo_level,
    normalize_label(programme) AS geo_code,
    programme AS geo_name,
    period,
    'critere' AS dimension,
    criterion AS category,
    achievement_rate(value, target, target_direction) AS value,
    value AS numerator,
    target AS denominator,
    NULL AS ci_low,
    NULL AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    100.0 AS reference_value
FROM staging.followup
WHERE achievement_rate(value, target, target_direction) IS NOT NULL
