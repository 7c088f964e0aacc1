-- Every INSEE code a file may carry → the current commune it stands for today: current codes,
-- codes of communes déléguées/associées and municipal arrondissements, and former codes of
-- merged communes (anciensCodes). A current code always wins over the same code seen as a
-- commune déléguée (the chef-lieu of a commune nouvelle keeps its code).
SELECT code, current_code, via
FROM (
    SELECT code, current_code, via,
           row_number() OVER (PARTITION BY code ORDER BY priority) AS rank
    FROM (
        SELECT commune_code AS code, commune_code AS current_code, 'actuelle' AS via, 1 AS priority
        FROM ref.communes
        UNION ALL
        SELECT commune_code, parent_commune_code, commune_type, 2
        FROM ref.attached_communes
        WHERE parent_commune_code IS NOT NULL
        UNION ALL
        SELECT former_code, current_code, 'ancien_code', 3
        FROM ref.former_communes
    )
)
WHERE rank = 1
