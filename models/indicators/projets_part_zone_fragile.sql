-- Share of the projects in a fragile zone (zone_fragile), at each census date, among the projects for which the
-- census gives the column; no row where the census leaves it empty for every project.
WITH counts AS (
    SELECT c.region_code, c.territory, strftime(c.census_date, '%Y-%m') AS period,
           count(*) FILTER (WHERE c.fragile_zone) AS flagged, count(c.fragile_zone) AS given
    FROM staging.census c
    GROUP BY GROUPING SETS ((c.region_code, period, c.territory), (c.region_code, period))
)
SELECT
    'projets_part_zone_fragile' AS indicator_id,
    CASE WHEN s.territory IS NULL THEN 'region' ELSE 'territoire_sante' END AS geo_level,
    CASE WHEN s.territory IS NULL THEN s.region_code ELSE normalize_label(s.territory) END AS geo_code,
    coalesce(s.territory, r.region_name) AS geo_name,
    s.period,
    'ensemble' AS dimension,
    'ensemble' AS category,
    100.0 * s.flagged / s.given AS value,
    s.flagged AS numerator,
    s.given AS denominator,
    100.0 * wilson_low(s.flagged, s.given) AS ci_low,
    100.0 * wilson_high(s.flagged, s.given) AS ci_high,
    CASE WHEN s.territory IS NOT NULL THEN 'region' END AS reference_geo_level,
    CASE WHEN s.territory IS NOT NULL THEN s.region_code END AS reference_geo_code,
    CASE WHEN s.territory IS NOT NULL AND w.given > 0 THEN 100.0 * w.flagged / w.given END
        AS reference_value
FROM counts s
JOIN ref.regions r USING (region_code)
LEFT JOIN counts w ON w.region_code = s.region_code AND w.period = s.period AND w.territory IS NULL
WHERE s.given > 0
