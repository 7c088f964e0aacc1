"""A small published warehouse with the schema the dashboards read, built by hand.

The May 2013 census figures are seed 002's (ARS Nord-Pas-de-Calais, fiche 6); an earlier census
(November 2012), the densities, the follow-up values, the checks and the rejects are made up for
the tests. Two census cells and one EPCI density are suppressed, so that every page has a hidden
cell; a suppressed row keeps a sentinel number (SENTINEL) in its value, numerator and CI columns,
as a mart that flags without blanking would, so that a test can prove no page ever shows it.
"""

from datetime import datetime
from pathlib import Path

import duckdb

SENTINEL = 4242.0
SEED_002_STAGE_COUNTS = {
    "Artois-Douaisis": {"fonctionnement": 5, "operationnalisation": 4, "conception": 3,
                        "reflexion": 7},
    "Hainaut-Cambrésis": {"fonctionnement": 3, "operationnalisation": 4, "conception": 2,
                          "reflexion": 6},
    "Métropole-Flandre intérieure": {"fonctionnement": 2, "operationnalisation": 1,
                                     "conception": 4, "reflexion": 3},
    "Littoral": {"fonctionnement": 2, "operationnalisation": 1, "conception": 3,
                 "reflexion": 3},
}
EARLIER_STAGE_COUNTS = {  # November 2012: fewer projects, less advanced
    "Artois-Douaisis": {"fonctionnement": 3, "operationnalisation": 3, "conception": 4,
                        "reflexion": 5},
    "Hainaut-Cambrésis": {"fonctionnement": 2, "operationnalisation": 3, "conception": 3,
                          "reflexion": 4},
    "Métropole-Flandre intérieure": {"fonctionnement": 2, "operationnalisation": 2,
                                     "conception": 2, "reflexion": 2},
    "Littoral": {"fonctionnement": 2, "operationnalisation": 2, "conception": 2,
                 "reflexion": 3},
}
HEALTH_TERRITORY_CODES = {"Artois-Douaisis": "artois_douaisis",
                          "Hainaut-Cambrésis": "hainaut_cambresis",
                          "Métropole-Flandre intérieure": "metropole_flandre_interieure",
                          "Littoral": "littoral"}
SUPPRESSED_CENSUS_CELLS = {
    ("Métropole-Flandre intérieure", "operationnalisation"),
    ("Littoral", "operationnalisation"),
}
STAGES = [
    ("reflexion", "En réflexion", 1),
    ("conception", "En conception", 2),
    ("operationnalisation", "En cours d'opérationnalisation", 3),
    ("fonctionnement", "En fonctionnement", 4),
]
PROFESSIONS = [
    ("medecin_generaliste", "Médecin généraliste", 1),
    ("infirmier", "Infirmier", 2),
    ("masseur_kinesitherapeute", "Masseur-kinésithérapeute", 3),
]
REGION = ("32", "Hauts-de-France")
CENSUS_PERIOD = "2013-05"
EARLIER_CENSUS = "2012-11"

INDICATOR_COLUMNS = """
    indicator_id VARCHAR, geo_level VARCHAR, geo_code VARCHAR, geo_name VARCHAR,
    period VARCHAR, dimension VARCHAR, category VARCHAR, value DOUBLE, numerator DOUBLE,
    denominator DOUBLE, ci_low DOUBLE, ci_high DOUBLE, reference_geo_level VARCHAR,
    reference_geo_code VARCHAR, reference_value DOUBLE, comparison_flag VARCHAR,
    suppressed BOOLEAN, unit VARCHAR
"""


def _indicator_row(indicator_id, geo_level, geo_code, geo_name, period, dimension, category,
                   value, numerator=None, denominator=None, ci=(None, None), reference=None,
                   flag=None, suppressed=False, unit="nombre"):
    ref_level, ref_code, ref_value = reference or (None, None, None)
    if suppressed:
        value = numerator = SENTINEL
        ci = (SENTINEL - 1, SENTINEL + 1)
    return (indicator_id, geo_level, geo_code, geo_name, period, dimension, category, value,
            numerator, denominator, ci[0], ci[1], ref_level, ref_code, ref_value, flag,
            suppressed, unit)


