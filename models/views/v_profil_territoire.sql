-- A territory's profile: for each indicator × category, the latest period published for it
-- (in time: a programme's year 2024 after its quarter 2024-T1).
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
QUALIFY periode = arg_max(periode, period_order(periode)) OVER (
    PARTITION BY niveau_geo, code_geo, indicateur, dimension, categorie
)
