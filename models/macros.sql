-- Parsing rules shared by the staging models. Every function returns NULL when the text cannot
-- be read, so that the staging model can send the row to audit.rejected_rows with a reason.

-- Same rule as pipelines.sources.contracts.normalize_label: case, accents and punctuation
-- never decide a match.
CREATE OR REPLACE MACRO normalize_label(x) AS
    trim(regexp_replace(lower(strip_accents(x)), '[^a-z0-9]+', '_', 'g'), '_');

-- French numbers: decimal comma, spaces (incl. non-breaking) as thousands separators. A plain
-- number is cast directly: the regular expression, evaluated for every count of every activity
-- row, was most of the typing of a national night (same value: it only removes what a plain
-- number does not contain).
CREATE OR REPLACE MACRO parse_number(x) AS
    coalesce(TRY_CAST(trim(x) AS DOUBLE),
             TRY_CAST(replace(regexp_replace(trim(x), '[\s\x{00A0}\x{202F}]', '', 'g'), ',', '.')
                      AS DOUBLE));

-- A share as analysts type it in a spreadsheet: '45 %' is 45 (the space may be a non-breaking
-- one); has_percent_sign says the sign was there.
CREATE OR REPLACE MACRO parse_percent(x) AS
    parse_number(regexp_replace(x, '[\s\x{00A0}\x{202F}]*%\s*$', ''));
CREATE OR REPLACE MACRO has_percent_sign(x) AS regexp_matches(x, '%\s*$');

-- A time share with its unit, as MSP tables write it ('0,8 ETP', '1 e.t.p.'): the number.
CREATE OR REPLACE MACRO without_fte_unit(x) AS
    regexp_replace(x, '\s*e\.?\s*t\.?\s*p\.?\s*$', '', 'i');

-- A time share as an MSP's table may type it rather than as a number: a fraction of full time
-- (« 4/5 », « 4/5e », « 1/2 temps »), « temps plein », « mi-temps », or a percent with its
-- unit (« 80 % ETP »). Tried after the number, the percent and the number with its unit.
CREATE OR REPLACE MACRO fte_in_words(x) AS CASE
    WHEN regexp_full_match(normalize_label(x), '(temps_)?(plein|complet)(_temps)?') THEN 1.0
    WHEN regexp_full_match(normalize_label(x), '(mi|demi)_temps') THEN 0.5
    WHEN regexp_full_match(normalize_label(x), '\d{1,2}_\d{1,2}(e|eme|ieme)?(_temps)?')
         AND TRY_CAST(regexp_extract(normalize_label(x), '^\d+_(\d+)', 1) AS INT)
             BETWEEN greatest(1, TRY_CAST(regexp_extract(normalize_label(x), '^\d+') AS INT)) AND 10
        THEN TRY_CAST(regexp_extract(normalize_label(x), '^\d+') AS DOUBLE)
             / TRY_CAST(regexp_extract(normalize_label(x), '^\d+_(\d+)', 1) AS DOUBLE)
    ELSE parse_percent(without_fte_unit(x)) / 100
END;

-- A number followed by its unit, as roadmaps type a value or a target in its cell
-- ('12 professionnels', '1 200 €', '3 MSP'): {'number': '12', 'unit': 'professionnels'}, or
-- empty strings. A unit holding a figure is a sentence, not a unit ('3 sur 5', '12 dont 3 MSP').
CREATE OR REPLACE MACRO number_with_unit(x) AS regexp_extract(trim(x),
    '^([+-]?\d[\d\s\x{00A0}\x{202F}]*(?:[.,]\d+)?)\s*([^\d\s%.,][^\d]*)$', ['number', 'unit']);
CREATE OR REPLACE MACRO unit_of(x) AS CASE
    -- an ordinal ('1er', '2e') is no quantity
    WHEN lower(trim(number_with_unit(x).unit)) NOT IN ('er', 're', 'ère', 'e', 'è', 'ème', 'eme', 'nd', 'nde')
    THEN nullif(rtrim(trim(number_with_unit(x).unit), '.'), '') END;
