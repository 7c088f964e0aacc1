-- Projects by territory × stage at each census date, with the margins (all stages, the région).
WITH projects AS (
    SELECT c.region_code, r.region_name, c.territory, c.stage_code,
           strftime(c.census_date, '%Y-%m') AS period
    FROM staging.census c
    JOIN ref.regions r USING (region_code)
),
cells AS (
    SELECT region_code, any_value(region_name) AS region_name, territory, stage_code, period,
           count(*) AS projects
    FROM projects
    GROUP BY GROUPING SETS ((region_code, period, territory, stage_code),
                            (region_code, period, territory),
                            (region_code, period, stage_code),
                            (region_code, period))
)
SELECT
    'projets_nombre' AS indicator_id,
    CASE WHEN territory IS NULL THEN 'region' ELSE 'territoire_sante' END AS geo_level,
    CASE WHEN territory IS NULL THEN region_code ELSE normalize_label(territory) END AS geo_code,
    coalesce(territory, region_name) AS geo_name,
    period,
    CASE WHEN stage_code IS NULL THEN 'ensemble' ELSE 'stade' END AS dimension,
    coalesce(stage_code, 'ensemble') AS category,
    projects AS value,
    projects AS numerator,
    NULL AS denominator,
    NULL AS ci_low,
    NULL AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    NULL AS reference_value
FROM cells
