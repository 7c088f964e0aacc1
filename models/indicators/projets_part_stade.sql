-- Share of a territory's projects at each stage; the région's share is the reference.
WITH counts AS (
    SELECT c.region_code, r.region_name, c.territory, c.stage_code,
           strftime(c.census_date, '%Y-%m') AS period, count(*) AS projects
    FROM staging.census c
    JOIN ref.regions r USING (region_code)
    GROUP BY GROUPING SETS ((c.region_code, r.region_name, period, c.territory, c.stage_code),
                            (c.region_code, r.region_name, period, c.territory),
                            (c.region_code, r.region_name, period, c.stage_code),
                            (c.region_code, r.region_name, period))
),
shares AS (
    SELECT s.*, t.projects AS total
    FROM counts s
    JOIN counts t ON t.region_code = s.region_code AND t.period = s.period
                 AND t.territory IS NOT DISTINCT FROM s.territory AND t.stage_code IS NULL
    WHERE s.stage_code IS NOT NULL
)
SELECT
    'projets_part_stade' AS indicator_id,
    CASE WHEN s.territory IS NULL THEN 'region' ELSE 'territoire_sante' END AS geo_level,
    CASE WHEN s.territory IS NULL THEN s.region_code ELSE normalize_label(s.territory) END AS geo_code,
    coalesce(s.territory, s.region_name) AS geo_name,
    s.period,
    'stade' AS dimension,
    s.stage_code AS category,
    100.0 * s.projects / s.total AS value,
    s.projects AS numerator,
    s.total AS denominator,
    100.0 * wilson_low(s.projects, s.total) AS ci_low,
    100.0 * wilson_high(s.projects, s.total) AS ci_high,
    CASE WHEN s.territory IS NOT NULL THEN 'region' END AS reference_geo_level,
    CASE WHEN s.territory IS NOT NULL THEN s.region_code END AS reference_geo_code,
    CASE WHEN s.territory IS NOT NULL THEN 100.0 * r.projects / r.total END AS reference_value
FROM shares s
LEFT JOIN shares r ON r.region_code = s.region_code AND r.period = s.period
                  AND r.territory IS NULL AND r.stage_code = s.stage_code
