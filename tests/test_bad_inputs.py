"""The files observatories really receive, one defect each, dropped together into one night.

Each case is asserted on its own: a French message naming the file (and the line and column
where there is one), no valid row lost (data rows in = staged + rejected, per file), and the
previous night's published warehouse left byte for byte as it was.
"""

import shutil
from dataclasses import dataclass
from datetime import date

import duckdb
import pytest
from support import run_night

ACTIVITY_HEADER = ("periode;id_professionnel;profession;code_commune_exercice;structure;"
                   "annee_naissance;etp;nb_actes;nb_consultations;nb_visites;nb_patients;"
                   "nb_patients_medecin_traitant;nb_soins_non_programmes")
CENSUS_HEADER = ("date_recensement;region;territoire;nom_projet;type_structure;communes;stade;"
                 "zone_fragile;zus")
FOLLOWUP_HEADER = ("programme;territoire;axe;action;critere;periode;valeur;cible;unite;"
                   "nature_valeur;commentaire")


def activity_row(n: int, **change: str) -> str:
    row = {"periode": "2024-06", "id_professionnel": f"{19900000000 + n}",
           "profession": "Infirmier", "code_commune_exercice": "16015", "structure": "",
           "annee_naissance": "1980", "etp": "0,8", "nb_actes": "640", "nb_consultations": "",
           "nb_visites": "", "nb_patients": "120", "nb_patients_medecin_traitant": "",
           "nb_soins_non_programmes": ""}
    return ";".join({**row, **change}.values())


def census_row(n: int, **change: str) -> str:
    row = {"date_recensement": "2013-05", "region": "Nord-Pas-de-Calais",
           "territoire": "Littoral", "nom_projet": f"Projet du cas {n}", "type_structure": "MSP",
           "communes": "Wimereux", "stade": "En réflexion", "zone_fragile": "", "zus": ""}
    return ";".join({**row, **change}.values())


def followup_row(n: int, **change: str) -> str:
    row = {"programme": "Programme d'essai", "territoire": "CC du Pays de Duras",
           "axe": "Axe 1", "action": f"Action {n}", "critere": f"Critère {n}",
           "periode": "2024", "valeur": "3", "cible": "5", "unite": "nombre",
           "nature_valeur": "illustrative", "commentaire": ""}
    return ";".join({**row, **change}.values())


# action, criterion, values of 2022 to 2024 (the last not known yet), target, unit
ROADMAP = [("Action 1", "Stagiaires accueillis", ("2", "3", ""), "5", "stagiaires"),
           ("Action 2", "Réunions de groupe", ("4", "6,5", "NC"), "au moins 10", ""),
           ("Action 3", "Projet de santé rédigé", ("en cours", "réalisé", ""), "réalisé", "")]


@dataclass(frozen=True)
class Case:
    name: str
    family: str
    content: bytes
    outcome: str  # refused | rejected | malformed | accepted
    column: str | None = None
    message: str = ""
    suffix: str = ".csv"
    rows: int | None = None  # data rows, where a quoted value spans lines


