"""A small published warehouse with the schema the dashboards read, built by hand.

The census figures are seed 002's (ARS Nord-Pas-de-Calais, May 2013, fiche 6); the densities and
follow-up values are made up for the tests. Two census cells are suppressed (as if the count
threshold were 2) and one EPCI density is suppressed, so that every page has a hidden cell.
"""

from datetime import datetime
from pathlib import Path

import duckdb

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
REGION = ("32", "Nord-Pas-de-Calais")
CENSUS_PERIOD = "2013-05"

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
        value = numerator = None
        ci = (None, None)
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
    region_total = sum(sum(stages.values()) for stages in SEED_002_STAGE_COUNTS.values())
    for index, (territory, stages) in enumerate(SEED_002_STAGE_COUNTS.items(), start=1):
        code = f"TS{index}"
        total = sum(stages.values())
        rows.append(_indicator_row("projets_nombre", "territoire_sante", code, territory,
                                   CENSUS_PERIOD, "ensemble", "ensemble", total))
        rows.append(_indicator_row("projets_part_territoire", "territoire_sante", code,
                                   territory, CENSUS_PERIOD, "ensemble", "ensemble",
                                   100 * total / region_total, total, region_total,
                                   _wilson_percent(total, region_total), unit="%"))
        for stage, count in stages.items():
            hidden = (territory, stage) in SUPPRESSED_CENSUS_CELLS
            rows.append(_indicator_row("projets_nombre", "territoire_sante", code, territory,
                                       CENSUS_PERIOD, "stade", stage, count, suppressed=hidden))
            rows.append(_indicator_row("projets_part_stade", "territoire_sante", code,
                                       territory, CENSUS_PERIOD, "stade", stage,
                                       100 * count / total, count, total,
                                       _wilson_percent(count, total), suppressed=hidden,
                                       unit="%"))
            stage_total = sum(by_stage[stage] for by_stage in SEED_002_STAGE_COUNTS.values())
            rows.append(_indicator_row("projets_part_territoire", "territoire_sante", code,
                                       territory, CENSUS_PERIOD, "stade", stage,
                                       100 * count / stage_total, count, stage_total,
                                       _wilson_percent(count, stage_total), suppressed=hidden,
                                       unit="%"))
    rows.append(_indicator_row("projets_nombre", "region", *REGION, CENSUS_PERIOD, "ensemble",
                               "ensemble", region_total))
    for stage, _, _ in STAGES:
        count = sum(stages[stage] for stages in SEED_002_STAGE_COUNTS.values())
        rows.append(_indicator_row("projets_nombre", "region", *REGION, CENSUS_PERIOD, "stade",
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
]
POPULATION = {"75": 6_110_000, "47": 330_000, "24": 410_000, "244701389": 15_500,
              "244701405": 11_200, "FR": 68_400_000}
FRANCE_DENSITY = {"medecin_generaliste": 8.6, "infirmier": 18.0, "masseur_kinesitherapeute": 11.1}
DENSITY_UNIT = "pour 10 000 habitants"


def _density_rows() -> list[tuple]:
    rows = []
    values = {(code, p): v for _, code, _, _, _, by in DENSITY_TERRITORIES for p, v in by.items()}
    values.update({("FR", p): v for p, v in FRANCE_DENSITY.items()})
    for period, drift in (("2023", 0.97), ("2024", 1.0)):
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
    return rows


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


def _status(value, target) -> tuple[float | None, str]:
    if target is None:
        return None, "sans cible"
    rate = 100 * value / target
    return rate, "atteint" if rate >= 100 else "en bonne voie" if rate >= 60 else "en retard"


def make_fixture_warehouse(path: Path, demo_activity: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA marts")
        con.execute(f"CREATE TABLE marts.indicator_values ({INDICATOR_COLUMNS})")
        con.executemany(f"INSERT INTO marts.indicator_values VALUES ({', '.join(['?'] * 18)})",
                        _census_rows() + _density_rows() + _followup_indicator_rows())
        _create_catalogue(con)
        _create_labels(con)
        _create_census_projects(con)
        _create_followup(con)
        con.execute("CREATE TABLE marts.publication (published_at TIMESTAMP, night_id VARCHAR, "
                    "demo_activity BOOLEAN)")
        con.execute("INSERT INTO marts.publication VALUES (?, ?, ?)",
                    [datetime(2026, 11, 14, 2, 17), "night-20261114", demo_activity])
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return path


def _followup_indicator_rows() -> list[tuple]:
    rows = []
    for programme, _, _, _, criterion, period, value, target, unit, _ in FOLLOWUP_ROWS:
        rate, _ = _status(value, target)
        rows.append(_indicator_row("suivi_valeur", "programme", programme, programme, period,
                                   "critere", criterion, value, unit=unit))
        if rate is not None:
            rows.append(_indicator_row("suivi_taux_realisation", "programme", programme,
                                       programme, period, "critere", criterion, rate, value,
                                       target, unit="%"))
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
]


def _create_catalogue(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE marts.indicator_catalogue (indicator_id VARCHAR, label VARCHAR, "
                "definition VARCHAR, numerator VARCHAR, denominator VARCHAR, unit VARCHAR, "
                "source VARCHAR, geo_levels VARCHAR, polarity VARCHAR, "
                "suppression_rule VARCHAR, seed_reference VARCHAR)")
    con.executemany(f"INSERT INTO marts.indicator_catalogue VALUES ({', '.join(['?'] * 11)})",
                    CATALOGUE)


def _create_labels(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE marts.category_labels (dimension VARCHAR, category VARCHAR, "
                "label VARCHAR, sort_order INTEGER)")
    rows = [("stade", *stage) for stage in STAGES]
    rows += [("profession", *profession) for profession in PROFESSIONS]
    rows.append(("ensemble", "ensemble", "Ensemble", 0))
    con.executemany("INSERT INTO marts.category_labels VALUES (?, ?, ?, ?)", rows)


def _create_census_projects(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE marts.census_projects (census_date VARCHAR, region VARCHAR, "
                "territory VARCHAR, project_name VARCHAR, structure_type VARCHAR, "
                "stage_code VARCHAR, stage_label VARCHAR, stage_order INTEGER, "
                "commune_codes VARCHAR, commune_names VARCHAR, nmr_modules VARCHAR, "
                "resolution_status VARCHAR)")
    projects = [
        ("Artois-Douaisis", "Aniche", "MSP", "fonctionnement", "59008", "Aniche", "1, 2"),
        ("Artois-Douaisis", "Frévent", "MSP", "conception", "62361", "Frévent", None),
        ("Hainaut-Cambrésis", "Maubeuge", "PSP", "fonctionnement", "59392", "Maubeuge",
         "1, 2"),
        ("Littoral", "Outreau", "MSP", "operationnalisation", "62643", "Outreau", None),
        ("Métropole-Flandre intérieure", "Lille Moulins", "PSP", "fonctionnement", "59350",
         "Lille", "1, 2"),
    ]
    stage_labels = {code: (label, order) for code, label, order in STAGES}
    con.executemany(
        f"INSERT INTO marts.census_projects VALUES ({', '.join(['?'] * 12)})",
        [("2013-05-01", REGION[1], territory, name, kind, stage, *stage_labels[stage], codes,
          communes, modules, "résolu") for territory, name, kind, stage, codes, communes, modules
         in projects])


def _create_followup(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TABLE marts.followup_criteria (programme VARCHAR, territory VARCHAR, "
                "axis VARCHAR, action VARCHAR, criterion VARCHAR, period VARCHAR, value DOUBLE, "
                "target DOUBLE, unit VARCHAR, achievement_rate DOUBLE, status VARCHAR, "
                "value_nature VARCHAR)")
    rows = []
    for programme, territory, axis, action, criterion, period, value, target, unit, nature in (
        FOLLOWUP_ROWS
    ):
        rate, status = _status(value, target)
        rows.append((programme, territory, axis, action, criterion, period, value, target, unit,
                     rate, status, nature))
    con.executemany(f"INSERT INTO marts.followup_criteria VALUES ({', '.join(['?'] * 12)})",
                    rows)
