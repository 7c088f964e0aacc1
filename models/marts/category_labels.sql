-- French labels and display order of every category code used in marts.indicator_values.
SELECT 'stade' AS dimension, stage_code AS category, label, sort_order FROM ref.stages
UNION ALL
SELECT 'profession', profession_code, label, sort_order FROM ref.professions
UNION ALL
SELECT dimension, 'ensemble', 'Ensemble', 0
FROM (VALUES ('stade'), ('profession'), ('critere'), ('ensemble')) AS d(dimension)
