-- Patients who declared a GP as médecin traitant, per GP FTE, per complete year: the mean
-- monthly number of such patients over the mean monthly FTE of the GPs whose files give it.
-- The interval is the Poisson interval of the mean monthly patients over the mean monthly FTE;
-- suppression follows the number of GPs.
WITH ratios AS (
    SELECT geo_level, geo_code, year, category, patients_referring / 12 AS patients,
           fte_with_patients_referring / 12 AS fte,
           professionals_with_patients_referring AS professionals
    FROM yearly_activity  -- models/indicators/shared/yearly_activity.sql
    WHERE category = 'medecin_generaliste' AND fte_with_patients_referring > 0
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