CREATE OR REPLACE MACRO parse_quantity(x) AS coalesce(parse_percent(x),
    CASE WHEN unit_of(x) IS NOT NULL THEN parse_number(number_with_unit(x).number) END);

-- A follow-up target as programmes write it: '5', '80 %', '≥ 80 %', 'au moins 5', or, for a
-- criterion where less is better, '≤ 2', 'au plus 2' ('>' and '<' are read as '≥' and '≤').
CREATE OR REPLACE MACRO target_direction(x) AS
    CASE WHEN regexp_matches(lower(trim(x)), '^(≤|<|au plus|au maximum|maximum|max\b|moins de)')
         THEN 'au plus' WHEN trim(x) <> '' THEN 'au moins' END;
CREATE OR REPLACE MACRO target_text(x) AS regexp_replace(trim(x),
    '^(≥|>=?|≤|<=?|au (moins|plus|minimum|maximum)|minimum|maximum|min\b\.?|max\b\.?|plus de|moins de)\s*', '', 'i');
CREATE OR REPLACE MACRO parse_target(x) AS parse_quantity(target_text(x));

-- The state of a step a roadmap follows rather than counts (« Réalisation du diagnostic » :
-- réalisé, en cours, non réalisé, abandonné), as programmes word it.
CREATE OR REPLACE MACRO parse_milestone(x) AS
    CASE WHEN normalize_label(x) IN (
             'realise', 'realisee', 'realises', 'realisees', 'fait', 'faite', 'fini', 'finie',
             'termine', 'terminee', 'acheve', 'achevee', 'effectue', 'effectuee', 'oui', 'ok',
             'finalise', 'finalisee', 'atteint', 'atteinte')
             OR trim(x) IN ('✓', '✔')
             THEN 'réalisé'
         WHEN normalize_label(x) IN (
             'en_cours', 'encours', 'engage', 'engagee', 'commence', 'commencee', 'demarre',
             'demarree', 'partiel', 'partielle', 'en_partie', 'partiellement_realise',
             'partiellement_realisee', 'en_cours_de_realisation', 'initie', 'initiee',
             'lance', 'lancee')
             THEN 'en cours'
         -- postponed or waiting is not done (not given up either)
         WHEN normalize_label(x) IN (
             'non_realise', 'non_realisee', 'non_fait', 'non_faite', 'pas_fait', 'non_demarre',
             'non_demarree', 'non_commence', 'non_commencee', 'pas_commence', 'pas_demarre',
             'a_faire', 'non_engage', 'non_engagee', 'non', 'non_atteint', 'non_atteinte',
             'reporte', 'reportee', 'ajourne', 'ajournee', 'suspendu', 'suspendue',
             'en_attente', 'prevu', 'prevue')
             THEN 'non réalisé'
         WHEN normalize_label(x) IN ('abandonne', 'abandonnee', 'annule', 'annulee')
             THEN 'abandonné' END;

-- The status of a follow-up value against its target (marts.followup_criteria, suivi_statut):
-- at the target or beyond it is « atteint »; within 75 % of it (a value at least 75 % of an
-- « au moins » target, a value at most 1/0.75 of an « au plus » one) « en bonne voie ». A step
-- has its state for status.
CREATE OR REPLACE MACRO followup_status(value, target, direction, milestone) AS
    CASE WHEN milestone IS NOT NULL THEN milestone
         WHEN value IS NULL THEN 'non renseigné'
         WHEN direction = 'au plus' AND target >= 0 THEN
             CASE WHEN value <= target THEN 'atteint'
                  WHEN 0.75 * value <= target THEN 'en bonne voie'
                  ELSE 'en retard' END
         WHEN target IS NULL OR target <= 0 THEN 'sans cible'
         WHEN value >= target THEN 'atteint'
         WHEN value >= 0.75 * target THEN 'en bonne voie'
         ELSE 'en retard' END;

