-- Follow-up criteria against their targets, with a status by a documented rule:
-- non renseigné (no value yet), atteint (value ≥ target), en bonne voie (≥ 75 % of the target),
-- en retard (below), sans cible (no positive target given).
SELECT
    programme,
    territory,
    axis,
    action,
    criterion,
    period,
    value,
    target,
    unit,
    CASE WHEN target > 0 THEN 100.0 * value / target END AS achievement_rate,
    CASE WHEN value IS NULL THEN 'non renseigné'
         WHEN target IS NULL OR target <= 0 THEN 'sans cible'
         WHEN value >= target THEN 'atteint'
         WHEN value >= 0.75 * target THEN 'en bonne voie'
         ELSE 'en retard' END AS status,
    value_nature,
    comment
FROM staging.followup
ORDER BY programme, action, criterion, period
