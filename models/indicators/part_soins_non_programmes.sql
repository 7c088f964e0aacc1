-- Share of unscheduled care among the acts, by profession and complete year, over the rows
-- whose files give the number of unscheduled care acts. Wilson interval on acts (which treats
-- acts as independent: the interval is too narrow where a few professionals weigh a lot);
-- suppression follows the number of professionals.
WITH shares AS (
    SELECT m.geo_level, m.geo_code, a.year, a.profession_code AS category,
           sum(a.unscheduled_care) AS unscheduled, sum(a.acts) AS acts,
           count(DISTINCT a.professional_hash) AS professionals
    FROM (
        -- one row per professional × commune × year before fanning out to three levels
        SELECT year(a.period_month) AS year, a.professional_hash, a.profession_code,
               a.commune_code, sum(a.unscheduled_care) AS unscheduled_care, sum(a.acts) AS acts
        FROM staging.activity a
        WHERE year(a.period_month) IN (SELECT year FROM complete_years())
          AND a.unscheduled_care IS NOT NULL
        GROUP BY ALL
    ) a
    JOIN territory_membership() m USING (commune_code)
    JOIN covered_territories t USING (geo_level, geo_code)
    GROUP BY ALL
    HAVING sum(a.acts) > 0
)
SELECT
    'part_soins_non_programmes' AS indicator_id,
    s.geo_level,
    s.geo_code,
    n.geo_name,
    CAST(s.year AS VARCHAR) AS period,
    'profession' AS dimension,
    s.category,
    100.0 * s.unscheduled / s.acts AS value,
    s.unscheduled AS numerator,
    s.acts AS denominator,
    100.0 * wilson_low(s.unscheduled, s.acts) AS ci_low,
    100.0 * wilson_high(s.unscheduled, s.acts) AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    100.0 * r.unscheduled / r.acts AS reference_value,
    s.professionals AS suppression_count
FROM shares s
JOIN territory_names() n USING (geo_level, geo_code)
LEFT JOIN territory_parents() p USING (geo_level, geo_code)
LEFT JOIN shares r ON r.geo_level = p.parent_level AND r.geo_code = p.parent_code
                  AND r.year = s.year AND r.category = s.category
