-- Follow-up criteria against their targets, with a status by the documented rule of
-- followup_status (models/macros.sql): non renseigné (no value yet), atteint, en bonne voie
-- (within 75 % of the target), en retard, sans cible (no positive target given); a target
-- « au plus » is reached from below. A step the roadmap follows has its state instead
-- (réalisé, en cours, non réalisé, abandonné).
SELECT
    programme,
    territory,
    axis,
    action,
    criterion,
    period,
    value,
    target,
    target_direction,
    milestone,
    target_milestone,
    unit,
    achievement_rate(value, target, target_direction) AS achievement_rate,
    followup_status(value, target, target_direction, milestone) AS status,
    value_nature,
    comment
FROM staging.followup
ORDER BY programme, action, criterion, period_order(period), period
