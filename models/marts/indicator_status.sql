-- Whether each catalogue indicator has rows tonight and, when it has none, why: an indicator
-- whose input is missing (coordinates, a census column, several census dates) is reported
-- « non calculé » with the catalogue's requires_note, never as zeros.
SELECT
    c.indicator_id,
    c.label,
    json_extract_string(c.details, '$.requires') AS requires,
    count(v.indicator_id) AS rows,
    count(v.indicator_id) FILTER (WHERE NOT v.suppressed) AS published_rows,
    CASE WHEN count(v.indicator_id) > 0 THEN 'calculé' ELSE 'non calculé' END AS status,
    CASE WHEN count(v.indicator_id) = 0
         THEN coalesce(json_extract_string(c.details, '$.requires_note'),
                       'aucune donnée source pour cet indicateur cette nuit')
    END AS reason
FROM marts.indicator_catalogue c
LEFT JOIN marts.indicator_values v USING (indicator_id)
GROUP BY c.indicator_id, c.label, c.details
ORDER BY c.indicator_id