def text(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def bad_activity(n: int, column: str, value: str, message: str) -> Case:
    return Case(f"activite_{column}_{n}", "activity",
                text(ACTIVITY_HEADER, activity_row(n), activity_row(n + 500, **{column: value})),
                "rejected", column, message)


def bad_census(n: int, column: str, value: str, message: str) -> Case:
    return Case(f"recensement_{column}_{n}", "census",
                text(CENSUS_HEADER, census_row(n), census_row(n + 500, **{column: value})),
                "rejected", column, message)


def bad_followup(n: int, column: str, value: str, message: str) -> Case:
    return Case(f"suivi_{column}_{n}", "followup",
                text(FOLLOWUP_HEADER, followup_row(n), followup_row(n + 500, **{column: value})),
                "rejected", column, message)


# how follow-up tables write their periods, and the grain each one is kept at
WRITTEN_PERIODS = {"1er trimestre 2024": "2024-T1", "T2-2024": "2024-T2", "2024 T3": "2024-T3",
                   "4ème trimestre 2024": "2024-T4", "1er semestre 2024": "2024-S1",
                   "S2 2024": "2024-S2", "janv. 2025": "2025-01", "févr. 2025": "2025-02",
                   "Année 2023": "2023", "exercice 2022": "2022", "trimestre 2 2025": "2025-T2",
                   "2025T3": "2025-T3",
                   # a year column a float export wrote
                   "2024.0": "2024"}

# June 2024 as other exports write a month: a database's date and time, a spreadsheet's
# date-and-time cell saved as CSV, the month's name or number beside a four-digit year
WRITTEN_MONTHS = ["2024-06-01 00:00:00", "2024-06-01T00:00:00", "01/06/2024 00:00", "juin-2024",
                  "06-2024", "2024/06",
                  # a day written before the month in words, dots, no space
                  "15 juin 2024", "1er juin 2024", "01.06.2024", "06.2024", "juin2024",
                  # a date cell saved in a column formatted as a number: Excel's serial
                  "45444", "45458.5"]

# months as people and other exports write them, and the month each is: abbreviations Excel
# does not make, a short date day first, an Excel month typed with a space, an ISO date and time
# with its time zone (an API's JSON, a database's export)
EXPORTED_MONTHS = {"fév. 2024": date(2024, 2, 1), "fev-24": date(2024, 2, 1),
                   "juill. 2024": date(2024, 7, 1), "juin 24": date(2024, 6, 1),
                   "01/06/24": date(2024, 6, 1), "01/06/24 00:00": date(2024, 6, 1),
                   "2024-06-01T00:00:00Z": date(2024, 6, 1),
                   "2024-06-01T00:00:00.000+02:00": date(2024, 6, 1)}

# time shares as an MSP's table types them in words or as a fraction, and the share staged
WORDED_FTE = {"4/5": 0.8, "4/5e": 0.8, "1/2 temps": 0.5, "Temps plein": 1.0, "Mi-temps": 0.5,
              "80 % ETP": 0.8}

# professions as MSP and CPTS exports word them, and the profession staged
WRITTEN_PROFESSIONS = {"Généraliste": "medecin_generaliste",
                       "Médecin généraliste remplaçant": "medecin_generaliste",
                       "IPA": "infirmier", "Infirmière Asalée": "infirmier",
                       "Puéricultrice": "infirmier"}

# how follow-up tables write a target, and what it is read as
# a step's state as roadmaps write it, then the state staged
# a follow-up value not known yet, as roadmaps write it
# age bands as exports write them → 60 or over (None: the band straddles 60, or says nothing)
WRITTEN_AGE_BANDS = {"60 ans et plus": True, "65 et +": True, "≥ 60": True, "plus de 59 ans": True,
                     "60-64 ans": True, "de 55 à 59 ans": False, "moins de 35 ans": False,
                     "< 60": False, "62": True, "55-64": None, "Tout âge": None}
# the activity's optional counts, and how exports say one is not known
OPTIONAL_COUNTS = ("nb_consultations", "nb_visites", "nb_patients", "nb_patients_medecin_traitant",
                   "nb_soins_non_programmes")
COUNTS_NOT_KNOWN = ["NC", "n.c.", "ND", "n.d.", "N/A", "?", "non communiqué", "Non renseigné"]
NOT_KNOWN_YET = ["", "NC", "n.d.", "à venir", "-", "N/A", "sans objet", "à préciser"]
WRITTEN_STEPS = {"Réalisé": "réalisé", "fait": "réalisé", "Oui": "réalisé",
                 "En cours": "en cours", "engagé": "en cours", "Non démarré": "non réalisé",
                 "non": "non réalisé", "Abandonné": "abandonné",
                 # postponed or waiting: not done; ticked, finalised: done; initiated: under way
                 "Reporté": "non réalisé", "En attente": "non réalisé", "✓": "réalisé",
                 "Finalisé": "réalisé", "initié": "en cours"}
# a value and a target typed with their unit, the unit column empty or not, and what is staged:
# (value, target, unit)
WRITTEN_WITH_UNITS = {("12 professionnels", "au moins 15 professionnels", ""):
                      (12.0, 15.0, "professionnels"),
                      ("1 200 €", "1 500 €", ""): (1200.0, 1500.0, "€"),
                      ("3 MSP", "5", "sites"): (3.0, 5.0, "sites"),
                      ("4", "≤ 2 départs", ""): (4.0, 2.0, "départs")}
WRITTEN_TARGETS = {"≥ 80 %": (80.0, "au moins"), "au moins 5": (5.0, "au moins"),
                   "> 4": (4.0, "au moins"), "≤ 2": (2.0, "au plus"),
                   "Au plus 3": (3.0, "au plus"), "maximum 0": (0.0, "au plus")}

# how other census files write the stages of seed 002
WRITTEN_STAGES = {"Projet émergent": "reflexion", "En cours d'élaboration": "conception",
                  "Projet de santé déposé": "operationnalisation",
                  "En travaux": "operationnalisation", "Fonctionnelle": "fonctionnement",
                  "En service": "fonctionnement", "Phase de conception": "conception",
                  "Émergent": "reflexion", "Projet déposé": "operationnalisation"}

WRITTEN_TYPES = {"MSP multisite": "MSP", "MSPU": "MSP", "Centre de santé polyvalent": "CDS",
                 "Centre municipal de santé": "CDS", "CDS associatif": "CDS"}
# a census's yes/no columns: with their reason, ticked, or said not known (the project was
# rejected « oui/non attendu », which blocked the night)
WRITTEN_FLAGS = {"Oui (ZIP)": True, "Non (hors zonage)": False, "✓": True, "NC": None,
                 "?": None, "-": None, "Non renseigné": None, "à préciser": None}

CASES = [
    # whole files refused: the contract is broken
    Case("encodage_inconnu", "activity",
         text(ACTIVITY_HEADER, activity_row(1)) + b"2024-06;19900000002;Infirmi\x81re\n",
         "refused", message="ni en UTF-8 ni en Windows-1252"),
    Case("separateur_inconnu", "activity",
         text(ACTIVITY_HEADER.replace(";", ":"), activity_row(3).replace(";", ":")),
         "refused", message="pas de ligne d'en-tête reconnaissable"),
    Case("colonne_obligatoire_absente", "activity",
         text(ACTIVITY_HEADER.replace(";etp;", ";"),
              activity_row(4).replace(";0,8;", ";")),
         "refused", "etp", "colonne obligatoire « etp »"),
    Case("entete_en_double", "activity",
         text(ACTIVITY_HEADER + ";profession", activity_row(5) + ";Infirmier"),
         "refused", "profession", "en-tête en double"),
    Case("fichier_vide", "activity", b"", "refused", message="est vide"),
    Case("classeur_corrompu", "census", b"PK\x03\x04" + bytes(range(256)) * 2, "refused",
         message="n'est pas un classeur XLSX lisible", suffix=".xlsx"),
    # an OLE2 container under .xlsx is what Excel writes for a password-protected workbook
    Case("classeur_protege", "census",
         b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "refused",
         message="n'est pas un classeur XLSX lisible", suffix=".xlsx"),
    Case("suivi_sans_valeur", "followup",
         text(FOLLOWUP_HEADER.replace(";valeur;", ";"),
              followup_row(6).replace(";3;5;", ";5;")),
         "refused", "valeur", "colonne obligatoire « valeur »"),
    # rows rejected, the rest of the file loads
    bad_activity(10, "periode", "2024-13", "période illisible"),
    bad_activity(11, "nb_actes", "-4", "nombre d'actes négatif"),
    bad_activity(12, "nb_actes", "douze", "nombre d'actes absent ou non entier"),
    bad_activity(13, "nb_actes", "12,5", "nombre d'actes absent ou non entier"),
    bad_activity(14, "profession", "Astrologue", "profession inconnue : l'observatoire suit "
                 "Médecin généraliste, Infirmier, Masseur-kinésithérapeute"),
    bad_activity(27, "profession", "Médecin", "profession « Médecin » sans précision : écrivez "
                 "« Médecin généraliste », ou la spécialité"),
    bad_activity(15, "code_commune_exercice", "ABCDE", "code commune INSEE inconnu"),
    bad_activity(16, "code_commune_exercice", "16999", "code commune INSEE inconnu"),
    # a postal code for the INSEE code: the reason names its communes and their INSEE codes
    bad_activity(24, "code_commune_exercice", "16000",
                 "code postal et non code INSEE (code postal de Angoulême 16015) : écrivez le "
                 "code INSEE"),
    bad_activity(25, "code_commune_exercice", "16700",
                 "code postal et non code INSEE (code postal de 16 communes, dont Barro 16031, "
                 "Bernac 16039, Bioussac 16044)"),
    bad_activity(17, "etp", "temps partiel", "ETP absent ou non numérique"),
    bad_activity(18, "etp", "-0,5", "ETP négatif"),
    bad_activity(19, "id_professionnel", "1234", "identifiant invalide"),
    # an 11-digit identifier in a spreadsheet cell formatted as a number
    bad_activity(23, "id_professionnel", "1,99E+10", "notation scientifique (ex. 1,99E+10) : "
                 "le tableur l'a arrondi ; exportez la colonne au format texte"),
    bad_activity(20, "id_professionnel", "", "identifiant du professionnel absent"),
    bad_activity(21, "annee_naissance", "2030", "année de naissance invalide"),
    bad_activity(22, "nb_patients", "-1", "nombre de patients non entier ou négatif"),
    # a dash says zero as often as unknown: the analyst is asked which
    bad_activity(26, "nb_visites", "-", "nombre de visites « - » : un tiret peut vouloir dire "
                 "zéro ou inconnu ; écrivez 0 si le nombre est nul"),
    bad_census(30, "stade", "En sommeil", "stade inconnu"),
    bad_census(31, "type_structure", "Hôpital", "type de structure inconnu"),
    bad_census(32, "date_recensement", "printemps 2013", "date de recensement illisible"),
    bad_census(33, "region", "Atlantide", "région inconnue"),
    bad_census(34, "zone_fragile", "peut-être", "oui/non attendu"),
    bad_census(35, "communes", "", "commune(s) du projet absente(s)"),
    # a project with no name is no total, whatever a cell of it says
    Case("recensement_sans_nom", "census",
         text(CENSUS_HEADER, census_row(36),
              census_row(536, nom_projet="", territoire="Ensemble du Littoral")),
         "rejected", "nom_projet", "nom du projet absent"),
    bad_followup(40, "valeur", "beaucoup", "valeur illisible"),
    bad_followup(41, "periode", "2024-T5", "période illisible"),
    bad_followup(42, "cible", "dix", "cible non numérique"),
    bad_followup(43, "nature_valeur", "inventée", "nature de la valeur"),
    # a cell merged over rows, once exported in CSV: the reason says so
    bad_followup(44, "programme", "", "programme absent : à renseigner sur chaque ligne (une "
                 "cellule fusionnée sur plusieurs lignes du tableur n'a sa valeur que sur la "
                 "première dans un export CSV : déposez plutôt le classeur .xlsx"),
    # a number is measured against a number: « réalisé » is the target of a step only
    bad_followup(45, "cible", "réalisé", "cible non numérique"),
    Case("ligne_tronquee", "activity",
         text(ACTIVITY_HEADER, activity_row(50)) + activity_row(51)[:30].encode(),
         "malformed", message="ligne incomplète ou tronquée"),
    # written differently, but right: everything loads
    Case("colonnes_en_plus", "activity",
         text(ACTIVITY_HEADER + ";commentaire_libre", activity_row(60) + ";RAS"), "accepted"),
    Case("entete_seul", "activity", text(ACTIVITY_HEADER), "accepted"),
    Case("milliers_et_virgule", "activity",
         text(ACTIVITY_HEADER, activity_row(61, nb_actes="1 204")), "accepted"),
    Case("mois_en_lettres_et_separateur_final", "activity",
         text(ACTIVITY_HEADER + ";", activity_row(62, periode="mars 2024") + ";"), "accepted"),
    Case("suivi_en_pourcentage", "followup",
         text(FOLLOWUP_HEADER, followup_row(64, valeur="45\u00a0%", cible="60%", unite="")),
         "accepted"),
    Case("suivi_periodes_en_toutes_lettres", "followup",
         text(FOLLOWUP_HEADER, *(followup_row(65 + n, periode=period)
                                 for n, period in enumerate(WRITTEN_PERIODS))), "accepted"),
    Case("suivi_valeurs_pas_encore_connues", "followup",
         text(FOLLOWUP_HEADER, *(followup_row(170 + n, valeur=value, nature_valeur="")
                                 for n, value in enumerate(NOT_KNOWN_YET))),
         "accepted"),
    Case("suivi_cibles_avec_leur_sens", "followup",
         text(FOLLOWUP_HEADER, *(followup_row(80 + n, cible=target, unite="")
                                 for n, target in enumerate(WRITTEN_TARGETS))), "accepted"),
    Case("suivi_valeurs_avec_unite", "followup",
         text(FOLLOWUP_HEADER, *(followup_row(90 + n, valeur=value, cible=target, unite=unit)
                                 for n, (value, target, unit) in enumerate(WRITTEN_WITH_UNITS))),
         "accepted"),
    # a sentence is no value with its unit
    bad_followup(46, "valeur", "3 sur 5", "valeur illisible"),
    # a roadmap laid out with a column per year, and the same as a row per year
    Case("suivi_une_colonne_par_annee", "followup",
         text("programme;territoire;axe;action;critere;2022;2023;2024;cible;unite",
              *(f"Feuille de route en colonnes;CC du Pays de Duras;Axe 1;{action};{criterion};"
                f"{';'.join(values)};{target};{unit}"
                for action, criterion, values, target, unit in ROADMAP)),
         "accepted", rows=3 * len(ROADMAP)),
    # a value of a column per period that cannot be read: the rejection names that column
    Case("suivi_une_colonne_par_annee_illisible", "followup",
         text("programme;territoire;axe;action;critere;Réalisé 2023;cible",
              "Feuille de route;CC du Pays de Duras;Axe 1;Action 1;Nombre de MSP;1;2",
              "Feuille de route;CC du Pays de Duras;Axe 1;Action 2;Nombre de CPTS;beaucoup;2"),
         "rejected", "Réalisé 2023", "valeur illisible"),
    Case("suivi_une_ligne_par_annee", "followup",
         text("programme;territoire;axe;action;critere;periode;valeur;cible;unite",
              *(f"Feuille de route en lignes;CC du Pays de Duras;Axe 1;{action};{criterion};"
                f"{year};{value};{target};{unit}"
                for action, criterion, values, target, unit in ROADMAP
                for year, value in zip(("2022", "2023", "2024"), values, strict=True))),
         "accepted"),
    Case("suivi_etapes", "followup",
         text(FOLLOWUP_HEADER, *(followup_row(100 + n, valeur=step, cible="réalisé", unite="",
                                              nature_valeur="")
                                 for n, step in enumerate(WRITTEN_STEPS))), "accepted"),
    Case("recensement_stades_autrement_ecrits", "census",
         text(CENSUS_HEADER, *(census_row(90 + n, stade=stage)
                               for n, stage in enumerate(WRITTEN_STAGES))), "accepted"),
    # a census dated as its press kit writes it
    Case("recensement_dates_en_toutes_lettres", "census",
         text(CENSUS_HEADER, census_row(130, date_recensement="15 mai 2013"),
              census_row(131, date_recensement="1er mai 2013"),
              census_row(132, date_recensement="15.05.2013")), "accepted"),
    Case("recensement_oui_non_autrement_ecrits", "census",
         text(CENSUS_HEADER, *(census_row(120 + n, zone_fragile=flag, zus=flag)
                               for n, flag in enumerate(WRITTEN_FLAGS))), "accepted"),
    Case("recensement_types_autrement_ecrits", "census",
         text(CENSUS_HEADER, *(census_row(100 + n, type_structure=kind)
                               for n, kind in enumerate(WRITTEN_TYPES))), "accepted"),
    Case("activite_autrement_ecrite", "activity",
         text(ACTIVITY_HEADER, activity_row(120, periode="juin-24"),
              activity_row(121, periode="juin-24", etp="80 %"),
              activity_row(122, profession="Médecin spécialiste en médecine générale"),
              activity_row(123, periode="Jun-24"), activity_row(124, periode="May 2024"),
              *(activity_row(125 + n, periode=month) for n, month in enumerate(WRITTEN_MONTHS)),
              # the RPPS directory's « Identification nationale PP »: 8 + RPPS, 0 + ADELI
              activity_row(140, id_professionnel="819900000140"),
              activity_row(141, id_professionnel="0123450141"),
              # an identifier held as a number: its digits grouped, or a float's « .0 »
              activity_row(142, id_professionnel="199 000 001 42"),
              activity_row(143, id_professionnel="19900000143.0"),
              # professions as MSP and CPTS exports word them
              *(activity_row(150 + n, profession=written)
                for n, written in enumerate(WRITTEN_PROFESSIONS)),
              # a time share with its unit, as MSP tables write it
              activity_row(170, etp="0,8 ETP"), activity_row(171, etp="0.8 etp"),
              activity_row(172, etp="0,8 E.T.P.")),
         "accepted"),
    Case("activite_mois_d_autres_exports", "activity",
         text(ACTIVITY_HEADER, *(activity_row(230 + n, periode=month)
                                 for n, month in enumerate(EXPORTED_MONTHS))), "accepted"),
    Case("activite_etp_en_toutes_lettres", "activity",
         text(ACTIVITY_HEADER, *(activity_row(240 + n, etp=fte)
                                 for n, fte in enumerate(WORDED_FTE))), "accepted"),
    # a commune code a float export wrote with its « .0 », its leading zero gone or not
    Case("activite_communes_en_decimal", "activity",
         text(ACTIVITY_HEADER, activity_row(200, code_commune_exercice="16015.0"),
              activity_row(201, code_commune_exercice="1001.0"),
              activity_row(202, code_commune_exercice="16015,00")), "accepted"),
    # an age band for a birth year, as exports write it
    Case("activite_tranches_d_age", "activity",
         text("periode;id_professionnel;profession;code_commune_exercice;tranche_age;etp;"
              "nb_actes", *(f"2024-06;{19900000190 + n};Infirmier;16015;{band};0,8;640"
                            for n, band in enumerate(WRITTEN_AGE_BANDS))),
         "accepted"),
    # optional counts an export says it does not know: the row is kept, the count empty
    Case("activite_nombres_non_connus", "activity",
         text(ACTIVITY_HEADER, *(activity_row(180 + n, **dict.fromkeys(OPTIONAL_COUNTS, written))
                                 for n, written in enumerate(COUNTS_NOT_KNOWN))),
         "accepted"),
    # a cell listing its communes one a line (Alt+Entrée), quoted in the CSV
    Case("recensement_communes_une_par_ligne", "census",
         text(CENSUS_HEADER, census_row(112, communes='"Wimereux\nWimille"')), "accepted",
         rows=1),
    Case("recensement_regions_abregees", "census",
         text(CENSUS_HEADER, census_row(110, region="NPDC"), census_row(111, region="HDF")),
         "accepted"),
    Case("windows_1252", "activity",
         text(ACTIVITY_HEADER, activity_row(63, profession="Masseur-kinésithérapeute"),
              encoding="cp1252"), "accepted"),
]


@pytest.fixture(scope="module")
def bad_night(night, tiny_landing, tmp_path_factory):
    """The previous good night's home, then one night with every bad file added."""
    home, _ = night
    tmp = tmp_path_factory.mktemp("bad")
    copy_home = tmp / "home"
    shutil.copytree(home, copy_home, ignore=shutil.ignore_patterns("dashboards"))
    landing = tmp / "landing"
    shutil.copytree(tiny_landing, landing)
    for case in CASES:
        (landing / case.family / f"cas_{case.name}{case.suffix}").write_bytes(case.content)
    published = copy_home / "warehouse" / "observatoire.duckdb"
    before = published.read_bytes()
    result = run_night(copy_home, landing)
    build = copy_home / "build" / f"night-{result.run_id}.duckdb"
    con = duckdb.connect(str(build), read_only=True)
    yield result, con, published.read_bytes() == before
    con.close()


def test_the_night_is_blocked_and_the_published_warehouse_unchanged(bad_night):
    result, _, unchanged = bad_night
    assert len(CASES) >= 30
    assert not result.success
    assert unchanged


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(bad_night, case):
    _, con, _ = bad_night
    name = f"{case.family}/cas_{case.name}{case.suffix}"
    status, message = con.execute(
        """SELECT status, message FROM raw.loaded_files WHERE source_file = ?
           ORDER BY loaded_at DESC LIMIT 1""", [name]).fetchone()
    if case.outcome == "refused":
        assert status == "refusé"
        assert name.split("/")[-1] in message and case.message in message
        if case.column:
            assert f"« {case.column} »" in message and "ligne d'en-tête 1" in message
        loaded = con.execute(f"SELECT count(*) FROM raw.{case.family} WHERE _source_file = ?",
                             [name]).fetchone()[0]
        assert loaded == 0
        return
    assert status == "chargé", message
    data_rows = case.rows if case.rows is not None else sum(
        1 for line in case.content.splitlines()[1:] if line.strip())
    staged = con.execute(f"SELECT count(*) FROM staging.{case.family} WHERE _source_file = ?",
                         [name]).fetchone()[0]
    rejected = con.execute(
        """SELECT source_row, column_name, value, reason FROM audit.rejected_rows
           WHERE source_file = ? ORDER BY source_row""", [name]).fetchall()
    assert data_rows == staged + len(rejected)
    if case.outcome == "accepted":
        assert rejected == []
        return
    assert staged == 1 and len(rejected) == 1
    line, column, value, reason = rejected[0]
    assert line == 3
    assert column == case.column
    assert case.message in reason
    if column == "id_professionnel" and value:
        assert "1234" not in value


# Cases written otherwise but right, and what their rows are staged as, in line order: a share
# with its percent sign; periods at their grain; values not known yet (rejected before, which
# blocked the night); targets with their direction; stages and structure types as other census
# files write them.
STAGED_AS = {
    "suivi_en_pourcentage": ("followup", "value, target, unit", [(45.0, 60.0, "%")]),
    "suivi_periodes_en_toutes_lettres": ("followup", "period",
                                         [(p,) for p in WRITTEN_PERIODS.values()]),
    # no value, no nature: « observée » would say something was observed
    "suivi_valeurs_pas_encore_connues": ("followup", "value, target, value_nature",
                                         [(None, 5.0, None)] * len(NOT_KNOWN_YET)),
    "suivi_valeurs_avec_unite": ("followup", "value, target, unit",
                                 list(WRITTEN_WITH_UNITS.values())),
    "suivi_cibles_avec_leur_sens": ("followup", "target, target_direction",
                                    list(WRITTEN_TARGETS.values())),
    # a step has its state where a criterion has a number, and was observed like one
    "suivi_etapes": ("followup", "value, milestone, target_milestone, value_nature",
                     [(None, state, "réalisé", "observée") for state in WRITTEN_STEPS.values()]),
    "recensement_stades_autrement_ecrits": ("census", "stage_code",
                                            [(s,) for s in WRITTEN_STAGES.values()]),
    "recensement_dates_en_toutes_lettres": ("census", "census_date", [(date(2013, 5, 1),)] * 3),
    "recensement_oui_non_autrement_ecrits": ("census", "fragile_zone, near_zus",
                                             [(f, f) for f in WRITTEN_FLAGS.values()]),
    "recensement_types_autrement_ecrits": ("census", "structure_type",
                                           [(t,) for t in WRITTEN_TYPES.values()]),
    # Excel's « mmm-aa » month, a time share in percent, the RPPS's wording of general practice,
    # months as an Excel set to English writes them, and as other exports write them; national
    # identifications
    "activite_autrement_ecrite": ("activity", "period_month, fte::DOUBLE, profession_code",
                                  [(date(2024, 6, 1), 0.8, "infirmier"),
                                   (date(2024, 6, 1), 0.8, "infirmier"),
                                   (date(2024, 6, 1), 0.8, "medecin_generaliste"),
                                   (date(2024, 6, 1), 0.8, "infirmier"),
                                   (date(2024, 5, 1), 0.8, "infirmier"),
                                   *[(date(2024, 6, 1), 0.8, "infirmier")] * len(WRITTEN_MONTHS),
                                   *[(date(2024, 6, 1), 0.8, "infirmier")] * 4,
                                   *[(date(2024, 6, 1), 0.8, code)
                                     for code in WRITTEN_PROFESSIONS.values()],
                                   *[(date(2024, 6, 1), 0.8, "infirmier")] * 3]),
    "recensement_regions_abregees": ("census", "region_code", [("32",), ("32",)]),
    "activite_mois_d_autres_exports": ("activity", "period_month",
                                       [(m,) for m in EXPORTED_MONTHS.values()]),
    "activite_etp_en_toutes_lettres": ("activity", "fte::DOUBLE",
                                       [(f,) for f in WORDED_FTE.values()]),
    "activite_communes_en_decimal": ("activity", "commune_code",
                                     [("16015",), ("01001",), ("16015",)]),
    "activite_tranches_d_age": ("activity", "birth_year, age_band, aged_60_by_band",
                                [(None, band, aged) for band, aged in WRITTEN_AGE_BANDS.items()]),
    "activite_nombres_non_connus": ("activity", "acts, consultations, home_visits, patients, "
                                    "patients_referring, unscheduled_care",
                                    [(640, None, None, None, None, None)]
                                    * len(COUNTS_NOT_KNOWN)),
}


@pytest.mark.parametrize("name", STAGED_AS)
def test_what_is_written_otherwise_is_staged_as_meant(bad_night, name):
    _, con, _ = bad_night
    family, columns, rows = STAGED_AS[name]
    assert con.execute(f"SELECT {columns} FROM staging.{family} WHERE _source_file = ? "
                       "ORDER BY _source_row", [f"{family}/cas_{name}.csv"]).fetchall() == rows


def test_a_roadmap_with_a_column_per_year_is_staged_as_with_a_row_per_year(bad_night):
    _, con, _ = bad_night

    def staged(layout: str) -> list[tuple]:
        return con.execute(
            """SELECT action, criterion, period, value, target, target_direction, milestone,
                      target_milestone, unit, value_nature
               FROM staging.followup WHERE _source_file = ? ORDER BY action, period""",
            [f"followup/cas_suivi_une_{layout}_par_annee.csv"]).fetchall()

    wide = staged("colonne")
    assert len(wide) == 9
    assert wide == staged("ligne")
    assert [row[3] for row in wide] == [2.0, 3.0, None, 4.0, 6.5, None, None, None, None]


def test_communes_listed_one_a_line_in_their_cell_are_each_resolved(bad_night):
    """Read as one name, « Wimereux⏎Wimille » was ambiguous or Wimereux alone by its prefix."""
    _, con, _ = bad_night
    assert con.execute(
        """SELECT cc.commune_code, cc.resolution_status
           FROM staging.census c JOIN staging.census_communes cc USING (project_id, census_date)
           WHERE c._source_file = ? ORDER BY 1""",
        ["census/cas_recensement_communes_une_par_ligne.csv"]).fetchall() == [
            ("62893", "resolved"), ("62894", "resolved")]


def test_duplicated_rows_fail_the_uniqueness_expectation_by_name(tmp_path, night, tiny_landing):
    home, _ = night
    copy_home = tmp_path / "home"
    shutil.copytree(home, copy_home, ignore=shutil.ignore_patterns("dashboards"))
    landing = tmp_path / "landing"
    shutil.copytree(tiny_landing, landing)
    (landing / "activity" / "doublons.csv").write_bytes(
        text(ACTIVITY_HEADER, activity_row(70), activity_row(70)))
    result = run_night(copy_home, landing)
    assert not result.success
    evaluation = next(e.event_specific_data for e in result.all_events
                      if e.event_type_value == "ASSET_CHECK_EVALUATION"
                      and e.event_specific_data.check_name == "great_expectations"
                      and e.event_specific_data.asset_key.path == ["staging", "activity"])
    failures = evaluation.metadata["failures"].value
    unique = next(f for f in failures if f["expectation"] == "expect_compound_columns_to_be_unique")
    assert unique["unexpected_count"] == 2
    # the month as the file writes it, not as the date of its first day
    assert all("periode = 2024-06," in str(v) for v in unique["unexpected_values"])
