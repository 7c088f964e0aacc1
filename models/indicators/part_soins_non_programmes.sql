-- Share of unscheduled care among the acts, by profession and complete year, over the rows
-- whose files give the number of unscheduled care acts. Wilson interval on acts (which treats
-- acts as independent: the interval is too narrow where a few professionals weigh a lot);
-- suppression follows the number of professionals.
WITH activity_years AS (
    SELECT year(period_month) AS year
    FROM staging.activity
    GROUP BY 1
    HAVING count(DISTINCT month(period_month)) = 12
),
covered_departments AS (
    SELECT DISTINCT c.department_code
    FROM staging.activity a
    JOIN ref.communes c USING (commune_code)
),
membership AS (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, commune_code FROM ref.communes
    WHERE epci_code IS NOT NULL
    UNION ALL
    SELECT 'departement', department_code, commune_code FROM ref.communes
    UNION ALL
    SELECT 'region', region_code, commune_code FROM ref.communes
),
territories AS (
    SELECT m.geo_level, m.geo_code
    FROM membership m
    JOIN ref.communes c USING (commune_code)
    GROUP BY ALL
    HAVING bool_and(c.department_code IN (SELECT department_code FROM covered_departments))
),
names AS (
    SELECT 'epci' AS geo_level, epci_code AS geo_code, epci_name AS geo_name FROM ref.epci
    UNION ALL SELECT 'departement', department_code, department_name FROM ref.departements
    UNION ALL SELECT 'region', region_code, region_name FROM ref.regions
),
parents AS (
    -- an EPCI is compared with the département holding most of its population
    SELECT 'epci' AS geo_level, epci_code AS geo_code, 'departement' AS parent_level,
           arg_max(department_code, population) AS parent_code
    FROM ref.communes WHERE epci_code IS NOT NULL GROUP BY epci_code
    UNION ALL
    SELECT 'departement', department_code, 'region', region_code FROM ref.departements
),
shares AS (
    SELECT m.geo_level, m.geo_code, a.year, a.profession_code AS category,
           sum(a.unscheduled_care) AS unscheduled, sum(a.acts) AS acts,
           count(DISTINCT a.professional_hash) AS professionals
    FROM (
        -- one row per professional × commune × year before fanning out to three levels
        SELECT year(a.period_month) AS year, a.professional_hash, a.profession_code,
               a.commune_code, sum(a.unscheduled_care) AS unscheduled_care, sum(a.acts) AS acts
        FROM staging.activity a
        WHERE year(a.period_month) IN (SELECT year FROM activity_years)
          AND a.unscheduled_care IS NOT NULL
        GROUP BY ALL
    ) a
    JOIN membership m USING (commune_code)
    JOIN territories t USING (geo_level, geo_code)
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
JOIN names n USING (geo_level, geo_code)
LEFT JOIN parents p USING (geo_level, geo_code)
LEFT JOIN shares r ON r.geo_level = p.parent_level AND r.geo_code = p.parent_code
                  AND r.year = s.year AND r.category = s.category
