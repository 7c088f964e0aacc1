-- Criteria of each programme and period by status, with the rule of marts.followup_criteria
-- (followup_status in models/macros.sql).
WITH statuses AS (
    SELECT programme, period,
           normalize_label(followup_status(value, target, target_direction, milestone)) AS status
    FROM staging.followup
),
cells AS (
    SELECT programme, period, status, count(*) AS criteria
    FROM statuses
    GROUP BY GROUPING SETS ((programme, period, status), (programme, period))
)
SELECT
    'suivi_statut' AS indicator_id,
    'programme' AS geo_level,
    normalize_label(programme) AS geo_code,
    programme AS geo_name,
    period,
    CASE WHEN status IS NULL THEN 'ensemble' ELSE 'statut' END AS dimension,
    coalesce(status, 'ensemble') AS category,
    criteria AS value,
    criteria AS numerator,
    NULL AS denominator,
    NULL AS ci_low,
    NULL AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    NULL AS reference_value
FROM cells