-- Achievement in % of the target: value / target, or target / value when less is better (none
-- for a value of 0 there, which reaches any « au plus » target).
CREATE OR REPLACE MACRO achievement_rate(value, target, direction) AS
    CASE WHEN direction = 'au plus' THEN
             CASE WHEN value > 0 AND target > 0 THEN 100.0 * target / value END
         WHEN target > 0 THEN 100.0 * value / target END;

-- An age band as exports write it, or an age: « 60 ans et plus », « 60+ », « ≥ 60 », « 55-59 »,
-- « 55 à 59 ans », « moins de 35 ans », « < 35 », « 62 ». Its bounds in years, either one NULL
-- when the band is open; NULL for anything else (« tout âge », a year of birth).
CREATE OR REPLACE MACRO age_text(x) AS lower(strip_accents(trim(x)));
CREATE OR REPLACE MACRO age_numbers(x) AS
    list_transform(regexp_extract_all(age_text(x), '\d+'), lambda n: TRY_CAST(n AS INTEGER));
CREATE OR REPLACE MACRO age_band_bounds(x) AS CASE
    WHEN NOT list_bool_and(list_transform(age_numbers(x), lambda n: n <= 120)) THEN NULL
    WHEN len(age_numbers(x)) = 2 AND age_numbers(x)[1] <= age_numbers(x)[2]
        THEN {'low': age_numbers(x)[1], 'high': age_numbers(x)[2]}
    WHEN len(age_numbers(x)) <> 1 THEN NULL
    -- « moins de 35 ans », « < 35 »: under 35; « ≤ 35 », « jusqu'à 35 ans »: 35 included
    WHEN regexp_matches(age_text(x), 'moins|<|≤|inf|jusqu')
        THEN {'low': NULL::INTEGER, 'high': age_numbers(x)[1]
              - CASE WHEN regexp_matches(age_text(x), '<=|≤|jusqu|egal') THEN 0 ELSE 1 END}
    -- « 60 ans et plus », « ≥ 60 », « 60+ »: 60 included; « plus de 59 ans », « > 59 »: not
    WHEN regexp_matches(age_text(x), 'plus|\+|>|≥|sup|au moins|dela')
        THEN {'low': age_numbers(x)[1]
              + CASE WHEN regexp_matches(age_text(x), '^(plus de|>)')
                          AND NOT regexp_matches(age_text(x), '>=|et plus|ou plus') THEN 1
                     ELSE 0 END, 'high': NULL::INTEGER}
    WHEN regexp_full_match(age_text(x), '\d+( ans?)?')
        THEN {'low': age_numbers(x)[1], 'high': age_numbers(x)[1]}
END;

-- Whether a professional of that age band is 60 or over: NULL when the band straddles 60 or
-- cannot be read, as when there is none.
CREATE OR REPLACE MACRO aged_60_by_band(x) AS CASE
    WHEN age_band_bounds(x).low >= 60 THEN TRUE
    WHEN age_band_bounds(x).high < 60 THEN FALSE END;

-- A whole count: '12', '1 204', '12,0'; never '12,5'.
CREATE OR REPLACE MACRO parse_count(x) AS
    CASE WHEN parse_number(x) = floor(parse_number(x)) THEN CAST(parse_number(x) AS BIGINT) END;

-- A month's name, in full or as Excel abbreviates it ('févr.', 'juil.', 'déc.'), or as people
-- do ('fév.', 'juill.'): its number. An Excel set to English writes 'Jan-24', 'Feb-24': those
-- names are read too (none of them is another month's in French).
CREATE OR REPLACE MACRO month_of_name(word) AS coalesce(
    nullif(list_position(['janvier', 'fevrier', 'mars', 'avril', 'mai', 'juin', 'juillet',
                          'aout', 'septembre', 'octobre', 'novembre', 'decembre'],
                         normalize_label(word)), 0),
    nullif(list_position(['janv', 'fevr', 'mars', 'avr', 'mai', 'juin', 'juil', 'aout', 'sept',
                          'oct', 'nov', 'dec'], normalize_label(word)), 0),
    nullif(list_position(['janv', 'fev', 'mars', 'avr', 'mai', 'juin', 'juill', 'aout', 'sept',
                          'oct', 'nov', 'dec'], normalize_label(word)), 0),
    nullif(list_position(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct',
                          'nov', 'dec'], normalize_label(word)), 0),
    list_position(['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august',
                   'september', 'october', 'november', 'december'], normalize_label(word)));

