-- The census as analysts list it: one row per project and census date, with its communes.
SELECT
    strftime(c.census_date, '%Y-%m') AS census_date,
    r.region_name AS region,
    c.territory,
    c.project_name,
    c.structure_type,
    c.stage_code,
    s.label AS stage_label,
    s.sort_order AS stage_order,
    string_agg(DISTINCT l.commune_code, ', ' ORDER BY l.commune_code) AS commune_codes,
    string_agg(DISTINCT m.commune_name, ', ' ORDER BY m.commune_name) AS commune_names,
    any_value(l.epci_code) AS epci_code,
    c.communes_as_written,
    c.fragile_zone,
    c.near_zus,
    c.nmr_modules,
    CASE WHEN count(l.commune_code) = 0 THEN 'non résolu'
         WHEN any_value(l.resolution_status) = 'epci' THEN 'EPCI'
         ELSE 'résolu' END AS resolution_status,
    c.project_id
FROM staging.census c
JOIN ref.regions r USING (region_code)
JOIN ref.stages s USING (stage_code)
LEFT JOIN staging.census_communes l USING (project_id, census_date)
LEFT JOIN ref.communes m ON m.commune_code = l.commune_code
GROUP BY ALL
ORDER BY census_date, territory, stage_order DESC, project_name
