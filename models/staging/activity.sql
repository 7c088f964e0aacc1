-- raw.activity typed: one row per professional × month × commune. A row that cannot be typed
-- keeps its first problem in _reject_column/_reject_value/_reject_reason and goes to
-- audit.rejected_rows instead of this table.
-- Months, professions and age bands are read once per distinct spelling (a national landing
-- has 9 M rows and a few dozen of each), not once per row.
WITH months AS (
    SELECT periode, parse_month(periode) AS period_month
    FROM (SELECT DISTINCT periode FROM raw.activity)
),
professions AS (
    SELECT d.profession, p.profession_code, o.other_profession_code
    FROM (SELECT DISTINCT profession FROM raw.activity) AS d
    LEFT JOIN ref.profession_synonyms AS p ON p.synonym = normalize_label(d.profession)
    LEFT JOIN ref.other_profession_synonyms AS o ON o.synonym = normalize_label(d.profession)
),
age_bands AS (
    SELECT tranche_age AS band, aged_60_by_band(tranche_age) AS aged_60_by_band
    FROM (SELECT DISTINCT tranche_age FROM raw.activity WHERE tranche_age IS NOT NULL)
),
typed AS (
    SELECT
        a.*,
        m.period_month,
        p.profession_code,
        p.other_profession_code,
        CASE WHEN regexp_full_match(trim(a.code_commune_exercice), '\d{4}')
             THEN '0' || trim(a.code_commune_exercice)      -- a spreadsheet ate the leading zero
             -- a float export's « 59350.0 » (« 1001.0 » for 01001); the dot looked for first,
             -- which spares the pattern to nearly every row
             WHEN (contains(a.code_commune_exercice, '.') OR contains(a.code_commune_exercice, ','))
                  AND regexp_full_match(trim(a.code_commune_exercice), '\d{4,5}[.,]0+')
             THEN lpad(regexp_extract(trim(a.code_commune_exercice), '^\d+'), 5, '0')
             ELSE upper(trim(a.code_commune_exercice)) END AS commune_code_as_written,
        TRY_CAST(a.annee_naissance AS INTEGER) AS birth_year,
        -- exact decimal: a sum of doubles depends on the order rows are added in, and a
        -- night must publish the same figures whatever order its months arrived in
        -- « 80 % » is a time share as some exports write it: 0.8; « 0,8 ETP », « 4/5 » too
        CAST(coalesce(parse_number(a.etp), parse_percent(a.etp) / 100,
                      parse_number(without_fte_unit(a.etp)), fte_in_words(a.etp))
             AS DECIMAL(12, 4)) AS fte,
        parse_count(a.nb_actes) AS acts,
        parse_count(a.nb_consultations) AS consultations,
        parse_count(a.nb_visites) AS home_visits,
        parse_count(a.nb_patients) AS patients,
        parse_count(a.nb_patients_medecin_traitant) AS patients_referring,
        parse_count(a.nb_soins_non_programmes) AS unscheduled_care
    FROM raw.activity AS a
    LEFT JOIN months AS m ON m.periode = a.periode
    LEFT JOIN professions AS p ON p.profession = a.profession
    -- a night refreshes only the months it was given (pipelines/ingest/plan.py): the rows of
    -- the spellings of their periode, and of those no month can be read from (they belong to
    -- none and are always rejected again), listed by pipelines/ingest/assets.py. Filtered on
    -- the raw column itself, DuckDB skips the other months' row groups: a national month is
    -- typed in 0.23-0.32 s, against 0.47-0.54 s when filtered on the month parsed
    WHERE getvariable('staging_periodes') IS NULL OR a.periode IS NULL
       OR list_contains(getvariable('staging_periodes'), a.periode)
),
-- the communes of each postal code, to tell a postal code written for an INSEE code
postal_codes AS (
    SELECT postal_code,
           CASE WHEN count(*) > 1 THEN count(*) || ' communes, dont ' ELSE '' END
           || array_to_string(list(commune_name || ' ' || commune_code
                                   ORDER BY commune_name)[1:3], ', ') AS communes
    FROM ref.communes, unnest(string_split(postal_codes, ',')) AS p(postal_code)
    GROUP BY postal_code
),
resolved AS (
    SELECT t.*, l.current_code AS commune_code, pc.communes AS postal_code_communes,
           b.aged_60_by_band,
           CASE WHEN id_professionnel_format = 'absent' THEN footer_of([
               {'c': 'periode', 'v': periode}, {'c': 'profession', 'v': profession},
               {'c': 'code_commune_exercice', 'v': code_commune_exercice},
               {'c': 'structure', 'v': structure}, {'c': 'annee_naissance', 'v': annee_naissance},
               {'c': 'tranche_age', 'v': tranche_age}, {'c': 'etp', 'v': etp},
               {'c': 'nb_actes', 'v': nb_actes}, {'c': 'nb_consultations', 'v': nb_consultations},
               {'c': 'nb_visites', 'v': nb_visites}, {'c': 'nb_patients', 'v': nb_patients},
               {'c': 'nb_patients_medecin_traitant', 'v': nb_patients_medecin_traitant},
               {'c': 'nb_soins_non_programmes', 'v': nb_soins_non_programmes}]) END AS footer
    FROM typed AS t
    LEFT JOIN ref.commune_code_lookup AS l ON l.code = t.commune_code_as_written
    LEFT JOIN age_bands AS b ON b.band = t.tranche_age
    LEFT JOIN postal_codes AS pc
           ON l.current_code IS NULL AND pc.postal_code = t.commune_code_as_written
),
checked AS (
    SELECT *,
        CASE
            -- first: a row set aside whole, whatever else it holds
            WHEN footer IS NOT NULL THEN [footer.c, footer.v, footer_reason()]
            WHEN other_profession_code IS NOT NULL THEN ['profession', profession,
                'profession que l''observatoire ne suit pas : ligne écartée sans bloquer la nuit (voir ref.other_professions)']
            WHEN periode IS NULL THEN ['periode', NULL, 'période absente']
            WHEN period_month IS NULL THEN ['periode', periode,
                'période illisible : attendu un mois AAAA-MM (ex. 2024-03), MM/AAAA ou « mars 2024 »']
            WHEN id_professionnel_format = 'absent' THEN ['id_professionnel', NULL, 'identifiant du professionnel absent']
            WHEN id_professionnel_format = 'scientifique' THEN ['id_professionnel', '<identifiant masqué>',
                'identifiant écrit en notation scientifique (ex. 1,99E+10) : le tableur l''a arrondi ; exportez la colonne au format texte']
            WHEN id_professionnel_format NOT IN ('rpps', 'adeli') THEN ['id_professionnel', '<identifiant masqué>',
                'identifiant invalide : un RPPS compte 11 chiffres, un ADELI 9 (12 et 10 dans l''identification nationale, précédés de 8 ou de 0)']
            -- a doctor may be a GP or a specialist: which one only the file can say
            WHEN profession_code IS NULL AND normalize_label(profession) IN ('medecin', 'medecins', 'docteur') THEN ['profession', profession,
                'profession « ' || profession || ' » sans précision : écrivez « Médecin généraliste », ou la spécialité d''un médecin spécialiste (sa ligne est alors écartée sans bloquer la nuit)']
            WHEN profession_code IS NULL THEN ['profession', profession,
                'profession inconnue : l''observatoire suit ' || (SELECT string_agg(label, ', ' ORDER BY sort_order) FROM ref.professions)
                || ' (voir ref.profession_synonyms pour les autres façons de les écrire) ; une autre profession reconnue (ref.other_professions) est écartée sans bloquer la nuit ; '
                || 'un libellé propre à vos exports se déclare par une ligne « libelle_ecrit;profession » dans reference/professions.csv du dossier de dépôt']
            WHEN commune_code IS NULL AND postal_code_communes IS NOT NULL THEN ['code_commune_exercice', code_commune_exercice,
                'code postal et non code INSEE (code postal de ' || postal_code_communes || ') : écrivez le code INSEE de la commune d''exercice']
            WHEN commune_code IS NULL THEN ['code_commune_exercice', code_commune_exercice,
                'code commune INSEE inconnu du COG 2026 (5 caractères, ex. 59350 ou 2A004)']
            WHEN annee_naissance IS NOT NULL AND (birth_year IS NULL OR birth_year NOT BETWEEN 1920 AND year(period_month) - 18)
                THEN ['annee_naissance', annee_naissance, 'année de naissance invalide']
            WHEN fte IS NULL THEN ['etp', etp, 'ETP absent ou non numérique (ex. 0,8 ou 80 %)']
            WHEN fte < 0 THEN ['etp', etp, 'ETP négatif']
            WHEN acts IS NULL THEN ['nb_actes', nb_actes, 'nombre d''actes absent ou non entier']
            WHEN acts < 0 THEN ['nb_actes', nb_actes, 'nombre d''actes négatif']
            WHEN nb_consultations IS NOT NULL AND coalesce(consultations, -1) < 0 AND NOT unknown_count(nb_consultations) THEN ['nb_consultations', nb_consultations, count_reason('consultations', nb_consultations)]
            WHEN nb_visites IS NOT NULL AND coalesce(home_visits, -1) < 0 AND NOT unknown_count(nb_visites) THEN ['nb_visites', nb_visites, count_reason('visites', nb_visites)]
            WHEN nb_patients IS NOT NULL AND coalesce(patients, -1) < 0 AND NOT unknown_count(nb_patients) THEN ['nb_patients', nb_patients, count_reason('patients', nb_patients)]
            WHEN nb_patients_medecin_traitant IS NOT NULL AND coalesce(patients_referring, -1) < 0 AND NOT unknown_count(nb_patients_medecin_traitant) THEN ['nb_patients_medecin_traitant', nb_patients_medecin_traitant, count_reason('patients médecin traitant', nb_patients_medecin_traitant)]
            WHEN nb_soins_non_programmes IS NOT NULL AND coalesce(unscheduled_care, -1) < 0 AND NOT unknown_count(nb_soins_non_programmes) THEN ['nb_soins_non_programmes', nb_soins_non_programmes, count_reason('soins non programmés', nb_soins_non_programmes)]
        END AS problem
    FROM resolved
)
SELECT
    period_month,
    id_professionnel_hmac AS professional_hash,
    profession_code,
    commune_code,
    nullif(trim(structure), '') AS structure,
    birth_year,
    tranche_age AS age_band,
    aged_60_by_band,
    fte,
    acts,
    consultations,
    home_visits,
    patients,
    patients_referring,
    unscheduled_care,
    _source_file,
    _source_row,
    _load_id,
    problem[1] AS _reject_column,
    problem[2] AS _reject_value,
    problem[3] AS _reject_reason
FROM checked
