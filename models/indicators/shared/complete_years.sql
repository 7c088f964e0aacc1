-- The complete years of the activity panel (all twelve months present), the years every
-- activity indicator publishes: one definition, so that no indicator counts a partial year.
-- A temporary table, made on the night's connection once staging.activity exists (as a macro,
-- each of the six indicators and tables reading it scanned the monthly rows again); the files
-- of this folder run in name order, so it stands before the tables that read it.
CREATE OR REPLACE TEMP TABLE complete_years AS
SELECT year(period_month) AS year
FROM staging.activity
GROUP BY 1
HAVING count(DISTINCT month(period_month)) = 12;
