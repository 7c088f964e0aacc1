-- Chercher une colonne par son commentaire
-- Où trouver la population ? Remplacez « population » par le mot cherché : les commentaires
-- disent ce que contient chaque colonne, son unité et sa source.
SELECT schema_name AS schema, table_name AS table_ou_vue, column_name AS colonne,
       data_type AS type, comment AS description
FROM duckdb_columns()
WHERE database_name = current_database()
  AND schema_name <> 'raw'                -- la couche brute est interne
  AND comment ILIKE '%population%'
ORDER BY schema, table_ou_vue, colonne;
