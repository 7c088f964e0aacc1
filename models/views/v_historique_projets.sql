-- Each project across the census dates: its stage at each date, the stage at the previous
-- census where it appeared, whether it moved forward or back, and whether it is still listed
-- in its région's latest census.
WITH history AS (
    SELECT
        *,
        lag(census_date) OVER project AS previous_census_date,
        lag(stage_label) OVER project AS previous_stage_label,
        lag(stage_order) OVER project AS previous_stage_order,
        count(*) OVER (PARTITION BY project_id) AS census_count,
        max(census_date) OVER (PARTITION BY project_id) AS last_project_census,
        max(census_date) OVER (PARTITION BY region) AS last_regional_census
    FROM marts.census_projects
    WINDOW project AS (PARTITION BY project_id ORDER BY census_date)
)
SELECT
    project_id AS id_projet,
    project_name AS projet,
    region,
    territory AS territoire,
    structure_type AS type_structure,
    census_date AS date_recensement,
    stage_code AS code_stade,
    stage_label AS stade,
    previous_census_date AS date_recensement_precedent,
    previous_stage_label AS stade_precedent,
    CASE
        WHEN previous_stage_order IS NULL THEN 'premier recensement'
        WHEN stage_order > previous_stage_order THEN 'progression'
        WHEN stage_order < previous_stage_order THEN 'recul'
        ELSE 'stable'
    END AS evolution,
    census_count AS nombre_recensements,
    last_project_census = last_regional_census AS present_au_dernier_recensement,
    commune_names AS communes,
    commune_codes AS codes_communes,
    epci_code AS code_epci,
    fragile_zone AS zone_fragile,
    near_zus AS proche_zus,
    nmr_modules AS modules_nmr
FROM history
ORDER BY projet, date_recensement
