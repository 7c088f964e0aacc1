-- French labels and display order of every category code used in marts.indicator_values.
SELECT 'stade' AS dimension, stage_code AS category, label, sort_order FROM ref.stages
UNION ALL
SELECT 'profession', profession_code, label, sort_order FROM ref.professions
UNION ALL
-- a project's stage at the previous census → at this one, in stage order
SELECT 'transition', a.stage_code || '>' || b.stage_code,
       upper(left(a.short, 1)) || substr(a.short, 2) || ' → ' || b.short,
       10 * a.sort_order + b.sort_order
FROM (SELECT *, regexp_replace(lower(label), '^en (cours d'')?', '') AS short FROM ref.stages) a
CROSS JOIN (SELECT *, regexp_replace(lower(label), '^en (cours d'')?', '') AS short
            FROM ref.stages) b
UNION ALL
SELECT * FROM (VALUES
    ('transition', 'nouveau', 'Nouveau projet', 100),
    ('transition', 'sorti', 'Projet sorti du recensement', 101),
    ('module', 'module_1', 'Module 1 : missions coordonnées', 1),
    ('module', 'module_2', 'Module 2 : éducation thérapeutique', 2),
    ('module', 'module_3', 'Module 3 : protocole de coopération Asalée', 3),
    ('statut', 'atteint', 'Atteint', 1),
    ('statut', 'en_bonne_voie', 'En bonne voie', 2),
    ('statut', 'en_retard', 'En retard', 3),
    ('statut', 'sans_cible', 'Sans cible', 4),
    ('statut', 'non_renseigne', 'Non renseigné', 5),
    ('statut', 'realise', 'Réalisé', 6),
    ('statut', 'en_cours', 'En cours', 7),
    ('statut', 'non_realise', 'Non réalisé', 8),
    ('statut', 'abandonne', 'Abandonné', 9)
) AS t(dimension, category, label, sort_order)
UNION ALL
SELECT dimension, 'ensemble', 'Ensemble', 0
FROM (VALUES ('stade'), ('profession'), ('critere'), ('ensemble'), ('transition'), ('module'),
             ('statut')) AS d(dimension)
