-- Profil d'un territoire : la CA du Grand Angoulême
-- La dernière valeur publiée de chaque indicateur et catégorie pour un territoire, avec sa
-- référence (ici le département) et la comparaison. Changez code_geo pour un autre EPCI (SIREN,
-- voir ref.epci), un département ou une région (code INSEE).
SELECT libelle_indicateur AS indicateur, libelle_categorie AS categorie, periode,
       round(valeur, 1) AS valeur, unite,
       territoire_reference AS reference, round(valeur_reference, 1) AS valeur_reference,
       comparaison, secret_statistique
FROM marts.v_profil_territoire
WHERE niveau_geo = 'epci'
  AND code_geo = '200071827'          -- CA du Grand Angoulême (SIREN)
ORDER BY indicateur, categorie;