def _wilson_percent(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    share = successes / total
    centre = (share + z * z / (2 * total)) / (1 + z * z / total)
    half = z * ((share * (1 - share) / total + z * z / (4 * total * total)) ** 0.5)
    half /= 1 + z * z / total
    return 100 * (centre - half), 100 * (centre + half)


def _census_rows() -> list[tuple]:
    rows = []
    for period, counts in ((EARLIER_CENSUS, EARLIER_STAGE_COUNTS),
                           (CENSUS_PERIOD, SEED_002_STAGE_COUNTS)):
        rows += _census_period_rows(period, counts, hidden=SUPPRESSED_CENSUS_CELLS
                                    if period == CENSUS_PERIOD else set())
    return rows


def _census_period_rows(period: str, counts: dict, hidden: set) -> list[tuple]:
    rows = []
    region_total = sum(sum(stages.values()) for stages in counts.values())
    region_ref = ("region", REGION[0], None)
    for territory, stages in counts.items():
        code = HEALTH_TERRITORY_CODES[territory]
        total = sum(stages.values())
        rows.append(_indicator_row("projets_nombre", "territoire_sante", code, territory,
                                   period, "ensemble", "ensemble", total))
        if period == CENSUS_PERIOD:
            rows.append(_indicator_row("projets_part_territoire", "territoire_sante", code,
                                       territory, period, "ensemble", "ensemble",
                                       100 * total / region_total, total, region_total,
                                       _wilson_percent(total, region_total), region_ref,
                                       unit="%"))
        for stage, count in stages.items():
            masked = (territory, stage) in hidden
            rows.append(_indicator_row("projets_nombre", "territoire_sante", code, territory,
                                       period, "stade", stage, count, suppressed=masked))
            if period != CENSUS_PERIOD:
                continue
            rows.append(_indicator_row("projets_part_stade", "territoire_sante", code,
                                       territory, period, "stade", stage,
                                       100 * count / total, count, total,
                                       _wilson_percent(count, total), suppressed=masked,
                                       unit="%"))
            stage_total = sum(by_stage[stage] for by_stage in counts.values())
            rows.append(_indicator_row("projets_part_territoire", "territoire_sante", code,
                                       territory, period, "stade", stage,
                                       100 * count / stage_total, count, stage_total,
                                       _wilson_percent(count, stage_total), region_ref,
                                       suppressed=masked, unit="%"))
    rows.append(_indicator_row("projets_nombre", "region", *REGION, period, "ensemble",
                               "ensemble", region_total))
    for stage, _, _ in STAGES:
        count = sum(stages[stage] for stages in counts.values())
        rows.append(_indicator_row("projets_nombre", "region", *REGION, period, "stade",
                                   stage, count))
    return rows


DENSITY_TERRITORIES = [
    # geo_level, code, name, reference level, reference code, density by profession
    ("region", "75", "Nouvelle-Aquitaine", "france", "FR",
     {"medecin_generaliste": 9.1, "infirmier": 19.5, "masseur_kinesitherapeute": 12.0}),
    ("departement", "47", "Lot-et-Garonne", "region", "75",
     {"medecin_generaliste": 7.9, "infirmier": 21.3, "masseur_kinesitherapeute": 9.4}),
    ("departement", "24", "Dordogne", "region", "75",
     {"medecin_generaliste": 8.2, "infirmier": 20.1, "masseur_kinesitherapeute": 8.8}),
    ("epci", "244701389", "CC du Pays de Duras", "departement", "47",
     {"medecin_generaliste": 6.1, "infirmier": 18.4, "masseur_kinesitherapeute": None}),
    ("epci", "244701405", "CC du Pays de Lauzun", "departement", "47",
     {"medecin_generaliste": 5.4, "infirmier": 23.0, "masseur_kinesitherapeute": 7.2}),
    ("epci", "200040392", "CA Bergeracoise", "departement", "24",
     {"medecin_generaliste": 8.8, "infirmier": 19.9, "masseur_kinesitherapeute": 10.1}),
]
POPULATION = {"75": 6_110_000, "47": 330_000, "24": 410_000, "244701389": 15_500,
              "244701405": 11_200, "200040392": 59_000, "FR": 68_400_000}
FRANCE_DENSITY = {"medecin_generaliste": 8.6, "infirmier": 18.0, "masseur_kinesitherapeute": 11.1}
DENSITY_UNIT = "pour 10 000 habitants"
DENSITY_PERIODS = (("2023", 0.97), ("2024", 1.0))


def density_value(code: str, profession: str, period: str) -> float | None:
    """The density the fixture publishes (None when it is masked)."""
    by_profession = next(by for _, c, _, _, _, by in DENSITY_TERRITORIES if c == code)
    drift = dict(DENSITY_PERIODS)[period]
    density = by_profession[profession]
    return None if density is None else density * drift


def _density_rows() -> list[tuple]:
    rows = []
    values = {(code, p): v for _, code, _, _, _, by in DENSITY_TERRITORIES for p, v in by.items()}
    values.update({("FR", p): v for p, v in FRANCE_DENSITY.items()})
    for period, drift in DENSITY_PERIODS:
        for level, code, name, ref_level, ref_code, by_profession in DENSITY_TERRITORIES:
            for profession, density in by_profession.items():
                reference = ref_level, ref_code, values[(ref_code, profession)] * drift
                if density is None:
                    rows.append(_indicator_row("densite_professionnels", level, code, name,
                                               period, "profession", profession, None,
                                               denominator=POPULATION[code],
                                               reference=reference, flag="non comparable",
                                               suppressed=True, unit=DENSITY_UNIT))
                    continue
                value = density * drift
                half_width = 1.96 * (value / (POPULATION[code] / 10_000)) ** 0.5
                ci = (value - half_width, value + half_width)
                flag = ("similaire" if ci[0] <= reference[2] <= ci[1]
                        else "meilleur" if value > reference[2] else "moins bon")
                rows.append(_indicator_row(
                    "densite_professionnels", level, code, name, period, "profession",
                    profession, value, round(value * POPULATION[code] / 10_000),
                    POPULATION[code], ci, reference, flag, unit=DENSITY_UNIT))
            total = sum(v for v in by_profession.values() if v is not None) * drift
            rows.append(_indicator_row("densite_professionnels", level, code, name, period,
                                       "ensemble", "ensemble", total,
                                       round(total * POPULATION[code] / 10_000),
                                       POPULATION[code], (total * 0.95, total * 1.05),
                                       flag="non comparable", unit=DENSITY_UNIT))
    return rows


ACCESSIBILITY_COMMUNES = [
    # commune code, name, APL (consultations per inhabitant per year), suppressed
    ("47086", "Duras", 2.1, False),
    ("47143", "Lauzun", 1.4, False),
    ("47001", "Agmé", None, True),
    ("24037", "Bergerac", 3.6, False),
]


def _accessibility_rows() -> list[tuple]:
    return [_indicator_row("apl_medecins", "commune", code, name, "2024", "ensemble",
                           "ensemble", value, ci=(value - 0.3, value + 0.3) if value else
                           (None, None), reference=("departement", code[:2], 2.9),
                           flag="non comparable", suppressed=masked,
                           unit="consultations par habitant et par an")
            for code, name, value, masked in ACCESSIBILITY_COMMUNES]


FOLLOWUP_ROWS = [
    # programme, territory, axis, action, criterion, period, value, target, unit, nature
    ("CLS du Pays Ruffécois", "PETR du Pays Ruffécois", "Accès aux soins",
     "Action 2 : exercices regroupés", "Nombre de sites en projets ou opérationnels", "2023",
     5, 6, "sites", "observée"),
    ("CLS du Pays Ruffécois", "PETR du Pays Ruffécois", "Accès aux soins",
     "Action 2 : exercices regroupés", "Nombre de sites en projets ou opérationnels", "2024",
     6, 6, "sites", "observée"),
    ("CLS du Pays Ruffécois", "PETR du Pays Ruffécois", "Accès aux soins",
     "Action 2 : exercices regroupés", "Nombre d'installations de professionnels de santé",
     "2023", 2, 6, "installations", "illustrative"),
    ("CLS du Pays Ruffécois", "PETR du Pays Ruffécois", "Accès aux soins",
     "Action 2 : exercices regroupés", "Nombre d'installations de professionnels de santé",
     "2024", 3, 6, "installations", "illustrative"),
    ("CLS du Pays Ruffécois", "PETR du Pays Ruffécois", "Accès aux soins",
     "Action 2 : exercices regroupés", "Nombre de départs remplacés", "2024", 1, None,
     "départs", "illustrative"),
    ("Pôle de santé Duras-Lauzun", "CC du Pays de Duras, CC du Pays de Lauzun",
     "Attractivité", "Action 1 : accueil des remplaçants", "Nombre de remplaçants accueillis",
     "2024", 4, 5, "remplaçants", "illustrative"),
]
PROGRAMME_CODES = {"CLS du Pays Ruffécois": "cls_du_pays_ruffecois",
                   "Pôle de santé Duras-Lauzun": "pole_de_sante_duras_lauzun"}


def _status(value, target) -> tuple[float | None, str]:
    if target is None:
        return None, "sans cible"
    rate = 100 * value / target
    return rate, "atteint" if rate >= 100 else "en bonne voie" if rate >= 60 else "en retard"


def make_fixture_warehouse(path: Path, demo_activity: bool = True,
                           with_accessibility: bool = False,
                           night: tuple[str, datetime] = ("night-20261114",
                                                          datetime(2026, 11, 14, 2, 17)),
                           density_shift: float = 0.0) -> Path:
    """`density_shift` adds to every published density: a later night whose figures moved."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        for schema in ("marts", "ref", "audit", "raw"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute(f"CREATE TABLE marts.indicator_values ({INDICATOR_COLUMNS})")
        rows = (_census_rows() + _density_rows() + _followup_indicator_rows()
                + _generic_rows())
        rows += _accessibility_rows() if with_accessibility else []
        con.executemany(f"INSERT INTO marts.indicator_values VALUES ({', '.join(['?'] * 18)})",
                        rows)
        con.execute("UPDATE marts.indicator_values SET value = value + ? "
                    "WHERE indicator_id = 'densite_professionnels' AND NOT suppressed",
                    [density_shift])
        _create_catalogue(con)
        _create_labels(con)
        _create_census_projects(con)
        _create_followup(con)
        _create_reference(con)
        _create_audit(con, night[0])
        con.execute("CREATE TABLE marts.publication (published_at TIMESTAMP, night_id VARCHAR, "
                    "demo_activity BOOLEAN)")
        con.execute("INSERT INTO marts.publication VALUES (?, ?, ?)",
                    [night[1], night[0], demo_activity])
        con.execute("COMMENT ON TABLE marts.indicator_values IS 'Valeurs des indicateurs, "
                    "une ligne par indicateur, territoire, période et catégorie.'")
        con.execute("COMMENT ON COLUMN marts.indicator_values.value IS 'Valeur de "
                    "l''indicateur, dans son unité ; vide quand elle est masquée.'")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


def _followup_indicator_rows() -> list[tuple]:
    rows = []
    for programme, _, _, _, criterion, period, value, target, unit, _ in FOLLOWUP_ROWS:
        rate, _ = _status(value, target)
        code = PROGRAMME_CODES[programme]
        rows.append(_indicator_row("suivi_valeur", "programme", code, programme, period,
                                   "critere", criterion, value, unit=unit))
        if rate is not None:
            rows.append(_indicator_row("suivi_taux_realisation", "programme", code,
                                       programme, period, "critere", criterion, rate, value,
                                       target, unit="%"))
    return rows


GENERIC_UNITS = {"part_medecins_60_ans": "%", "etp_pour_10000": "ETP pour 10 000 habitants",
                 "projets_population_couverte": "%", "suivi_installations": "installations"}
# A proportion: share of GPs aged 60 and over (numerator, denominator), Duras masked.
SHARE_60 = {("departement", "47", "Lot-et-Garonne"): (21, 70),
            ("departement", "24", "Dordogne"): (30, 95),
            ("region", "75", "Nouvelle-Aquitaine"): (1650, 5500),
            ("epci", "244701389", "CC du Pays de Duras"): None,
            ("epci", "244701405", "CC du Pays de Lauzun"): (7, 12)}
# A rate with two periods and two categories: FTE per 10,000 inhabitants.
FTE_RATE = {("departement", "47", "Lot-et-Garonne"): {"medecin_generaliste": 7.1,
                                                      "infirmier": 15.2},
            ("departement", "24", "Dordogne"): {"medecin_generaliste": 7.6, "infirmier": 14.8},
            ("epci", "244701389", "CC du Pays de Duras"): {"medecin_generaliste": 5.2,
                                                           "infirmier": 12.9}}
FTE_PERIODS = {"2023": 0.95, "2024": 1.0}
# Masked cells: population covered by an operating MSP/PSP, Littoral masked.
COVERAGE = {"artois_douaisis": ("Artois-Douaisis", 21.5), "littoral": ("Littoral", None),
            "hainaut_cambresis": ("Hainaut-Cambrésis", 14.0)}
# The CLS-vs-observed cross-check: installations the CLS reports and those the activity shows.
INSTALLATIONS = {"declarees": ("Déclarées par le programme", 3),
                 "observees": ("Observées dans l'activité", 2)}


def _generic_rows() -> list[tuple]:
    rows = []
    for (level, code, name), counts in SHARE_60.items():
        reference = (("departement", "47", 30.0) if level == "epci"
                     else ("region", "75", 30.0) if level == "departement" else None)
        if counts is None:
            rows.append(_indicator_row("part_medecins_60_ans", level, code, name, "2024",
                                       "ensemble", "ensemble", None, reference=reference,
                                       flag="non comparable", suppressed=True, unit="%"))
            continue
        older, doctors = counts
        rows.append(_indicator_row("part_medecins_60_ans", level, code, name, "2024",
                                   "ensemble", "ensemble", 100 * older / doctors, older,
                                   doctors, _wilson_percent(older, doctors), reference,
                                   "similaire", unit="%"))
    for period, drift in FTE_PERIODS.items():
        for (level, code, name), by_profession in FTE_RATE.items():
            for profession, rate in by_profession.items():
                value = rate * drift
                rows.append(_indicator_row(
                    "etp_pour_10000", level, code, name, period, "profession", profession,
                    value, value * POPULATION[code] / 10_000, POPULATION[code],
                    (value * 0.9, value * 1.1), ("region", "75", 7.0), "meilleur"
                    if value * 0.9 > 7.0 else "moins bon" if value * 1.1 < 7.0
                    else "similaire", unit=GENERIC_UNITS["etp_pour_10000"]))
    for code, (name, share) in COVERAGE.items():
        rows.append(_indicator_row("projets_population_couverte", "territoire_sante", code,
                                   name, CENSUS_PERIOD, "ensemble", "ensemble", share,
                                   suppressed=share is None, unit="%"))
    for category, (_, count) in INSTALLATIONS.items():
        rows.append(_indicator_row("suivi_installations", "programme", "cls_du_pays_ruffecois",
                                   "CLS du Pays Ruffécois", "2024", "source", category, count,
                                   unit="installations"))
    return rows


CATALOGUE = [
    ("projets_nombre", "Nombre de projets de maisons et pôles de santé",
     "Projets recensés par l'ARS, en fonctionnement ou en projet, à la date du recensement.",
     "Projets recensés", None, "nombre", "Recensement régional des projets (ARS)",
     "territoire_sante, region", "neutral", "Effectif inférieur à 2 : masqué",
     "Seed 002, fiches 4 et 6"),
    ("projets_part_stade", "Part des projets à chaque stade",
     "Part des projets d'un territoire qui sont à un stade donné.", "Projets au stade",
     "Projets du territoire", "%", "Recensement régional des projets (ARS)",
     "territoire_sante", "neutral", "Effectif inférieur à 2 : masqué", "Seed 002, fiche 6"),
    ("projets_part_territoire", "Part des projets de la région dans chaque territoire",
     "Part des projets de la région situés dans le territoire de santé.",
     "Projets du territoire", "Projets de la région", "%",
     "Recensement régional des projets (ARS)", "territoire_sante", "neutral",
     "Effectif inférieur à 2 : masqué", "Seed 002, fiche 4"),
    ("densite_professionnels", "Densité de professionnels de santé",
     "Professionnels en exercice pour 10 000 habitants.", "Professionnels en exercice",
     "Population municipale", DENSITY_UNIT, "Statistiques d'activité (synthétiques) ; INSEE",
     "epci, departement, region", "higher_is_better",
     "Moins de 5 professionnels : masqué", "Seed 000, observatoire local"),
    ("suivi_valeur", "Valeur d'un critère de suivi", "Valeur déclarée pour la période.",
     "Valeur déclarée", None, "selon le critère", "Fichiers de suivi des programmes",
     "programme", "neutral", "Aucune", "Seed 004, critères de suivi"),
    ("suivi_taux_realisation", "Taux de réalisation d'un critère",
     "Valeur rapportée à la cible du critère.", "Valeur déclarée", "Cible", "%",
     "Fichiers de suivi des programmes", "programme", "higher_is_better", "Aucune",
     "Seed 004, critères de suivi"),
    ("part_medecins_60_ans", "Part des médecins généralistes de 60 ans ou plus",
     "Médecins généralistes de 60 ans ou plus parmi les médecins généralistes en exercice.",
     "Médecins de 60 ans ou plus", "Médecins généralistes", "%", "Statistiques d'activité",
     "epci, departement, region", "lower_is_better", "Moins de 11 professionnels : masqué",
     "Seed 001"),
    ("etp_pour_10000", "Équivalents temps plein pour 10 000 habitants",
     "Somme des ETP des professionnels rapportée à la population.", "ETP",
     "Population municipale", GENERIC_UNITS["etp_pour_10000"], "Statistiques d'activité",
     "epci, departement", "higher_is_better", "Moins de 11 professionnels : masqué",
     "Seed 000"),
    ("projets_population_couverte", "Population couverte par une MSP ou un PSP en "
     "fonctionnement", "Population des communes couvertes rapportée à celle du territoire.",
     "Population couverte", "Population du territoire", "%", "Recensement régional",
     "territoire_sante", "higher_is_better", "Moins de 5 projets : masqué", "Seed 002"),
    ("suivi_installations", "Installations déclarées par le CLS et observées",
     "Installations que le programme déclare, et celles que l'activité montre.",
     "Installations", None, "installations", "Suivi des programmes ; activité", "programme",
     "neutral", "Aucune", "Seed 004"),
    ("apl_medecins", "Accessibilité potentielle localisée aux médecins généralistes",
     "Consultations accessibles par habitant et par an (2SFCA).", "Consultations accessibles",
     "Population", "consultations par habitant et par an", "Activité ; La Poste",
     "commune", "higher_is_better", "Moins de 11 professionnels : masqué", "Seed 000"),
]
THEMES = {"projets_nombre": "projets", "projets_part_stade": "projets",
          "projets_part_territoire": "projets", "densite_professionnels": "offre",
          "suivi_valeur": "suivi", "suivi_taux_realisation": "suivi",
          "part_medecins_60_ans": "offre", "etp_pour_10000": "offre",
          "projets_population_couverte": "projets", "suivi_installations": "suivi",
          "apl_medecins": "accessibilite"}
DETAILS = {"apl_medecins": '{"requires": "commune_centroids", "detour_factor": 1.3}',
           "suivi_installations": '{"status_rule": "écart de plus de 1 : à vérifier"}'}


def _create_catalogue(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE marts.indicator_catalogue (indicator_id VARCHAR, label VARCHAR, "
                "definition VARCHAR, numerator VARCHAR, denominator VARCHAR, unit VARCHAR, "
                "source VARCHAR, geo_levels VARCHAR, polarity VARCHAR, "
                "suppression_rule VARCHAR, seed_reference VARCHAR, theme VARCHAR, "
                "details VARCHAR)")
    con.executemany(f"INSERT INTO marts.indicator_catalogue VALUES ({', '.join(['?'] * 13)})",
                    [(*entry, THEMES[entry[0]], DETAILS.get(entry[0], "{}"))
                     for entry in CATALOGUE])


def _create_labels(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE marts.category_labels (dimension VARCHAR, category VARCHAR, "
                "label VARCHAR, sort_order INTEGER)")
    rows = [("stade", *stage) for stage in STAGES]
    rows += [("profession", *profession) for profession in PROFESSIONS]
    rows += [("source", code, label, order)
             for order, (code, (label, _)) in enumerate(INSTALLATIONS.items(), start=1)]
    rows.append(("ensemble", "ensemble", "Ensemble", 0))
    con.executemany("INSERT INTO marts.category_labels VALUES (?, ?, ?, ?)", rows)


PROJECTS = [
    # census date, territory, name, type, stage, commune codes, commune names, NMR modules
    (CENSUS_PERIOD, "Artois-Douaisis", "Aniche", "MSP", "fonctionnement", "59008", "Aniche",
     "1, 2"),
    (CENSUS_PERIOD, "Artois-Douaisis", "Frévent", "MSP", "conception", "62361", "Frévent",
     None),
    (CENSUS_PERIOD, "Hainaut-Cambrésis", "Maubeuge", "PSP", "fonctionnement", "59392",
     "Maubeuge", "1, 2"),
    (CENSUS_PERIOD, "Littoral", "Outreau", "MSP", "operationnalisation", "62643", "Outreau",
     None),
    (CENSUS_PERIOD, "Métropole-Flandre intérieure", "Lille Moulins", "PSP", "fonctionnement",
     "59350", "Lille", "1, 2"),
    (EARLIER_CENSUS, "Artois-Douaisis", "Aniche", "MSP", "operationnalisation", "59008",
     "Aniche", None),
]


def _create_census_projects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE marts.census_projects (census_date VARCHAR, region VARCHAR, "
                "territory VARCHAR, project_name VARCHAR, structure_type VARCHAR, "
                "stage_code VARCHAR, stage_label VARCHAR, stage_order INTEGER, "
                "commune_codes VARCHAR, commune_names VARCHAR, nmr_modules VARCHAR, "
                "resolution_status VARCHAR)")
    stage_labels = {code: (label, order) for code, label, order in STAGES}
    con.executemany(
        f"INSERT INTO marts.census_projects VALUES ({', '.join(['?'] * 12)})",
        [(date, REGION[1], territory, name, kind, stage, *stage_labels[stage], codes, communes,
          modules, "résolu")
         for date, territory, name, kind, stage, codes, communes, modules in PROJECTS])


def _create_followup(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE marts.followup_criteria (programme VARCHAR, territory VARCHAR, "
                "axis VARCHAR, action VARCHAR, criterion VARCHAR, period VARCHAR, value DOUBLE, "
                "target DOUBLE, target_direction VARCHAR, milestone VARCHAR, "
                "target_milestone VARCHAR, unit VARCHAR, "
                "achievement_rate DOUBLE, status VARCHAR, value_nature VARCHAR)")
    rows = []
    for programme, territory, axis, action, criterion, period, value, target, unit, nature in (
        FOLLOWUP_ROWS
    ):
        rate, status = _status(value, target)
        rows.append((programme, territory, axis, action, criterion, period, value, target,
                     "au moins" if target is not None else None, None, None, unit, rate,
                     status, nature))
    con.executemany(f"INSERT INTO marts.followup_criteria VALUES ({', '.join(['?'] * 15)})",
                    rows)


COMMUNES = [
    # code, name, département, région, EPCI, population
    ("59008", "Aniche", "59", "32", "200044618", 10_000),
    ("59392", "Maubeuge", "59", "32", "200043396", 29_000),
    ("59350", "Lille", "59", "32", "200093201", 236_000),
    ("62361", "Frévent", "62", "32", "200035442", 3_500),
    ("62643", "Outreau", "62", "32", "246200364", 13_500),
    ("47086", "Duras", "47", "75", "244701389", 1_400),
    ("47001", "Agmé", "47", "75", "244701389", 200),
    ("47143", "Lauzun", "47", "75", "244701405", 700),
    ("24037", "Bergerac", "24", "75", "200040392", 26_000),
]
EPCI = [
    ("200044618", "CC Cœur d'Ostrevent"), ("200043396", "CA Maubeuge Val de Sambre"),
    ("200093201", "Métropole Européenne de Lille"), ("200035442", "CC du Ternois"),
    ("246200364", "CA du Boulonnais"), ("244701389", "CC du Pays de Duras"),
    ("244701405", "CC du Pays de Lauzun"), ("200040392", "CA Bergeracoise"),
]


def _create_reference(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE ref.communes (commune_code VARCHAR, commune_name VARCHAR, "
                "department_code VARCHAR, region_code VARCHAR, epci_code VARCHAR, "
                "population BIGINT)")
    con.executemany("INSERT INTO ref.communes VALUES (?, ?, ?, ?, ?, ?)", COMMUNES)
    con.execute("CREATE TABLE ref.epci (epci_code VARCHAR, epci_name VARCHAR)")
    con.executemany("INSERT INTO ref.epci VALUES (?, ?)", EPCI)
    con.execute("CREATE TABLE ref.departements (department_code VARCHAR, "
                "department_name VARCHAR, region_code VARCHAR)")
    con.executemany("INSERT INTO ref.departements VALUES (?, ?, ?)",
                    [("59", "Nord", "32"), ("62", "Pas-de-Calais", "32"),
                     ("47", "Lot-et-Garonne", "75"), ("24", "Dordogne", "75")])
    con.execute("CREATE TABLE ref.regions (region_code VARCHAR, region_name VARCHAR)")
    con.executemany("INSERT INTO ref.regions VALUES (?, ?)",
                    [("32", "Hauts-de-France"), ("75", "Nouvelle-Aquitaine")])


PREVIOUS_NIGHT = ("night-20261113", datetime(2026, 11, 13, 2, 14))
REJECTED_ROWS = [
    ("staging.activity", "activity/activite_2024-03.csv", 118, "etp", "1,8",
     "ETP supérieur à 1,5 pour un professionnel et un mois"),
    ("staging.census", "census/recensement_2013-05.xlsx", 12, "stade", "en cours",
     "Stade inconnu : réflexion, conception, opérationnalisation ou fonctionnement"),
]


def _create_audit(con: duckdb.DuckDBPyConnection, night_id: str) -> None:
    con.execute("CREATE TABLE audit.validation_results (night_id VARCHAR, checked_at TIMESTAMP, "
                "table_name VARCHAR, check_name VARCHAR, expectation VARCHAR, "
                "column_name VARCHAR, severity VARCHAR, success BOOLEAN, observed_value VARCHAR, "
                "unexpected_count BIGINT, unexpected_sample VARCHAR)")
    checks = [
        ("staging.activity", "great_expectations", "expect_column_values_to_not_be_null",
         "period_month", "ERROR"),
        ("staging.activity", "great_expectations", "expect_column_values_to_be_between",
         "acts", "WARN"),
        ("staging.census", "great_expectations", "expect_column_values_to_be_in_set",
         "stage_code", "ERROR"),
        ("staging.census", "unresolved_communes", "place_names_resolved", "communes", "WARN"),
    ]
    rows = []
    for night, moment in (PREVIOUS_NIGHT, (night_id, datetime(2026, 11, 14, 2, 15))):
        for table, check, expectation, column, severity in checks:
            failed = night == night_id and column in ("acts", "communes")
            rows.append((night, moment, table, check, expectation, column, severity, not failed,
                         None, 3 if failed else 0,
                         '["2150", "2210", "2400"]' if failed else "[]"))
    con.executemany("INSERT INTO audit.validation_results VALUES "
                    f"({', '.join(['?'] * 11)})", rows)
    con.execute("CREATE TABLE audit.rejected_rows (table_name VARCHAR, source_file VARCHAR, "
                "source_row BIGINT, column_name VARCHAR, value VARCHAR, reason VARCHAR, "
                "load_id VARCHAR)")
    con.executemany("INSERT INTO audit.rejected_rows VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(*row, PREVIOUS_NIGHT[0]) for row in REJECTED_ROWS])
    con.execute("CREATE TABLE audit.unresolved_communes (table_name VARCHAR, "
                "source_file VARCHAR, source_row BIGINT, column_name VARCHAR, value VARCHAR, "
                "region_code VARCHAR, status VARCHAR, candidates VARCHAR, fix VARCHAR)")
    con.execute("INSERT INTO audit.unresolved_communes VALUES ('staging.census', "
                "'census/recensement_2013-05.xlsx', 31, 'communes', 'Saint-Amand', '32', "
                "'ambiguous', 'Saint-Amand-les-Eaux (59526), Saint-Amand (62738)', "
                "'Écrire le nom complet ou le code INSEE')")
    con.execute("CREATE TABLE raw.loaded_files (family VARCHAR, source_file VARCHAR, "
                "sha256 VARCHAR, load_id VARCHAR, loaded_at TIMESTAMP, row_count BIGINT, "
                "status VARCHAR, message VARCHAR)")
    con.executemany("INSERT INTO raw.loaded_files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
        ("census", "census/recensement_2013-05.xlsx", "a" * 64, PREVIOUS_NIGHT[0],
         PREVIOUS_NIGHT[1], 53, "chargé", None),
        ("activity", "activity/activite_2024-03.csv", "b" * 64, PREVIOUS_NIGHT[0],
         PREVIOUS_NIGHT[1], 20_000, "chargé", None),
        ("followup", "followup/criteres_suivi.csv", "c" * 64, night_id,
         datetime(2026, 11, 14, 2, 10), 6, "chargé", None),
        ("activity", "activity/activite_2024-13.csv", "d" * 64, night_id,
         datetime(2026, 11, 14, 2, 11), 0, "refusé",
         "Période 2024-13 invalide ligne 2, colonne periode : attendu AAAA-MM"),
    ])
