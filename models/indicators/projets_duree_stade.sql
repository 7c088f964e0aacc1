-- Median time a project stays at a stage, in months, from the census stage history: from the
-- first census that shows it at the stage, when an earlier census showed it at another one
-- (so the entry is seen), to the first later census that shows it elsewhere. Stays still
-- running or begun before the first census are left out. Interval: order statistics of ranks
-- round(n/2 ∓ 0.98·√n) (+1 for the upper), distribution-free (Conover, Practical
-- nonparametric statistics, 3rd ed., §3.2). The final stage (fonctionnement) has no exit.
WITH history AS (
    SELECT project_id, region_code, territory, census_date, stage_code
    FROM staging.census
),
entries AS (
    SELECT h.project_id, h.region_code, h.territory, h.stage_code,
           min(h.census_date) AS entered
    FROM history h
    WHERE h.stage_code <> 'fonctionnement'
    GROUP BY ALL
),
stays AS (
    SELECT e.*,
           (SELECT min(x.census_date) FROM history x
            WHERE x.project_id = e.project_id AND x.census_date > e.entered
              AND x.stage_code <> e.stage_code) AS left_on
    FROM entries e
    WHERE EXISTS (SELECT 1 FROM history x
                  WHERE x.project_id = e.project_id AND x.census_date < e.entered)
),
durations AS (
    SELECT region_code, territory, stage_code, datediff('month', entered, left_on) AS months
    FROM stays
    WHERE left_on IS NOT NULL
),
latest AS (
    SELECT region_code, strftime(max(census_date), '%Y-%m') AS period
    FROM staging.census GROUP BY region_code
),
medians AS (
    SELECT region_code, territory, stage_code, count(*) AS n,
           quantile_cont(months, 0.5) AS median,
           list_sort(list(months)) AS sorted
    FROM durations
    GROUP BY GROUPING SETS ((region_code, territory, stage_code), (region_code, stage_code))
),
bounded AS (
    SELECT *,
           greatest(1, CAST(round(n / 2 - 0.98 * sqrt(n)) AS INTEGER)) AS low_rank,
           least(n, CAST(round(n / 2 + 1 + 0.98 * sqrt(n)) AS INTEGER)) AS high_rank
    FROM medians
)
SELECT
    'projets_duree_stade' AS indicator_id,
    CASE WHEN b.territory IS NULL THEN 'region' ELSE 'territoire_sante' END AS geo_level,
    CASE WHEN b.territory IS NULL THEN b.region_code ELSE normalize_label(b.territory) END
        AS geo_code,
    coalesce(b.territory, r.region_name) AS geo_name,
    l.period,
    'stade' AS dimension,
    b.stage_code AS category,
    b.median AS value,
    b.n AS numerator,
    NULL AS denominator,
    b.sorted[b.low_rank] AS ci_low,
    b.sorted[b.high_rank] AS ci_high,
    CASE WHEN b.territory IS NOT NULL THEN 'region' END AS reference_geo_level,
    CASE WHEN b.territory IS NOT NULL THEN b.region_code END AS reference_geo_code,
    CASE WHEN b.territory IS NOT NULL THEN whole.median END AS reference_value
FROM bounded b
JOIN ref.regions r USING (region_code)
JOIN latest l USING (region_code)
LEFT JOIN bounded whole ON whole.region_code = b.region_code AND whole.territory IS NULL
                       AND whole.stage_code = b.stage_code