-- A month written 2013-05, 2013/05, 2013-05-01, 05/2013, 05-2013, 01/05/2013, 01/05/13,
-- 201305, "mai 2013", "févr. 2013", "mai-2013", "mai-13", "mai 13" or "May-13" → its first day.
-- A date may carry the time that a database's export or a spreadsheet's date-and-time cell
-- writes after it ("2013-05-01 00:00:00", "01/05/2013 00:00"), with its time zone as an API's
-- JSON or an ISO export writes it ("2013-05-01T00:00:00Z", "2013-05-01T00:00:00.000+02:00").
-- the day before a month written in words ('15 mai 2013', '1er mai 2013') is dropped too
CREATE OR REPLACE MACRO month_text(x) AS
    regexp_replace(regexp_replace(trim(x),
                                  '[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$', ''),
                   '^\d{1,2}(er)?\s+([[:alpha:]])', '\2');
CREATE OR REPLACE MACRO parse_month(x) AS (
    CASE
        WHEN regexp_full_match(month_text(x), '\d{4}[-/.]\d{1,2}([-/.]\d{1,2})?') THEN
            try(make_date(CAST(left(month_text(x), 4) AS INT),
                          CAST(regexp_extract(month_text(x), '^\d{4}[-/.](\d{1,2})', 1) AS INT), 1))
        WHEN regexp_full_match(month_text(x), '(\d{1,2}[-/.])?\d{1,2}[-/.]\d{4}') THEN
            try(make_date(CAST(right(month_text(x), 4) AS INT),
                          CAST(regexp_extract(month_text(x), '(\d{1,2})[-/.]\d{4}$', 1) AS INT), 1))
        -- a short date as French spreadsheets write it, day first: '01/05/13' (2000 + the year)
        WHEN regexp_full_match(month_text(x), '\d{1,2}[-/.]\d{1,2}[-/.]\d{2}') THEN
            try(make_date(2000 + CAST(right(month_text(x), 2) AS INT),
                          CAST(regexp_extract(month_text(x), '[-/.](\d{1,2})[-/.]', 1) AS INT), 1))
        WHEN regexp_full_match(trim(x), '\d{6}') THEN
            try(make_date(CAST(left(trim(x), 4) AS INT), CAST(right(trim(x), 2) AS INT), 1))
        WHEN regexp_full_match(month_text(x), '[[:alpha:]éû\.]+(\s*|-)\d{4}')
             AND month_of_name(regexp_extract(month_text(x), '^([[:alpha:]éû\.]+)', 1)) > 0 THEN
            make_date(CAST(right(month_text(x), 4) AS INT),
                      month_of_name(regexp_extract(month_text(x), '^([[:alpha:]éû\.]+)', 1)), 1)
        -- a date cell in Excel's « mmm-aa » format, as a French export writes it: 'déc.-24' (or an
        -- English one: 'Dec-24'), or the same typed with a space ('déc. 24')
        WHEN regexp_full_match(trim(x), '[[:alpha:]éû\.]+(-|\s+)\d{2}')
             AND month_of_name(regexp_extract(trim(x), '^([[:alpha:]éû\.]+)', 1)) > 0 THEN
            make_date(2000 + CAST(right(trim(x), 2) AS INT),
                      month_of_name(regexp_extract(trim(x), '^([[:alpha:]éû\.]+)', 1)), 1)
        -- a date cell saved as CSV in a column formatted as a number: Excel's serial, days
        -- since 30 December 1899, the time of day as its fraction ('45292' is 1 January 2024),
        -- read from 1990 to 2049
        WHEN regexp_full_match(trim(x), '\d{5}([.,]\d+)?')
             AND CAST(left(trim(x), 5) AS INT) BETWEEN 32874 AND 54789 THEN
            date_trunc('month', DATE '1899-12-30' + CAST(left(trim(x), 5) AS INT))::DATE
    END
);

