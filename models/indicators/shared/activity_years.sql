-- The complete years of the activity panel (all twelve months present), the years every
-- activity indicator publishes: one definition, so that no indicator counts a partial year.
-- A temporary macro, made on the night's connection once staging.activity exists; the files of
-- this folder run in name order, so it stands before the macros that read it.
CREATE OR REPLACE TEMP MACRO complete_years() AS TABLE (
    SELECT year(period_month) AS year
    FROM staging.activity
    GROUP BY 1
    HAVING count(DISTINCT month(period_month)) = 12
);
