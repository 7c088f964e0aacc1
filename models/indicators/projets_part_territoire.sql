-- Share of the région's projects (all stages, or at one stage) located in each territory.
WITH counts AS (
    SELECT c.region_code, c.territory, c.stage_code,
           strftime(c.census_date, '%Y-%m') AS period, count(*) AS projects
    FROM staging.census c
    GROUP BY GROUPING SETS ((c.region_code, period, c.territory, c.stage_code),
                            (c.region_code, period, c.territory),
                            (c.region_code, period, c.stage_code),
                            (c.region_code, period))
)
SELECT
    'projets_part_territoire' AS indicator_id,
    'territoire_sante' AS geo_level,
    normalize_label(t.territory) AS geo_code,
    t.territory AS geo_name,
    t.period,
    CASE WHEN t.stage_code IS NULL THEN 'ensemble' ELSE 'stade' END AS dimension,
    coalesce(t.stage_code, 'ensemble') AS category,
    100.0 * t.projects / r.projects AS value,
    t.projects AS numerator,
    r.projects AS denominator,
    100.0 * wilson_low(t.projects, r.projects) AS ci_low,
    100.0 * wilson_high(t.projects, r.projects) AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    NULL AS reference_value
FROM counts t
JOIN counts r ON r.region_code = t.region_code AND r.period = t.period AND r.territory IS NULL
             AND r.stage_code IS NOT DISTINCT FROM t.stage_code
WHERE t.territory IS NOT NULL
