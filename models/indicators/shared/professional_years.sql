-- One row per professional × profession × commune × year of the activity panel (every year,
-- the incomplete ones too), with what the activity indicators add up over its months. A
-- temporary table, made on the night's connection before the indicators run: each of them
-- used to read the 9 M monthly rows of a national panel again (1 to 3 s each), this table has
-- ten times fewer rows. The sums stay exact decimals, so that a night publishes the same figures
-- whatever order its months arrived in.
CREATE OR REPLACE TEMP TABLE professional_years AS
WITH months AS (
    -- the warehouses tests build by hand hold only the columns their indicators read: a column
    -- missing here is null rather than an error in the indicators that do not read it
    FROM staging.activity
    UNION ALL BY NAME
    (SELECT NULL::INTEGER AS birth_year, NULL::DECIMAL(12, 4) AS fte, NULL::BIGINT AS acts,
            NULL::BIGINT AS patients_referring, NULL::BIGINT AS unscheduled_care
     WHERE false)
),
years AS (
    SELECT year(period_month) AS year, professional_hash, profession_code, commune_code,
           min(period_month) AS first_month, max(period_month) AS last_month,
           max(birth_year) AS birth_year, sum(fte) AS fte, sum(acts) AS acts,
           -- the next four are over the months whose files give the number of patients who
           -- declared the professional as their médecin traitant, or of unscheduled care acts;
           -- null when none of them does
           sum(patients_referring) AS patients_referring,
           sum(fte) FILTER (WHERE patients_referring IS NOT NULL) AS fte_with_patients_referring,
           sum(unscheduled_care) AS unscheduled_care,
           sum(acts) FILTER (WHERE unscheduled_care IS NOT NULL) AS acts_with_unscheduled_care
    FROM months
    GROUP BY year, professional_hash, profession_code, commune_code
),
-- a number for each professional (grouping by territory on it is two to three times faster
-- than on the 64-character hash), and whether they worked in one commune in one profession
-- over the whole panel, as nearly all do: their rows are already one per territory and year,
-- and need no grouping (yearly_activity.sql, yearly_movements.sql)
numbers AS (
    SELECT professional_hash, row_number() OVER (ORDER BY professional_hash) AS professional,
           one_workplace
    FROM (SELECT professional_hash,
                 count(DISTINCT (profession_code, commune_code)) = 1 AS one_workplace
          FROM years
          GROUP BY professional_hash)
)
SELECT n.professional, n.one_workplace, y.* EXCLUDE (professional_hash)
FROM years y
JOIN numbers n USING (professional_hash);
