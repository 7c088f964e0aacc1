-- Historique des projets d'un territoire d'un recensement à l'autre
-- Le stade de chaque projet à chaque recensement, le stade précédent et l'évolution
-- (premier recensement, progression, stable, recul).
SELECT projet, type_structure, date_recensement, stade, stade_precedent, evolution,
       present_au_dernier_recensement, communes
FROM marts.v_historique_projets
WHERE territoire = 'Artois-Douaisis'
ORDER BY projet, date_recensement;
