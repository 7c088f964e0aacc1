-- Whether each catalogue indicator has rows tonight and, when it has none, why: an indicator
-- whose input is missing (coordinates, a census column, several census dates) is reported
-- « non calculé » with the catalogue's requires_note, never as zeros. An indicator made from
-- the activity files (activity_based), or from one of their columns, says when the activity
-- itself is missing (no file yet, or no complete year: activity indicators are annual) rather
-- than blame the column or say nothing.
WITH panel_years AS (
    SELECT year(period_month) AS year, count(DISTINCT month(period_month)) = 12 AS complete
    FROM staging.activity
    GROUP BY 1
),
catalogue AS (
    SELECT indicator_id, label, details,
           json_extract_string(details, '$.requires') AS requires,
           -- made from the activity files, and needing no other input (coordinates, a census
           -- column…) that its requires_note would name
           activity_based AND coalesce(requires, 'activity_') LIKE 'activity\_%' ESCAPE '\'
               AS needs_panel
    FROM marts.indicator_catalogue
)
SELECT
    c.indicator_id,
    c.label,
    c.requires,
    count(v.indicator_id) AS rows,
    count(v.indicator_id) FILTER (WHERE NOT v.suppressed) AS published_rows,
    CASE WHEN count(v.indicator_id) > 0 THEN 'calculé' ELSE 'non calculé' END AS status,
    CASE WHEN count(v.indicator_id) > 0 THEN NULL
         WHEN c.needs_panel AND NOT EXISTS (SELECT 1 FROM panel_years)
         THEN 'Aucune statistique d''activité des professionnels n''a été reçue (dossier '
              || 'activity/ du dépôt).'
         WHEN c.needs_panel AND NOT EXISTS (SELECT 1 FROM panel_years WHERE complete)
         THEN 'Les statistiques d''activité reçues ne couvrent encore aucune année complète '
              || '(douze mois) : les indicateurs d''activité sont annuels.'
         ELSE coalesce(json_extract_string(c.details, '$.requires_note'),
                       'ses données sources n''ont pas été reçues ou ne suffisent pas à le '
                       || 'calculer cette nuit')
    END AS reason
FROM catalogue c
LEFT JOIN marts.indicator_values v USING (indicator_id)
GROUP BY c.indicator_id, c.label, c.requires, c.details, c.needs_panel
ORDER BY c.indicator_id
