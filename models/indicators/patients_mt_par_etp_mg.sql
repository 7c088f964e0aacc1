-- Patients who declared a GP as médecin traitant, per GP FTE, per complete year: the mean
-- monthly number of such patients over the mean monthly FTE of the GPs whose files give it.
-- The interval is the Poisson interval of the mean monthly patients over the mean monthly FTE;
-- suppression follows the number of GPs.
WITH ratios AS (
    SELECT m.geo_level, m.geo_code, a.year, a.profession_code AS category,
           sum(a.patients_referring) / 12 AS patients, sum(a.fte) / 12 AS fte,
           count(DISTINCT a.professional_hash) AS professionals
    FROM (
        -- one row per professional × commune × year before fanning out to three levels
        SELECT year(a.period_month) AS year, a.professional_hash, a.profession_code,
               a.commune_code, sum(a.patients_referring) AS patients_referring, sum(a.fte) AS fte
        FROM staging.activity a
        WHERE year(a.period_month) IN (SELECT year FROM complete_years())
          AND a.profession_code = 'medecin_generaliste'
          AND a.patients_referring IS NOT NULL
        GROUP BY ALL
    ) a
    JOIN territory_membership() m USING (commune_code)
    JOIN covered_territories t USING (geo_level, geo_code)
    GROUP BY ALL
    HAVING sum(a.fte) > 0
)
SELECT
    'patients_mt_par_etp_mg' AS indicator_id,
    r.geo_level,
    r.geo_code,
    n.geo_name,
    CAST(r.year AS VARCHAR) AS period,
    'profession' AS dimension,
    r.category,
    r.patients / r.fte AS value,
    r.patients AS numerator,
    r.fte AS denominator,
    poisson_low(r.patients) / r.fte AS ci_low,
    poisson_high(r.patients) / r.fte AS ci_high,
    p.parent_level AS reference_geo_level,
    p.parent_code AS reference_geo_code,
    parent.patients / parent.fte AS reference_value,
    r.professionals AS suppression_count
FROM ratios r
JOIN territory_names() n USING (geo_level, geo_code)
LEFT JOIN territory_parents() p USING (geo_level, geo_code)
LEFT JOIN ratios parent ON parent.geo_level = p.parent_level AND parent.geo_code = p.parent_code
                    AND parent.year = r.year AND parent.category = r.category