-- A quarter or a half-year as follow-up tables write it ('1er trimestre 2024', 'T1-2024',
-- '2024 T1', '2024T1', 'trimestre 1 2024', '2e semestre 2024', 'S2 2024') as 't1_2024' or
-- 's2_2024'.
CREATE OR REPLACE MACRO part_of_year_key(x) AS
    regexp_replace(regexp_replace(regexp_replace(normalize_label(x),
        '^(\d{4})_?([ts][1-4])$', '\2_\1'),
        '^([1-4])(?:er|re|ere|e|eme|nd|nde)?_(t|s)(?:rimestre|emestre)_(\d{4})$', '\2\1_\3'),
        '^(t|s)(?:rimestre|emestre)_([1-4])_(\d{4})$', '\1\2_\3');

-- A reporting period kept at its own grain: '2024', '2024-S1' (half-year), '2024-T1' (quarter)
-- or '2024-05' (month).
CREATE OR REPLACE MACRO parse_period(x) AS (
    CASE
        -- a year, or a year a float export wrote '2024.0'
        WHEN regexp_full_match(trim(x), '\d{4}([.,]0+)?') THEN left(trim(x), 4)
        -- 'Année 2024', 'exercice 2024': the year
        WHEN regexp_full_match(normalize_label(x), '(annee|exercice)_\d{4}') THEN
            right(normalize_label(x), 4)
        WHEN regexp_full_match(part_of_year_key(x), 't[1-4]_\d{4}|s[12]_\d{4}') THEN
            right(part_of_year_key(x), 4) || '-' || upper(left(part_of_year_key(x), 2))
        ELSE strftime(parse_month(x), '%Y-%m')
    END
);

-- Periods of any grain in time order: by the month they end, the shorter first ('2024-03',
-- '2024-T1', '2024-06', '2024-S1', '2024'); as text, '2024' came before '2024-T1'. Anything
-- else after them. dashboards/formatting.py sorts alike (period_order; a test holds them equal).
CREATE OR REPLACE MACRO period_order(p) AS CASE
    WHEN regexp_full_match(p, '\d{4}') THEN [CAST(p AS INT), 12, 12]
    WHEN regexp_full_match(p, '\d{4}-[ST][1-4]') THEN
        [CAST(left(p, 4) AS INT),
         CAST(right(p, 1) AS INT) * CASE WHEN p[6] = 'T' THEN 3 ELSE 6 END,
         CASE WHEN p[6] = 'T' THEN 3 ELSE 6 END]
    WHEN regexp_full_match(p, '\d{4}-(0[1-9]|1[0-2])') THEN
        [CAST(left(p, 4) AS INT), CAST(right(p, 2) AS INT), 1]
    ELSE [10000, 0, 0] END;

-- A total or a note a spreadsheet has below its table ('Total', 'Sous-total', 'Source : ARS…',
-- 'Note', 'Lecture', 'Champ'), or the title of a group of rows written alone on its line
-- ('Artois-Douaisis'): a line with no key, not a row of data. footer_of gives the cell
-- {c: column, v: value} of `cells` that reads as a total or a note when the others are empty or
-- numbers, else the line's only cell, NULL when there is none of either.
CREATE OR REPLACE MACRO footer_cell(x) AS
    regexp_matches(normalize_label(x),
                   '^(sous_)?(total|totaux|ensemble|source|sources|note|notes|lecture|champ)(_|$)');
