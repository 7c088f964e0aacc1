-- Every published indicator value by territory and period, with its French labels, its unit,
-- its reference territory and value, and the comparison flag.
WITH territory_names AS (
    SELECT geo_level, geo_code, any_value(geo_name) AS geo_name
    FROM marts.indicator_values
    GROUP BY geo_level, geo_code
)
SELECT
    v.indicator_id AS indicateur,
    c.label AS libelle_indicateur,
    v.unit AS unite,
    v.geo_level AS niveau_geo,
    v.geo_code AS code_geo,
    v.geo_name AS territoire,
    v.period AS periode,
    v.dimension,
    v.category AS categorie,
    coalesce(l.label, v.category) AS libelle_categorie,
    l.sort_order AS ordre_categorie,
    v.value AS valeur,
    v.ci_low AS ic_bas,
    v.ci_high AS ic_haut,
    v.numerator AS numerateur,
    v.denominator AS denominateur,
    v.reference_geo_level AS niveau_reference,
    v.reference_geo_code AS code_reference,
    r.geo_name AS territoire_reference,
    v.reference_value AS valeur_reference,
    v.comparison_flag AS comparaison,
    v.suppressed AS secret_statistique
FROM marts.indicator_values AS v
LEFT JOIN marts.indicator_catalogue AS c USING (indicator_id)
LEFT JOIN marts.category_labels AS l ON l.dimension = v.dimension AND l.category = v.category
LEFT JOIN territory_names AS r
    ON r.geo_level = v.reference_geo_level AND r.geo_code = v.reference_geo_code
