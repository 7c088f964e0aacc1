-- Densité de médecins généralistes par EPCI, comparée à leur département
-- Dernière année complète d'activité ; la comparaison se lit sur l'intervalle de confiance à
-- 95 %. Une valeur masquée (secret statistique : moins de 11 professionnels) reste vide.
SELECT territoire AS epci,
       periode AS annee,
       round(valeur, 1) AS pour_10000_habitants,
       round(ic_bas, 1) AS ic_bas,
       round(ic_haut, 1) AS ic_haut,
       territoire_reference AS departement,
       round(valeur_reference, 1) AS departement_pour_10000,
       comparaison,
       secret_statistique
FROM marts.v_indicateurs
WHERE indicateur = 'densite_professionnels'
  AND niveau_geo = 'epci'
  AND categorie = 'medecin_generaliste'
  AND periode = (SELECT max(periode) FROM marts.v_indicateurs
                 WHERE indicateur = 'densite_professionnels')
ORDER BY comparaison, pour_10000_habitants;
