-- Criteria of each programme and period by status, with the rule of marts.followup_criteria:
-- non renseigné (no value yet), atteint (value ≥ target), en bonne voie (value ≥ 75 % of the
-- target), en retard (below), sans cible (no positive target).
WITH statuses AS (
    SELECT programme, period,
           CASE WHEN value IS NULL THEN 'non_renseigne'
                WHEN target IS NULL OR target <= 0 THEN 'sans_cible'
                WHEN value >= target THEN 'atteint'
                WHEN value >= 0.75 * target THEN 'en_bonne_voie'
                ELSE 'en_retard' END AS status
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
