-- Projets de maisons et pôles de santé par territoire et par stade, au dernier recensement
-- Une ligne par territoire de santé et stade, avec le total du territoire (catégorie
-- « Ensemble ») ; les libellés viennent du catalogue.
SELECT territoire, periode, libelle_categorie AS stade, valeur AS projets
FROM marts.v_indicateurs
WHERE indicateur = 'projets_nombre'
  AND niveau_geo = 'territoire_sante'
  AND periode = (SELECT max(periode) FROM marts.v_indicateurs
                 WHERE indicateur = 'projets_nombre')   -- le dernier recensement
ORDER BY territoire, ordre_categorie;
