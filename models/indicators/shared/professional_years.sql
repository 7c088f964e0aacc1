-- One row per professional × profession × commune × year of the activity panel, as kept in
-- staging.activity_years (models/staging/activity_years.sql), with whether the professional
-- worked in one commune in one profession over the whole panel, as nearly all do: their rows
-- are already one per territory and year, and need no grouping (yearly_activity.sql,
-- yearly_movements.sql). A temporary table, made on the night's connection before the
-- indicators run.
CREATE OR REPLACE TEMP TABLE professional_years AS
SELECT y.professional_hash AS professional, w.one_workplace,
       y.* EXCLUDE (professional_hash)
FROM staging.activity_years y
JOIN (SELECT professional_hash,
             count(DISTINCT (profession_code, commune_code)) = 1 AS one_workplace
      FROM staging.activity_years
      GROUP BY professional_hash) w USING (professional_hash);
