-- Structures taking up each module of the nouveaux modes de rémunération at each census date
-- ('module_1' missions coordonnées, 'module_2' éducation thérapeutique, 'module_3' protocole
-- Asalée, seed 002 fiche 5); the 'ensemble' margin counts structures with at least one module,
-- so it is not the sum of the modules. No row for a census that names no module.
WITH taken AS (
    SELECT c.region_code, c.territory, strftime(c.census_date, '%Y-%m') AS period, c.project_id,
           'module_' || unnest(list_filter(regexp_split_to_array(c.nmr_modules, '[^0-9]+'),
                                           lambda x: x <> '')) AS module
    FROM staging.census c
    WHERE c.nmr_modules IS NOT NULL
),
cells AS (
    SELECT t.region_code, any_value(r.region_name) AS region_name, t.territory, t.module,
           t.period, count(DISTINCT t.project_id) AS structures
    FROM taken t
    JOIN ref.regions r USING (region_code)
    GROUP BY GROUPING SETS ((t.region_code, t.period, t.territory, t.module),
                            (t.region_code, t.period, t.territory),
                            (t.region_code, t.period, t.module),
                            (t.region_code, t.period))
)
SELECT
    'projets_modules_nmr' AS indicator_id,
    CASE WHEN territory IS NULL THEN 'region' ELSE 'territoire_sante' END AS geo_level,
    CASE WHEN territory IS NULL THEN region_code ELSE normalize_label(territory) END AS geo_code,
    coalesce(territory, region_name) AS geo_name,
    period,
    CASE WHEN module IS NULL THEN 'ensemble' ELSE 'module' END AS dimension,
    coalesce(module, 'ensemble') AS category,
    structures AS value,
    structures AS numerator,
    NULL AS denominator,
    NULL AS ci_low,
    NULL AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    NULL AS reference_value
FROM cells
