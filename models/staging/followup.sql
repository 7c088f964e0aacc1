-- raw.followup typed: one row per programme × action × criterion × period.
WITH typed AS (
    SELECT
        f.*,
        parse_period(f.periode) AS period,
        parse_quantity(f.valeur) AS value_number,
        -- a step of the roadmap has a state, not a number; its target, if any, is a state too
        parse_milestone(f.valeur) AS milestone,
        parse_milestone(f.cible) AS target_milestone,
        parse_target(f.cible) AS target_number,
        has_percent_sign(f.valeur) OR has_percent_sign(f.cible) AS percent_sign,
        -- a roadmap lists the periods to come with their target and no value yet
        not_known(f.valeur) AS value_not_known,
        CASE WHEN f.critere IS NULL THEN footer_of([
            {'c': 'programme', 'v': f.programme}, {'c': 'territoire', 'v': f.territoire},
            {'c': 'axe', 'v': f.axe}, {'c': 'action', 'v': f.action},
            {'c': 'periode', 'v': f.periode}, {'c': coalesce(f._source_column, 'valeur'), 'v': f.valeur},
            {'c': 'cible', 'v': f.cible}, {'c': 'unite', 'v': f.unite},
            {'c': 'nature_valeur', 'v': f.nature_valeur},
            {'c': 'commentaire', 'v': f.commentaire}]) END AS footer
    FROM raw.followup AS f
),
checked AS (
    SELECT *,
        CASE
            WHEN footer IS NOT NULL THEN [footer.c, footer.v, footer_reason()]
            WHEN programme IS NULL THEN ['programme', NULL, missing_reason('programme absent')]
            WHEN territoire IS NULL THEN ['territoire', NULL, missing_reason('territoire absent')]
            WHEN action IS NULL THEN ['action', NULL, missing_reason('action absente')]
            WHEN critere IS NULL THEN ['critere', NULL, missing_reason('critère absent')]
            WHEN period IS NULL THEN ['periode', periode,
                'période illisible : attendu 2024, S1 2024, T1 2024, 2024-03 ou « mars 2024 »']
            -- a table with a column per period: the column is the period's, as its header is written
            WHEN value_number IS NULL AND milestone IS NULL AND NOT value_not_known THEN [coalesce(_source_column, 'valeur'), valeur,
                'valeur illisible : un nombre (ex. 12, 0,75, 45 % ou « 12 professionnels »), l''état d''une étape (« réalisé », « en cours », « non réalisé » ou « abandonné »), ou vide, « NC » ou « à venir » si elle n''est pas encore connue']
            WHEN cible IS NOT NULL AND target_number IS NULL
                 AND (value_number IS NOT NULL OR target_milestone IS NULL) THEN ['cible', cible,
                'cible non numérique (ex. 5, 80 %, « au moins 5 », ou « au plus 2 » quand moins est mieux ; « réalisé » pour une étape)']
            WHEN nature_valeur IS NOT NULL AND normalize_label(nature_valeur) NOT IN ('illustrative', 'observee')
                THEN ['nature_valeur', nature_valeur, 'nature de la valeur : « observée » ou « illustrative » attendu']
        END AS problem
    FROM typed
)
SELECT
    trim(programme) AS programme,
    trim(territoire) AS territory,
    nullif(trim(axe), '') AS axis,
    trim(action) AS action,
    trim(critere) AS criterion,
    period,
    value_number AS value,
    target_number AS target,
    milestone,
    target_milestone,
    CASE WHEN target_number IS NOT NULL THEN target_direction(cible) END AS target_direction,
    -- the unit column, or the unit typed beside the number ('12 professionnels')
    coalesce(nullif(trim(unite), ''), CASE WHEN percent_sign THEN '%' END, unit_of(valeur),
             CASE WHEN target_number IS NOT NULL THEN unit_of(target_text(cible)) END) AS unit,
    -- a value not known yet has no nature, unless the file calls it illustrative
    CASE WHEN normalize_label(nature_valeur) = 'illustrative' THEN 'illustrative'
         WHEN value_number IS NOT NULL OR milestone IS NOT NULL THEN 'observée' END AS value_nature,
    commentaire AS comment,
    _source_file,
    _source_row,
    _load_id,
    problem[1] AS _reject_column,
    problem[2] AS _reject_value,
    problem[3] AS _reject_reason
FROM checked
