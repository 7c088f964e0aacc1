-- Share of the population living in a commune covered by a maison or pôle de santé in
-- operation (stage fonctionnement, type MSP or PSP), at each census date, for the EPCI,
-- départements and régions whose départements all have at least one project in that census
-- (elsewhere the census says nothing). Populations are exhaustive, not sampled: the interval
-- is the value itself.
WITH covered AS (
    SELECT DISTINCT c.census_date, l.commune_code
    FROM staging.census c
    JOIN staging.census_communes l USING (project_id, census_date)
    WHERE c.stage_code = 'fonctionnement' AND c.structure_type IN ('MSP', 'PSP')
      AND l.commune_code IS NOT NULL
),
-- a project may serve a commune across its région's border: that commune's département is
-- described by its own région's census, not by one project of the neighbour's
census_departments AS (
    SELECT DISTINCT l.census_date, m.department_code
    FROM staging.census c
    JOIN staging.census_communes l USING (project_id, census_date)
    JOIN ref.communes m ON m.commune_code = l.commune_code AND m.region_code = c.region_code
),
shares AS (
    SELECT d.census_date, m.geo_level, m.geo_code,
           sum(c.population) FILTER (WHERE v.commune_code IS NOT NULL) AS covered_population,
           sum(c.population) AS population
    FROM (SELECT DISTINCT census_date FROM census_departments) d
    CROSS JOIN territory_membership() m
    JOIN ref.communes c USING (commune_code)
    LEFT JOIN covered v ON v.census_date = d.census_date AND v.commune_code = m.commune_code
    -- one row at most per commune (census_departments is distinct): a join, where a subquery
    -- per territory and date took most of the indicator's time
    LEFT JOIN census_departments x ON x.census_date = d.census_date
                                  AND x.department_code = c.department_code
    GROUP BY ALL
    HAVING bool_and(x.department_code IS NOT NULL) AND sum(c.population) > 0
)
SELECT
    'population_couverte_msp' AS indicator_id,
    s.geo_level,
    s.geo_code,
    n.geo_name,
    strftime(s.census_date, '%Y-%m') AS period,
    'ensemble' AS dimension,
    'ensemble' AS category,
    100.0 * coalesce(s.covered_population, 0) / s.population AS value,
    coalesce(s.covered_population, 0) AS numerator,
    s.population AS denominator,
    100.0 * coalesce(s.covered_population, 0) / s.population AS ci_low,
    100.0 * coalesce(s.covered_population, 0) / s.population AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    100.0 * coalesce(w.covered_population, 0) / w.population AS reference_value
FROM shares s
JOIN territory_names() n USING (geo_level, geo_code)
LEFT JOIN territory_parents() p USING (geo_level, geo_code)
LEFT JOIN shares w ON w.census_date = s.census_date AND w.geo_level = p.parent_level
                  AND w.geo_code = p.parent_code
