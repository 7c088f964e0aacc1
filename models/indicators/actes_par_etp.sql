-- Acts per FTE per month by profession and complete year: the year's acts over its FTE-months.
-- The interval is the acts' Poisson interval over the FTE-months; suppression follows the
-- number of professionals. No all-professions row: acts of different professions do not add up.
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
ratios AS (
    SELECT m.geo_level, m.geo_code, a.year, a.profession_code AS category,
           sum(a.acts) AS acts, sum(a.fte) AS fte_months,
           count(DISTINCT a.professional_hash) AS professionals
    FROM (
        -- one row per professional × commune × year before fanning out to three levels
        SELECT year(a.period_month) AS year, a.professional_hash, a.profession_code,
               a.commune_code, sum(a.acts) AS acts, sum(a.fte) AS fte
        FROM staging.activity a
        WHERE year(a.period_month) IN (SELECT year FROM activity_years)
        GROUP BY ALL
    ) a
    JOIN membership m USING (commune_code)
    JOIN territories t USING (geo_level, geo_code)
    GROUP BY ALL
    HAVING sum(a.fte) > 0
)
SELECT
    'actes_par_etp' AS indicator_id,
    r.geo_level,
    r.geo_code,
    n.geo_name,
    CAST(r.year AS VARCHAR) AS period,
    'profession' AS dimension,
    r.category,
    r.acts / r.fte_months AS value,
    r.acts AS numerator,
    r.fte_months AS denominator,
    poisson_low(r.acts) / r.fte_months AS ci_low,
    poisson_high(r.acts) / r.fte_months AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    parent.acts / parent.fte_months AS reference_value,
    r.professionals AS suppression_count
FROM ratios r
JOIN names n USING (geo_level, geo_code)
LEFT JOIN parents p USING (geo_level, geo_code)
LEFT JOIN ratios parent ON parent.geo_level = p.parent_level AND parent.geo_code = p.parent_code
                    AND parent.year = r.year AND parent.category = r.category
