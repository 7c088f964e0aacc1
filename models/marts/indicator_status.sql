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
)
SELECT
    c.indicator_id,
    c.label,
    json_extract_string(c.details, '$.requires') AS requires,
    count(v.indicator_id) AS rows,
    count(v.indicator_id) FILTER (WHERE NOT v.suppressed) AS published_rows,
    CASE WHEN count(v.indicator_id) > 0 THEN 'calculé' ELSE 'non calculé' END AS status,
    CASE WHEN count(v.indicator_id) > 0 THEN NULL
         -- an indicator that needs another input (coordinates, a census column…) says so
         WHEN NOT c.activity_based
              OR coalesce(json_extract_string(c.details, '$.requires'), 'activity_')
                 NOT LIKE 'activity\_%' ESCAPE '\'
         THEN coalesce(json_extract_string(c.details, '$.requires_note'),
                       'ses données sources n''ont pas été reçues ou ne suffisent pas à le '
                       || 'calculer cette nuit')
         WHEN NOT EXISTS (SELECT 1 FROM panel_years)
         THEN 'Aucune statistique d''activité des professionnels n''a été reçue (dossier '
              || 'activity/ du dépôt).'
         WHEN NOT EXISTS (SELECT 1 FROM panel_years WHERE complete)
         THEN 'Les statistiques d''activité reçues ne couvrent encore aucune année complète '
              || '(douze mois) : les indicateurs d''activité sont annuels.'
         ELSE coalesce(json_extract_string(c.details, '$.requires_note'),
                       'ses données sources n''ont pas été reçues ou ne suffisent pas à le '
                       || 'calculer cette nuit')
    END AS reason
FROM marts.indicator_catalogue c
LEFT JOIN marts.indicator_values v USING (indicator_id)
GROUP BY c.indicator_id, c.label, c.details, c.activity_based
ORDER BY c.indicator_id
