-- Projects by stage at the previous census of their région and stage at this one
-- ('reflexion>conception'), plus projects new since then ('nouveau') and projects gone since
-- ('sorti'); the 'ensemble' margin counts them all. No row for a région's first census.
WITH dates AS (
    SELECT region_code, census_date,
           lag(census_date) OVER (PARTITION BY region_code ORDER BY census_date) AS previous_date
    FROM (SELECT DISTINCT region_code, census_date FROM staging.census)
),
previous AS (
    SELECT d.region_code, d.census_date, c.project_id, c.territory, c.stage_code
    FROM dates d
    JOIN staging.census c ON c.region_code = d.region_code AND c.census_date = d.previous_date
),
current AS (
    SELECT d.region_code, d.census_date, c.project_id, c.territory, c.stage_code
    FROM dates d
    JOIN staging.census c ON c.region_code = d.region_code AND c.census_date = d.census_date
    WHERE d.previous_date IS NOT NULL
),
pairs AS (
    SELECT coalesce(c.region_code, p.region_code) AS region_code,
           coalesce(c.census_date, p.census_date) AS census_date,
           coalesce(c.territory, p.territory) AS territory,
           CASE WHEN p.project_id IS NULL THEN 'nouveau'
                WHEN c.project_id IS NULL THEN 'sorti'
                ELSE p.stage_code || '>' || c.stage_code END AS transition
    FROM current c
    FULL JOIN previous p ON p.region_code = c.region_code AND p.census_date = c.census_date
                        AND p.project_id = c.project_id
),
cells AS (
    SELECT p.region_code, any_value(r.region_name) AS region_name, p.territory, p.transition,
           strftime(p.census_date, '%Y-%m') AS period, count(*) AS projects
    FROM pairs p
    JOIN ref.regions r USING (region_code)
    GROUP BY GROUPING SETS ((p.region_code, period, p.territory, p.transition),
                            (p.region_code, period, p.territory),
                            (p.region_code, period, p.transition),
                            (p.region_code, period))
)
SELECT
    'projets_transitions' AS indicator_id,
    CASE WHEN territory IS NULL THEN 'region' ELSE 'territoire_sante' END AS geo_level,
    CASE WHEN territory IS NULL THEN region_code ELSE normalize_label(territory) END AS geo_code,
    coalesce(territory, region_name) AS geo_name,
    period,
    CASE WHEN transition IS NULL THEN 'ensemble' ELSE 'transition' END AS dimension,
    coalesce(transition, 'ensemble') AS category,
    projects AS value,
    projects AS numerator,
    NULL AS denominator,
    NULL AS ci_low,
    NULL AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    NULL AS reference_value
FROM cells
