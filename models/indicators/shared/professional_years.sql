-- One row per professional × profession × commune × year of the activity panel, as kept in
-- staging.activity_years (models/staging/activity_years.sql), with a number for each
-- professional. A temporary table, made on the night's connection before the indicators run.
--
-- The number: grouping by territory on it is two to three times faster than on the
-- 64-character hash. And whether they worked in one commune in one profession over the whole
-- panel, as nearly all do: their rows are already one per territory and year, and need no
-- grouping (yearly_activity.sql, yearly_movements.sql).
CREATE OR REPLACE TEMP TABLE professional_years AS
WITH numbers AS (
    SELECT professional_hash, row_number() OVER (ORDER BY professional_hash) AS professional,
           one_workplace
    FROM (SELECT professional_hash,
                 count(DISTINCT (profession_code, commune_code)) = 1 AS one_workplace
          FROM staging.activity_years
          GROUP BY professional_hash)
)
SELECT n.professional, n.one_workplace, y.* EXCLUDE (professional_hash)
FROM staging.activity_years y
JOIN numbers n USING (professional_hash);
