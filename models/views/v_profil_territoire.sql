-- A territory's profile: for each indicator × category, the latest period published for it.
SELECT
    niveau_geo,
    code_geo,
    territoire,
    indicateur,
    libelle_indicateur,
    dimension,
    categorie,
    libelle_categorie,
    periode,
    valeur,
    ic_bas,
    ic_haut,
    unite,
    territoire_reference,
    valeur_reference,
    comparaison,
    secret_statistique
FROM marts.v_indicateurs
QUALIFY periode = max(periode) OVER (
    PARTITION BY niveau_geo, code_geo, indicateur, dimension, categorie
)
