-- Share of unscheduled care among the acts, by profession and complete year, over the rows
-- whose files give the number of unscheduled care acts. Wilson interval on acts (which treats
-- acts as independent: the interval is too narrow where a few professionals weigh a lot);
-- suppression follows the number of professionals.
WITH shares AS (
    SELECT geo_level, geo_code, year, category, unscheduled_care AS unscheduled,
           acts_with_unscheduled_care AS acts,
           professionals_with_unscheduled_care AS professionals
    FROM yearly_activity  -- models/indicators/shared/yearly_activity.sql
    WHERE category <> 'ensemble' AND acts_with_unscheduled_care > 0
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