CREATE OR REPLACE MACRO footer_of(cells) AS coalesce(
    -- the word, and numbers at most beside it: a project with no name whose comment starts
    -- with « Note » is still a project row, rejected
    CASE WHEN len(list_filter(cells, lambda cell: trim(cell.v) <> ''
                                              AND parse_number(cell.v) IS NULL)) = 1
         THEN list_filter(cells, lambda cell: footer_cell(cell.v))[1] END,
    CASE WHEN len(list_filter(cells, lambda cell: trim(cell.v) <> '')) = 1
         THEN list_filter(cells, lambda cell: trim(cell.v) <> '')[1] END);
-- The reason such a line is set aside with: the accepted_inputs check leaves these lines out of
-- the rejected rows' tolerance (pipelines/quality/checks.py).
CREATE OR REPLACE MACRO footer_reason() AS
    'ligne de titre, de total ou de note du tableau : ce n''est pas une donnée, écartée sans bloquer la nuit';

-- The reason for a row without a programme, an action, a criterion or a territory: a sheet
-- often merges such a cell over the rows it groups, and its CSV export keeps the value on the
-- first row alone (a workbook's merged cells are read whole: pipelines/sources/reader.py).
CREATE OR REPLACE MACRO missing_reason(what) AS
    what || ' : à renseigner sur chaque ligne (une cellule fusionnée sur plusieurs lignes du '
    || 'tableur n''a sa valeur que sur la première dans un export CSV : déposez plutôt le '
    || 'classeur .xlsx, ou répétez la valeur)';

-- A cell that says its answer is not known (yet): empty, « NC », « N/A », « ? », « - »,
-- « à venir », « à préciser »… A pattern, not an IN list: DuckDB makes a list this long a join,
-- which labels every row of the table, where the checks of staging/activity.sql label only the
-- rare counts that are not numbers (3 s of a national night for the five counts).
CREATE OR REPLACE MACRO not_known(x) AS
    regexp_full_match(coalesce(normalize_label(x), ''),
        '|nc|nd|n_c|n_d|na|n_a|non_renseigne|non_communique|non_disponible|non_connu|inconnu'
        || '|a_venir|a_preciser|a_completer|a_verifier|ne_sait_pas|nsp|sans_objet|s_o');

-- An optional count of the activity (consultations, visits, patients…) that says it is not
-- known (« NC », « n.d. », « ? ») is read as an empty cell, as the census's yes/no columns and the
-- follow-up values are. A dash is not: French statistical tables write it for zero as often
-- as for unknown, and either reading would bias the ratios built on the count.
CREATE OR REPLACE MACRO dash_only(x) AS regexp_full_match(trim(x), '[-\x{2013}\x{2014}]+');
CREATE OR REPLACE MACRO unknown_count(x) AS not_known(x) AND NOT dash_only(x);

-- Why such a count rejects its row.
CREATE OR REPLACE MACRO count_reason(what, x) AS
    CASE WHEN dash_only(x)
         THEN 'nombre de ' || what || ' « ' || trim(x) || ' » : un tiret peut vouloir dire zéro '
              || 'ou inconnu ; écrivez 0 si le nombre est nul, laissez la cellule vide ou écrivez '
              || '« NC » s''il n''est pas connu'
         ELSE 'nombre de ' || what || ' non entier ou négatif (laissez la cellule vide, ou '
              || 'écrivez « NC », quand le nombre n''est pas connu)' END;

-- Yes/no columns as ARS spreadsheets write them: a tick, « Oui (ZIP) » with its reason; NULL
-- where the cell says it is not known (« NC », « ? », « - »), as an empty cell does.
CREATE OR REPLACE MACRO parse_flag(x) AS
    CASE WHEN trim(x) IN ('✓', '✔') THEN TRUE
         WHEN not_known(x) THEN NULL
         WHEN normalize_label(x) IN ('oui', 'o', 'yes', 'y', 'vrai', 'true', '1', 'x')
              OR starts_with(normalize_label(x), 'oui_') THEN TRUE
         WHEN normalize_label(x) IN ('non', 'n', 'no', 'faux', 'false', '0', 'non_concerne')
              OR starts_with(normalize_label(x), 'non_') THEN FALSE END;
