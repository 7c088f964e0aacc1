-- raw.census typed: one row per project × census date. The place names in `communes` are
-- resolved to INSEE codes afterwards (staging.census_communes), in Python, because that needs
-- fuzzy matching against the reference.
WITH typed AS (
    SELECT
        c.*,
        parse_month(c.date_recensement) AS census_date,
        r.region_code,
        s.stage_code,
        t.structure_type,
        parse_flag(c.zone_fragile) AS fragile_zone,
        parse_flag(c.zus) AS near_zus,
        CASE WHEN c.nom_projet IS NULL THEN footer_of([
            {'c': 'date_recensement', 'v': c.date_recensement}, {'c': 'region', 'v': c.region},
            {'c': 'territoire', 'v': c.territoire}, {'c': 'type_structure', 'v': c.type_structure},
            {'c': 'communes', 'v': c.communes}, {'c': 'stade', 'v': c.stade},
            {'c': 'zone_fragile', 'v': c.zone_fragile}, {'c': 'zus', 'v': c.zus},
            {'c': 'modules_nmr', 'v': c.modules_nmr},
            {'c': 'commentaire', 'v': c.commentaire}]) END AS footer
    FROM raw.census AS c
    LEFT JOIN ref.region_synonyms AS r ON r.synonym = normalize_label(c.region)
    LEFT JOIN ref.stage_synonyms AS s ON s.synonym = normalize_label(c.stade)
    LEFT JOIN ref.structure_type_synonyms AS t ON t.synonym = normalize_label(c.type_structure)
),
checked AS (
    SELECT *,
        CASE
            WHEN footer IS NOT NULL THEN [footer.c, footer.v, footer_reason()]
            WHEN census_date IS NULL THEN ['date_recensement', date_recensement,
                'date de recensement illisible : attendu un mois (ex. 2013-05 ou « mai 2013 »)']
            WHEN region_code IS NULL THEN ['region', region, 'région inconnue (nom actuel ou ancien nom de région attendu)']
            WHEN territoire IS NULL THEN ['territoire', NULL, missing_reason('territoire absent')]
            WHEN nom_projet IS NULL THEN ['nom_projet', NULL, 'nom du projet absent']
            WHEN structure_type IS NULL THEN ['type_structure', type_structure,
                'type de structure inconnu : MSP, PSP, CDS ou CPTS attendu (voir ref.structure_type_synonyms pour les autres façons de l''écrire)']
            WHEN communes IS NULL THEN ['communes', NULL, 'commune(s) du projet absente(s)']
            WHEN stage_code IS NULL THEN ['stade', stade,
                'stade inconnu : réflexion, conception, opérationnalisation ou fonctionnement attendu (voir ref.stage_synonyms pour les autres façons de l''écrire)']
            WHEN fragile_zone IS NULL AND NOT not_known(zone_fragile) THEN ['zone_fragile', zone_fragile, 'oui/non attendu (ou vide, « NC », « ? » si on ne sait pas)']
            WHEN near_zus IS NULL AND NOT not_known(zus) THEN ['zus', zus, 'oui/non attendu (ou vide, « NC », « ? » si on ne sait pas)']
        END AS problem
    FROM typed
)
SELECT
    md5(region_code || '|' || normalize_label(territoire) || '|' || normalize_label(nom_projet)) AS project_id,
    census_date,
    region_code,
    trim(territoire) AS territory,
    trim(nom_projet) AS project_name,
    structure_type,
    stage_code,
    trim(communes) AS communes_as_written,
    fragile_zone,
    near_zus,
    nullif(trim(modules_nmr), '') AS nmr_modules,
    commentaire AS comment,
    _source_file,
    _source_row,
    _load_id,
    problem[1] AS _reject_column,
    problem[2] AS _reject_value,
    problem[3] AS _reject_reason
FROM checked
