-- The cross-check: installations a programme reports (criteria whose wording mentions
-- installations, yearly periods) against the professionals the activity files show settling in
-- its territory that year (first month in the territory's communes, after the panel's first
-- month). value: observed installations with their Poisson interval; reference_value: the
-- reported figure, so the flag says whether the report lies inside the observed interval.
-- Only complete years of the panel and programmes whose territory resolved to communes.
WITH panel AS (
    SELECT min(period_month) AS first_month FROM staging.activity
),
territory AS (
    SELECT DISTINCT programme, commune_code
    FROM staging.followup_communes
    WHERE commune_code IS NOT NULL
),
presence AS (
    SELECT t.programme, a.professional, min(a.first_month) AS first_month
    FROM professional_years a  -- models/indicators/shared/professional_years.sql
    JOIN territory t USING (commune_code)
    GROUP BY ALL
),
observed AS (
    SELECT p.programme, year(p.first_month) AS year, count(*) AS installations
    FROM presence p, panel
    WHERE p.first_month > panel.first_month
    GROUP BY ALL
),
reported AS (
    SELECT programme, criterion, period, value
    FROM staging.followup
    WHERE normalize_label(criterion) LIKE '%installation%' AND value IS NOT NULL
      AND regexp_full_match(period, '\d{4}')
      AND CAST(period AS INTEGER) IN (SELECT year FROM complete_years)
      AND programme IN (SELECT programme FROM territory)
)
SELECT
    'suivi_installations_observees' AS indicator_id,
    'programme' AS geo_level,
    normalize_label(d.programme) AS geo_code,
    d.programme AS geo_name,
    d.period,
    'critere' AS dimension,
    d.criterion AS category,
    coalesce(o.installations, 0) AS value,
    coalesce(o.installations, 0) AS numerator,
    NULL AS denominator,
    poisson_low(coalesce(o.installations, 0)) AS ci_low,
    poisson_high(coalesce(o.installations, 0)) AS ci_high,
    NULL AS reference_geo_level,
    NULL AS reference_geo_code,
    d.value AS reference_value
FROM reported d
LEFT JOIN observed o ON o.programme = d.programme AND o.year = CAST(d.period AS INTEGER)
