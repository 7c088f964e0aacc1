-- What the indicators of professionals' activity count and add up (densities, acts per FTE,
-- patients per GP FTE, unscheduled care, share aged 60 or over): for each EPCI, département
-- and région wholly covered by the activity panel, each complete year and each profession (and
-- 'ensemble', all professions), the professionals who worked there and the sums of their
-- months (professional_years.sql). A temporary table, made on the night's connection before
-- the indicators run: each of them counted its distinct professionals over the monthly rows
-- again (1 to 3 s each at national scale). The counts are never a table of the published file,
-- only the indicators made from them, suppression applied.
CREATE OR REPLACE TEMP TABLE yearly_activity AS
WITH territory_years AS (
    SELECT m.geo_level, m.geo_code, a.*
    FROM professional_years a
    JOIN territory_membership() m USING (commune_code)
    JOIN covered_territories t USING (geo_level, geo_code)
    WHERE a.year IN (SELECT year FROM complete_years)
),
-- one row per professional in a territory, year and profession, and one for all professions:
-- a professional with one workplace (nearly all) has it already, only the others are grouped
-- (grouping every row took three times as long)
professionals AS (
    SELECT geo_level, geo_code, year, professional,
           CASE WHEN grouping(profession_code) = 1 THEN 'ensemble' ELSE profession_code END
               AS category,
           max(birth_year) AS birth_year, bool_or(aged_60_by_band) AS aged_60_by_band,
           sum(fte) AS fte, sum(acts) AS acts,
           sum(patients_referring) AS patients_referring,
           sum(fte_with_patients_referring) AS fte_with_patients_referring,
           sum(unscheduled_care) AS unscheduled_care,
           sum(acts_with_unscheduled_care) AS acts_with_unscheduled_care
    FROM territory_years
    WHERE NOT one_workplace
    GROUP BY GROUPING SETS ((geo_level, geo_code, year, professional, profession_code),
                            (geo_level, geo_code, year, professional))
    UNION ALL
    SELECT geo_level, geo_code, year, professional, profession_code, birth_year, aged_60_by_band,
           fte, acts, patients_referring, fte_with_patients_referring, unscheduled_care,
           acts_with_unscheduled_care
    FROM territory_years
    WHERE one_workplace
    UNION ALL
    SELECT geo_level, geo_code, year, professional, 'ensemble', birth_year, aged_60_by_band,
           fte, acts, patients_referring, fte_with_patients_referring, unscheduled_care,
           acts_with_unscheduled_care
    FROM territory_years
    WHERE one_workplace
)
SELECT geo_level, geo_code, year, category,
       count(*) AS professionals,
       sum(fte) AS fte,
       sum(acts) AS acts,
       -- by the latest birth year the files give for the professional in the territory, else
       -- by the age band of one of the year's months (a band across 60 says nothing)
       count(*) FILTER (WHERE birth_year IS NOT NULL OR aged_60_by_band IS NOT NULL)
           AS professionals_of_known_age,
       count(*) FILTER (WHERE coalesce(year - birth_year >= 60, aged_60_by_band))
           AS professionals_aged_60,
       -- over the professionals, and their months, whose files give the number
       count(patients_referring) AS professionals_with_patients_referring,
       sum(patients_referring) AS patients_referring,
       sum(fte_with_patients_referring) AS fte_with_patients_referring,
       count(unscheduled_care) AS professionals_with_unscheduled_care,
       sum(unscheduled_care) AS unscheduled_care,
       sum(acts_with_unscheduled_care) AS acts_with_unscheduled_care
FROM professionals
GROUP BY geo_level, geo_code, year, category;
