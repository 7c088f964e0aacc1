"""Every ERROR expectation of every suite blocks a night and names what it found.

One night per suite: the table is taken from the last good night, each ERROR expectation of the
suite is violated by its own row (values that staging would never let through from a landing
file, so the table is changed in the night's file directly), and the night is run by Dagster
without the step that would rebuild that table. The tests then assert, per expectation, that the
check failed with its offending value in the metadata, that nothing was published, and that the
published file is byte for byte as it was.
"""

import importlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from support import real_data

from pipelines.ingest.assets import REFERENCE_TABLES
from pipelines.ingest.public_files import PUBLIC_FORMATS
from pipelines.warehouse import STORAGE_VERSION

NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"
REGEX = "expect_column_values_to_match_regex"
UNIQUE = "expect_column_values_to_be_unique"
COMPOUND_UNIQUE = "expect_compound_columns_to_be_unique"


@dataclass(frozen=True)
class Violation:
    expectation: str
    column: str
    sql: str  # changes one row (or a few, for `mostly` expectations), selected by rowid
    offending: object  # a value the check's metadata must name


@dataclass(frozen=True)
class SuiteCase:
    suite: str
    asset: tuple[str, str]
    # assets the night leaves out: the step that would rebuild the table from the landing
    producers: tuple[tuple[str, str], ...]
    violations: tuple[Violation, ...]
    setup: str | None = None  # a public reference file loaded into the table first


def _row(table: str, n: int, assignment: str) -> str:
    return f"UPDATE {table} SET {assignment} WHERE rowid = {n}"


def _copy_key(table: str, columns: list[str], source: int, target: int) -> str:
    assignments = ", ".join(f"{c} = (SELECT {c} FROM {table} WHERE rowid = {source})"
                            for c in columns)
    return f"UPDATE {table} SET {assignments} WHERE rowid = {target}"


ACTIVITY = "staging.activity"
ACTIVITY_KEY = ["professional_hash", "period_month", "commune_code"]
CENSUS = "staging.census"
FOLLOWUP = "staging.followup"
FOLLOWUP_KEY = ["programme", "action", "criterion", "period"]
STRUCTURES = "staging.structures"
DENSITIES = "staging.reference_densities"
DENSITY_KEY = ["year", "profession_label", "geo_level", "region_code", "department_code",
               "age_group", "sex"]
COMMUNES = "ref.communes"
# the multi-assets that load these tables run whole or not at all
PUBLIC = tuple(("staging", fmt.table) for fmt in PUBLIC_FORMATS)
REFERENCE = tuple(("ref", t) for t in REFERENCE_TABLES)

# a row's columns as the analyst's file names them, in the samples of a rule on several columns
AS_IN_THE_FILE = {"professional_hash": "id_professionnel pseudonymisé",
                  "project_name": "nom_projet", "criterion": "critere"}

CASES = [
    SuiteCase("activity", ("staging", "activity"), (("staging", "activity"),), (
        Violation(NOT_NULL, "period_month", _row(ACTIVITY, 1, "period_month = NULL"), None),
        Violation(NOT_NULL, "professional_hash", _row(ACTIVITY, 2, "professional_hash = NULL"),
                  None),
        # an RPPS that escaped pseudonymisation
        Violation(BETWEEN, "professional_hash",
                  _row(ACTIVITY, 3, "professional_hash = 10012345678"), 10012345678),
        Violation(IN_SET, "profession_code", _row(ACTIVITY, 4, "profession_code = 'astrologue'"),
                  "astrologue"),
        Violation(IN_SET, "commune_code", _row(ACTIVITY, 5, "commune_code = '16999'"), "16999"),
        Violation(BETWEEN, "fte", _row(ACTIVITY, 6, "fte = 2.75"), 2.75),
        Violation(BETWEEN, "acts", _row(ACTIVITY, 7, "acts = -12"), -12),
        Violation(BETWEEN, "patients", _row(ACTIVITY, 8, "patients = -3"), -3),
        Violation(COMPOUND_UNIQUE, ",".join(ACTIVITY_KEY),
                  _copy_key(ACTIVITY, ACTIVITY_KEY, 20, 21), "rowid:20:professional_hash"),
    )),
    SuiteCase("census", ("staging", "census"),
              (("staging", "census"), ("staging", "census_communes")), (
        Violation(NOT_NULL, "project_id", _row(CENSUS, 1, "project_id = NULL"), None),
        Violation(NOT_NULL, "census_date", _row(CENSUS, 2, "census_date = NULL"), None),
        Violation(NOT_NULL, "territory", _row(CENSUS, 3, "territory = NULL"), None),
        Violation(IN_SET, "stage_code", _row(CENSUS, 4, "stage_code = 'sommeil'"), "sommeil"),
        Violation(IN_SET, "structure_type", _row(CENSUS, 5, "structure_type = 'HOPITAL'"),
                  "HOPITAL"),
        Violation(IN_SET, "region_code", _row(CENSUS, 6, "region_code = '99'"), "99"),
        Violation(COMPOUND_UNIQUE, "project_id,census_date",
                  _copy_key(CENSUS, ["project_id", "census_date"], 10, 11),
                  "rowid:10:project_name"),
    )),
    SuiteCase("followup", ("staging", "followup"), (("staging", "followup"),), (
        Violation(NOT_NULL, "programme", _row(FOLLOWUP, 0, "programme = NULL"), None),
        Violation(NOT_NULL, "criterion", _row(FOLLOWUP, 1, "criterion = NULL"), None),
        Violation(REGEX, "period", _row(FOLLOWUP, 2, "period = '2024-T5'"), "2024-T5"),
        Violation(IN_SET, "value_nature", _row(FOLLOWUP, 4, "value_nature = 'inventée'"),
                  "inventée"),
        Violation(IN_SET, "milestone", _row(FOLLOWUP, 3, "milestone = 'presque'"), "presque"),
        Violation(IN_SET, "target_milestone", _row(FOLLOWUP, 7, "target_milestone = 'bientôt'"),
                  "bientôt"),
        Violation(COMPOUND_UNIQUE, ",".join(FOLLOWUP_KEY),
                  _copy_key(FOLLOWUP, FOLLOWUP_KEY, 5, 6), "rowid:5:criterion"),
    )),
    SuiteCase("structures", ("staging", "structures"), PUBLIC, (
        Violation(NOT_NULL, "finess_et", _row(STRUCTURES, 0, "finess_et = NULL"), None),
        Violation(REGEX, "finess_et", _row(STRUCTURES, 1, "finess_et = '16-MSP-01'"),
                  "16-MSP-01"),
        Violation(UNIQUE, "finess_et", _copy_key(STRUCTURES, ["finess_et"], 2, 3),
                  "rowid:2:finess_et"),
        Violation(NOT_NULL, "name", _row(STRUCTURES, 4, "name = NULL"), None),
        Violation(NOT_NULL, "category_code", _row(STRUCTURES, 5, "category_code = NULL"), None),
        Violation(IN_SET, "structure_type", _row(STRUCTURES, 6, "structure_type = 'EHPAD'"),
                  "EHPAD"),
        Violation(NOT_NULL, "commune_code", _row(STRUCTURES, 7, "commune_code = NULL"), None),
        Violation(IN_SET, "commune_code", _row(STRUCTURES, 8, "commune_code = '16999'"),
                  "16999"),
    ), setup="finess/etalab-cs1100502-stock-20260512-0339_excerpt15.csv"),
    SuiteCase("reference_densities", ("staging", "reference_densities"), PUBLIC, (
        Violation(NOT_NULL, "year", _row(DENSITIES, 0, "year = NULL"), None),
        Violation(BETWEEN, "year", _row(DENSITIES, 1, "year = 1024"), 1024),
        Violation(NOT_NULL, "profession_label", _row(DENSITIES, 2, "profession_label = NULL"),
                  None),
        Violation(IN_SET, "profession_code", _row(DENSITIES, 3, "profession_code = 'mage'"),
                  "mage"),
        Violation(IN_SET, "geo_level", _row(DENSITIES, 4, "geo_level = 'canton'"), "canton"),
        Violation(IN_SET, "department_code", _row(DENSITIES, 5, "department_code = '96'"), "96"),
        Violation(NOT_NULL, "headcount", _row(DENSITIES, 6, "headcount = NULL"), None),
        Violation(BETWEEN, "headcount", _row(DENSITIES, 7, "headcount = -40"), -40),
        Violation(BETWEEN, "density_per_100k", _row(DENSITIES, 8, "density_per_100k = -1.5"),
                  -1.5),
        Violation(COMPOUND_UNIQUE, ",".join(DENSITY_KEY),
                  _copy_key(DENSITIES, DENSITY_KEY, 100, 101), "rowid:100:profession_label"),
    ), setup="ameli/toutes_specialites_departement.csv"),
    SuiteCase("communes", ("ref", "communes"), REFERENCE, (
        Violation(NOT_NULL, "commune_code", _row(COMMUNES, 0, "commune_code = NULL"), None),
        Violation(REGEX, "commune_code", _row(COMMUNES, 1, "commune_code = '1A001'"), "1A001"),
        Violation(UNIQUE, "commune_code", _copy_key(COMMUNES, ["commune_code"], 2, 3),
                  "rowid:2:commune_code"),
        Violation(NOT_NULL, "commune_name", _row(COMMUNES, 4, "commune_name = NULL"), None),
        Violation(NOT_NULL, "department_code", _row(COMMUNES, 5, "department_code = NULL"),
                  None),
        Violation(IN_SET, "department_code", _row(COMMUNES, 6, "department_code = '96'"), "96"),
        Violation(NOT_NULL, "region_code", _row(COMMUNES, 7, "region_code = NULL"), None),
        Violation(IN_SET, "region_code", _row(COMMUNES, 8, "region_code = '00'"), "00"),
        # `mostly` expectations: 98 communes have no EPCI and 6 no population on purpose;
        # 400 more is beyond the 0.5 % they allow
        Violation(NOT_NULL, "epci_code",
                  "UPDATE ref.communes SET epci_code = NULL WHERE rowid BETWEEN 1000 AND 1399",
                  None),
        Violation(IN_SET, "epci_code", _row(COMMUNES, 9, "epci_code = '000000000'"),
                  "000000000"),
        Violation(NOT_NULL, "population",
                  "UPDATE ref.communes SET population = NULL WHERE rowid BETWEEN 2000 AND 2399",
                  None),
        Violation(BETWEEN, "population", _row(COMMUNES, 10, "population = -7"), -7),
    )),
]


def _error_expectations(suite: str) -> set[tuple[str, str]]:
    """(type, column) of every ERROR expectation the suite file declares."""
    import importlib
    import os

    import duckdb as db

    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx

    from pipelines.geography.reference import load_reference
    from pipelines.ingest.vocabularies import load_vocabularies
    from pipelines.quality.great_expectations import ReferenceSets

    con = db.connect()
    load_reference(con)
    load_vocabularies(con)
    module = importlib.import_module(f"expectations.{suite}")
    declared = set()
    for e in module.expectations(gx, ReferenceSets.read(con)):
        config = e.configuration
        if str(config.severity.value) == "critical":
            kwargs = config.kwargs
            column = kwargs.get("column") or ",".join(kwargs.get("column_list") or [])
            declared.add((config.type, column))
    con.close()
    return declared


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.suite)
def test_every_error_expectation_has_a_violation(case):
    covered = {(v.expectation, v.column) for v in case.violations}
    assert covered == _error_expectations(case.suite)


def night_on_changed_table(home: Path, landing: Path, case: SuiteCase | None,
                           statements: list[str]) -> tuple:
    """Run the night over `home` with `statements` applied to the night's file first.

    The night file is prepared as the night would (a copy of the published warehouse), under
    the run id the night will use; the night then leaves out the producers of the changed
    table, so the checks see the change.
    """
    import os

    from pipelines import definitions

    run_id = str(uuid.uuid4())
    build = home / "build" / f"night-{run_id}.duckdb"
    build.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(home / "warehouse" / "observatoire.duckdb", build)
    con = duckdb.connect(str(build), config={"storage_compatibility_version": STORAGE_VERSION})
    for statement in statements:
        con.execute(statement)
    con.close()
    producers = case.producers if case else ()
    selection = dg.AssetSelection.all()
    if producers:
        selection = (selection - dg.AssetSelection.assets(*producers)
                     ) | dg.AssetSelection.checks_for_assets(dg.AssetKey(list(case.asset)))
    job = dg.define_asset_job("nightly_on_changed_table", selection=selection,
                              executor_def=dg.in_process_executor)
    defs = dg.Definitions(assets=definitions.defs.assets,
                          asset_checks=definitions.defs.asset_checks,
                          resources=definitions.defs.resources, jobs=[job])
    previous = {k: os.environ.get(k) for k in ("OBSERVATOIRE_HOME", "OBSERVATOIRE_LANDING")}
    os.environ["OBSERVATOIRE_HOME"] = str(home)
    os.environ["OBSERVATOIRE_LANDING"] = str(landing)
    try:
        result = defs.resolve_job_def(job.name).execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_id=run_id)
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return result, build


def _load_public_file(build_con, case: SuiteCase) -> None:
    from pipelines.sources.public.ameli import read_ameli_densities
    from pipelines.sources.public.finess import read_finess_extract

    read = {"structures": read_finess_extract, "reference_densities": read_ameli_densities}
    frame = read[case.suite](real_data(case.setup))
    build_con.register("public_file", frame.to_arrow())
    build_con.execute(f"CREATE OR REPLACE TABLE {'.'.join(case.asset)} AS "
                      "SELECT * FROM public_file")
    build_con.unregister("public_file")


@pytest.fixture(scope="module")
def blocked_nights(night, tiny_landing, tmp_path_factory):
    """case.suite -> (result, published bytes unchanged, offending values resolved)."""
    good_home, _ = night
    nights = {}
    for case in CASES:
        home = tmp_path_factory.mktemp(f"blocked-{case.suite}") / "home"
        shutil.copytree(good_home, home, ignore=shutil.ignore_patterns("dashboards"))
        published = home / "warehouse" / "observatoire.duckdb"
        if case.setup:
            # the good night had no such public file: publish one first, as a night would
            con = duckdb.connect(str(published),
                                 config={"storage_compatibility_version": STORAGE_VERSION})
            _load_public_file(con, case)
            con.execute("CHECKPOINT")
            con.close()
        offending = _resolve_copied_values(published, case)
        before = published.read_bytes()
        result, _ = night_on_changed_table(home, tiny_landing, case,
                                           [v.sql for v in case.violations])
        nights[case.suite] = (result, published.read_bytes() == before, offending)
    return nights


def _resolve_copied_values(published: Path, case: SuiteCase) -> dict:
    """'rowid:N:column' placeholders -> the value the duplicated row carries."""
    values = {}
    table = ".".join(case.asset)
    con = duckdb.connect(str(published), read_only=True)
    for v in case.violations:
        if isinstance(v.offending, str) and v.offending.startswith("rowid:"):
            _, n, column = v.offending.split(":")
            values[v.offending] = con.execute(
                f"SELECT {column} FROM {table} WHERE rowid = {n}").fetchone()[0]
    con.close()
    return values


def _evaluation(result, asset, check):
    return next(e.event_specific_data for e in result.all_events
                if e.event_type_value == "ASSET_CHECK_EVALUATION"
                and e.event_specific_data.asset_key.path == list(asset)
                and e.event_specific_data.check_name == check)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.suite)
def test_the_night_is_blocked_and_nothing_published(blocked_nights, case):
    result, unchanged, _ = blocked_nights[case.suite]
    assert not result.success
    assert unchanged
    published = [e for e in result.all_events if e.event_type_value == "ASSET_MATERIALIZATION"
                 and e.event_specific_data.materialization.asset_key.path[0] == "publish"]
    assert published == []
    evaluation = _evaluation(result, case.asset, "great_expectations")
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR


@pytest.mark.parametrize(
    "case, violation",
    [(c, v) for c in CASES for v in c.violations],
    ids=lambda x: x.suite if isinstance(x, SuiteCase) else f"{x.expectation}-{x.column}",
)
def test_the_metadata_names_the_offending_value(blocked_nights, case, violation):
    result, _, offending = blocked_nights[case.suite]
    failures = _evaluation(result, case.asset, "great_expectations").metadata["failures"].value
    failure = next((f for f in failures if f["expectation"] == violation.expectation
                    and f["column"] == violation.column), None)
    assert failure is not None, failures
    assert failure["severity"] == "ERROR"
    assert failure["unexpected_count"] >= 1
    expected = offending.get(violation.offending, violation.offending)
    values = failure["unexpected_values"]
    if violation.expectation == COMPOUND_UNIQUE:  # the rows, each as "column = value, …"
        column = violation.offending.split(":")[2]
        assert any(f"{AS_IN_THE_FILE.get(column, column)} = {expected}" in v for v in values), \
            values
    else:
        assert expected in values, values


def test_a_night_without_changes_publishes_through_the_same_harness(night, tiny_landing,
                                                                    tmp_path):
    """The control: the blocked nights above are blocked by their checks, not the harness."""
    good_home, _ = night
    home = tmp_path / "home"
    shutil.copytree(good_home, home, ignore=shutil.ignore_patterns("dashboards"))
    published = home / "warehouse" / "observatoire.duckdb"
    before = published.read_bytes()
    result, _ = night_on_changed_table(home, tiny_landing, CASES[0], [])
    assert result.success
    assert published.read_bytes() != before


def test_offending_staged_rows_are_located_by_file_and_line(blocked_nights):
    result, _, _ = blocked_nights["activity"]
    failures = _evaluation(result, ("staging", "activity"),
                           "great_expectations").metadata["failures"].value
    fte = next(f for f in failures if f["column"] == "fte")
    assert len(fte["rows"]) == 1
    assert fte["rows"][0].startswith("activity/") and ", ligne " in fte["rows"][0]


ACTIVITY_HEADER = ("periode;id_professionnel;profession;code_commune_exercice;structure;"
                   "annee_naissance;etp;nb_actes;nb_consultations;nb_visites;nb_patients;"
                   "nb_patients_medecin_traitant;nb_soins_non_programmes")


def test_a_warning_publishes_and_shows_on_the_quality_page(night, tiny_landing, tmp_path):
    from support import run_night

    good_home, _ = night
    home = tmp_path / "home"
    shutil.copytree(good_home, home)
    landing = tmp_path / "landing"
    shutil.copytree(tiny_landing, landing)
    # 5,120 acts in a month: typed cleanly, above the WARN ceiling of expectations/activity.py
    (landing / "activity" / "mois_charge.csv").write_text(
        ACTIVITY_HEADER + "\n2024-06;19900000077;Infirmier;16015;;1980;1;5120;;;300;;\n",
        encoding="utf-8")
    published = home / "warehouse" / "observatoire.duckdb"
    before = published.read_bytes()
    result = run_night(home, landing)
    assert result.success
    assert published.read_bytes() != before
    evaluation = _evaluation(result, ("staging", "activity"), "great_expectations")
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    con = duckdb.connect(str(published), read_only=True)
    warned = con.execute(
        """SELECT severity, unexpected_sample FROM audit.validation_results
           WHERE night_id = ? AND table_name = 'staging.activity' AND column_name = 'acts'
             AND NOT success""", [result.run_id]).fetchall()
    con.close()
    assert warned == [("WARN", '["5120 (activity/mois_charge.csv, ligne 2)"]')]
    page = (home / "dashboards" / "qualite.html").read_text(encoding="utf-8")
    assert "5120 (activity/mois_charge.csv, ligne 2)" in page
    assert "valeurs dans les bornes plausibles" in page and "avertissement" in page
    assert "BLOQUÉE" not in page


def test_the_quality_page_says_the_last_night_was_blocked(night, tiny_landing, tmp_path,
                                                          monkeypatch, capsys):
    import json

    from support import run_night

    from pipelines.cli import main

    good_home, _ = night
    home = tmp_path / "home"
    shutil.copytree(good_home, home)
    landing = tmp_path / "landing"
    shutil.copytree(tiny_landing, landing)
    source = sorted((landing / "activity").glob("*.csv"))[0]
    lines = source.read_text(encoding="utf-8").splitlines()
    # a month sent again: the natural key professional × month × commune is duplicated
    (landing / "activity" / "renvoi.csv").write_text("\n".join(lines[:3]) + "\n",
                                                     encoding="utf-8")
    for name in ("OBSERVATOIRE_HOME", "OBSERVATOIRE_LANDING", "DAGSTER_HOME"):
        monkeypatch.setenv(name, "")  # the CLI exports its own; restored after the test
    # sent an hour ago: complete, not left for the next night as a file still being written
    monkeypatch.setenv("OBSERVATOIRE_SETTLE_SECONDS", "10")
    sent = time.time() - 3600
    os.utime(landing / "activity" / "renvoi.csv", (sent, sent))
    published = home / "warehouse" / "observatoire.duckdb"
    before = published.read_bytes()
    index_before = (home / "dashboards" / "index.html").read_bytes()

    assert main(["run", "--home", str(home), "--landing", str(landing)]) == 1
    # the summary names the rule in French, as the quality page does, with the file and line
    summary = capsys.readouterr().out
    assert "BLOQUANT : staging/activity · great_expectations" in summary
    # its columns as the file names them
    assert ("pas de doublon sur la clé (colonnes id_professionnel pseudonymisé, periode, "
            "code_commune_exercice) : id_professionnel pseudonymisé = ") in summary
    assert (", periode = 2023-01, code_commune_exercice = 16001 (activity/renvoi.csv, "
            "ligne 2)") in summary
    assert COMPOUND_UNIQUE not in summary
    # and what to do about it
    assert ("Que faire : La même clé revient sur plusieurs lignes, le plus souvent parce qu'un "
            "même fichier a été déposé sous deux noms") in summary
    assert f"Rien n'a été publié ; l'entrepôt précédent reste en place : {published}" in summary
    assert ("Nuit bloquée signalée sur la page Qualité des données "
            f"({home / 'dashboards' / 'qualite.html'}).") in summary

    assert published.read_bytes() == before
    assert (home / "dashboards" / "index.html").read_bytes() == index_before
    account = json.loads((home / "dashboards" / "nuit-bloquee.json").read_text("utf-8"))
    failed = [(f["table_name"], f["expectation"], f["severity"])
              for f in account["failed_checks"]]
    assert ("staging.activity", COMPOUND_UNIQUE, "ERROR") in failed
    page = (home / "dashboards" / "qualite.html").read_text(encoding="utf-8")
    assert f"identifiant {account['night_id']}) a été BLOQUÉE" in page
    assert "pas de doublon sur la clé" in page
    assert "id_professionnel pseudonymisé, periode, code_commune_exercice" in page
    assert "Que faire" in page and "a été déposé sous deux noms : gardez-en un seul" in page
    assert "activity/renvoi.csv, ligne 2" in page
    assert (home / "dashboards" / "nuit-bloquee-controles.csv").exists()

    # the sender withdraws the file: the next night publishes and the page is the new one
    (landing / "activity" / "renvoi.csv").unlink()
    assert run_night(home, landing).success
    page = (home / "dashboards" / "qualite.html").read_text(encoding="utf-8")
    assert "BLOQUÉE" not in page
    assert not (home / "dashboards" / "nuit-bloquee.json").exists()


def test_the_follow_up_suite_passes_every_grain_and_a_value_not_known_yet(night, tmp_path):
    """staging.followup keeps half-years and quarters at their grain, and a period to come
    with its target and no value: the suite must pass them, or the night is blocked."""
    from pipelines.quality import great_expectations as suites

    home, _ = night
    copy = tmp_path / "observatoire.duckdb"
    shutil.copyfile(home / "warehouse" / "observatoire.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        for rowid, period in enumerate(["2031", "2031-03", "2031-T4", "2031-S2"]):
            con.execute(f"UPDATE staging.followup SET period = ?, value = NULL, target = 7 "
                        f"WHERE rowid = {rowid}", [period])
        outcomes = suites.run_suite(con, "followup")
    finally:
        con.close()
    assert [(o.expectation, o.column) for o in outcomes if not o.success] == []


def test_a_suite_run_month_by_month_finds_what_one_run_finds(night, tmp_path, monkeypatch):
    """The activity suite runs on batches of months at national scale: the same offending
    rows, counts and verdicts as one run over the table, here with one month per batch."""
    from pipelines.quality import great_expectations as suites

    home, _ = night
    copy = tmp_path / "observatoire.duckdb"
    shutil.copyfile(home / "warehouse" / "observatoire.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        months = [r[0] for r in con.execute(
            "SELECT DISTINCT period_month FROM staging.activity ORDER BY 1").fetchall()]
        assert len(months) >= 3
        # offending rows in different months, so that no batch holds them all
        for month, assignment in zip(months, ["fte = 9", "acts = -1", "commune_code = '00000'"],
                                     strict=False):
            con.execute(f"""UPDATE staging.activity SET {assignment} WHERE rowid = (
                SELECT min(rowid) FROM staging.activity WHERE period_month = ?)""", [month])
        con.execute("""UPDATE staging.activity SET fte = 8 WHERE rowid = (
            SELECT max(rowid) FROM staging.activity WHERE period_month = ?)""", [months[-1]])
        whole = suites.run_suite(con, "activity")
        rows = con.execute("SELECT count(*) FROM staging.activity").fetchone()[0]
        largest = con.execute("SELECT max(n) FROM (SELECT count(*) AS n FROM staging.activity "
                              "GROUP BY period_month)").fetchone()[0]
        monkeypatch.setattr(suites, "BATCH_ROWS", largest)
        assert len(suites._batches(con, importlib.import_module("expectations.activity"), None,
                                   rows)) == len(months)
        batched = suites.run_suite(con, "activity")
    finally:
        con.close()

    def key(outcomes):
        return [(o.expectation, o.column, o.success, o.unexpected_count, sorted(map(str, o.sample)),
                 sorted(o.rows)) for o in outcomes]

    assert key(batched) == key(whole)
    failed = {(o.column, o.unexpected_count) for o in whole if not o.success}
    assert {("fte", 2), ("acts", 1), ("commune_code", 1)} <= failed


@pytest.mark.parametrize("rows", [
    "('a', DATE '2024-01-01', 1.2500::DECIMAL(12,4), 3::BIGINT, 2.5::DOUBLE, true, "
    "TIMESTAMP '2024-01-01 10:00', 7::INTEGER)",
    "('a', DATE '2024-01-01', 1.2500::DECIMAL(12,4), 3::BIGINT, 2.5::DOUBLE, true, "
    "TIMESTAMP '2024-01-01 10:00', 7::INTEGER), (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
], ids=["without-nulls", "with-nulls"])
def test_the_frame_handed_to_gx_is_the_one_df_makes(rows):
    """Suites read their values and rows through Arrow, which is faster than `.df()`: the same
    values and dtypes, nullable integers and booleans included."""
    import pandas as pd

    from pipelines.quality.great_expectations import _pandas_column, _typed

    con = duckdb.connect()
    relation = con.sql(f"SELECT * FROM (VALUES {rows}) t(s, d, m, b, f, o, ts, i)")
    table = relation.select(", ".join(f"{_typed(n, t)} AS {n}" for n, t in zip(
        relation.columns, relation.types, strict=True))).arrow().read_all()
    frame = pd.DataFrame({n: _pandas_column(c)
                          for n, c in zip(table.column_names, table.columns, strict=True)})
    pd.testing.assert_frame_equal(frame, relation.df(), check_exact=True)


def test_a_membership_rule_reports_its_unknown_values_under_its_own_name(night, tmp_path):
    """The in-set rule runs as its complement (pipelines/quality/great_expectations.py,
    `_for_frame`): reported under its own name, with the unknown values, their count and their
    lines, and passing when every value is known."""
    from pipelines.quality import great_expectations as suites

    home, _ = night
    copy = tmp_path / "observatoire.duckdb"
    shutil.copyfile(home / "warehouse" / "observatoire.duckdb", copy)
    con = duckdb.connect(str(copy))
    try:
        clean = {(o.expectation, o.column): o for o in suites.run_suite(con, "activity")}
        con.execute("""UPDATE staging.activity SET commune_code = '00000'
                       WHERE rowid IN (SELECT rowid FROM staging.activity LIMIT 3)""")
        dirty = {(o.expectation, o.column): o for o in suites.run_suite(con, "activity")}
    finally:
        con.close()
    assert clean[(IN_SET, "commune_code")].success
    assert clean[(IN_SET, "commune_code")].unexpected_count == 0
    unknown = dirty[(IN_SET, "commune_code")]
    assert not unknown.success and unknown.severity == "ERROR"
    assert unknown.unexpected_count == 3 and set(unknown.sample) == {"00000"}
    assert len(unknown.rows) == 3 and all(", ligne " in row for row in unknown.rows)
    assert not any(e.endswith("not_be_in_set") for e, _ in dirty)


# A table with offending rows for every kind of rule the suites use, nulls and NaN included,
# stored out of file and line order, with more than ten offending rows for most rules.
PROBE_ROWS = """
    SELECT 'file_' || (i % 7) || '.csv' AS _source_file, i // 7 + 2 AS _source_row,
           CASE WHEN i % 29 = 0 THEN NULL WHEN i % 13 = 0 THEN 'x' || i
                ELSE 'AB' || (i % 10) END AS code,
           CASE WHEN i % 31 = 0 THEN NULL ELSE ((i % 23) - 2)::DECIMAL(12, 4) / 2 END AS amount,
           CASE WHEN i % 37 = 0 THEN 'NaN'::DOUBLE WHEN i % 41 = 0 THEN NULL
                ELSE i / 10 END AS ratio,
           CASE WHEN i % 43 = 0 THEN NULL ELSE i % 50 END::BIGINT AS visits,
           CASE WHEN i % 17 = 0 THEN 'note ' || i END AS note,
           CASE WHEN i % 53 = 0 THEN NULL
                ELSE (DATE '2024-01-01' + INTERVAL (i % 5) MONTH)::DATE END AS month,
           CASE WHEN i IN (61, 211) THEN NULL WHEN i % 47 = 0 THEN NULL
                ELSE 'k' || (i % 150) END AS key
    FROM range(400) AS t(i)
    ORDER BY hash(i)
"""


def _probe_suite(gx, reference):
    e = gx.expectations
    return [
        *_probe_suite_within_months(gx, reference),
        e.ExpectColumnValuesToNotBeNull(column="month", mostly=0.5),
        e.ExpectColumnValuesToBeUnique(column="code"),
        e.ExpectTableRowCountToBeBetween(min_value=0, max_value=100),
    ]


def _probe_suite_within_months(gx, reference):
    """The rules of the probe suite that hold row by row or within a month (BATCH_COLUMN)."""
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="code"),
        e.ExpectColumnValuesToNotBeNull(column="ratio"),
        e.ExpectColumnValuesToBeNull(column="note"),
        e.ExpectColumnValuesToMatchRegex(column="code", regex=r"^[A-Z]{2}\d$"),
        e.ExpectColumnValuesToNotMatchRegex(column="code", regex=r"^x1"),
        e.ExpectColumnValuesToBeInSet(column="code", value_set=["AB1", "AB2", "AB3", "AB4"]),
        e.ExpectColumnValuesToNotBeInSet(column="code", value_set=["AB3", "x26"]),
        e.ExpectColumnValuesToBeBetween(column="amount", min_value=0, max_value=10),
        e.ExpectColumnValuesToBeBetween(column="ratio", min_value=0, max_value=30,
                                        strict_max=True),
        e.ExpectColumnValuesToBeBetween(column="visits", min_value=0, max_value=40,
                                        severity="warning"),
        e.ExpectCompoundColumnsToBeUnique(column_list=["key", "month"]),
    ]


@pytest.fixture
def probe(monkeypatch):
    """A connection holding staging.probe (PROBE_ROWS) and empty reference sets, and the
    module of its suite, expectations.probe."""
    import sys
    import types

    con = duckdb.connect()
    con.execute("CREATE SCHEMA staging")
    con.execute(f"CREATE TABLE staging.probe AS {PROBE_ROWS}")
    con.execute("CREATE SCHEMA ref")
    for table, column in [("communes", "commune_code"), ("professions", "profession_code"),
                          ("stages", "stage_code"), ("structure_types", "structure_type"),
                          ("regions", "region_code"), ("departements", "department_code"),
                          ("epci", "epci_code")]:
        con.execute(f"CREATE TABLE ref.{table} ({column} VARCHAR)")
    module = types.ModuleType("expectations.probe")
    module.TABLE = "staging.probe"
    module.expectations = _probe_suite
    monkeypatch.setitem(sys.modules, "expectations.probe", module)
    yield con, module
    con.close()


def _plain_gx(con, module, where: str | None = None) -> list:
    """The outcomes of GX run, one expectation at a time, on the whole table as one frame in
    file and line order (in table order for a table without lines), with its lines as index
    columns: what the suites ran before they ran on distinct values, with the first ten
    offending rows in file and line order (for a uniqueness rule, each duplicate beside the
    first row of its key)."""
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from pipelines.quality.great_expectations import (
        SEVERITY,
        SOURCE_LINE,
        UNIQUENESS,
        ExpectationOutcome,
        _plain,
        _text,
    )

    located = set(SOURCE_LINE) <= set(con.table(module.TABLE).columns)
    frame = con.sql(f"SELECT * FROM {module.TABLE}" + (f" WHERE {where}" if where else "")
                    + f" ORDER BY {', '.join(SOURCE_LINE) if located else 'rowid'}").df()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (context.data_sources.add_pandas("plain").add_dataframe_asset("probe")
             .add_batch_definition_whole_dataframe("all")
             .get_batch(batch_parameters={"dataframe": frame}))
    outcomes = []
    for expectation in module.expectations(gx, None):
        unique = expectation.expectation_type in UNIQUENESS
        result = batch.validate(expectation, result_format={
            "result_format": "COMPLETE" if unique else "SUMMARY",
            "unexpected_index_column_names": list(SOURCE_LINE) if located else []})
        config, details = result.expectation_config, result.result
        values = details.get("partial_unexpected_list", [])
        index = details.get("partial_unexpected_index_list") or []
        if unique:  # GX lists at most 200 values, but every row of its index list
            values, index = _side_by_side(frame, expectation, details["unexpected_index_list"],
                                          located)
        outcomes.append(ExpectationOutcome(
            expectation=config.type,
            column=config.kwargs.get("column") or ",".join(config.kwargs.get("column_list", [])
                                                           ) or None,
            severity=SEVERITY[str(config.severity.value)],
            success=bool(result.success),
            observed_value=_text(details.get("observed_value")),
            unexpected_count=details.get("unexpected_count"),
            sample=[_plain(v) for v in values[:10]],
            rows=tuple(f"{r[SOURCE_LINE[0]]}, ligne {r[SOURCE_LINE[1]]}"
                       for r in index[:10] if located)))
    return outcomes


def _side_by_side(frame, expectation, index: list, located: bool) -> tuple[list, list]:
    """The values and index entries of a uniqueness rule's offending rows (its index list: file
    and line, or the frame's index), each key's rows after the first row of that key."""
    from pipelines.quality.great_expectations import SOURCE_LINE

    if located:
        at = {line: p for p, line in enumerate(zip(*(frame[c] for c in SOURCE_LINE), strict=True))}
        positions = [at[tuple(entry[c] for c in SOURCE_LINE)] for entry in index]
    else:
        positions = list(index)
    column = getattr(expectation, "column", None)
    rows = frame.iloc[positions]
    values = (list(rows[column]) if column
              else rows[list(expectation.column_list)].to_dict("records"))
    groups: dict[str, list[int]] = {}
    for n, value in enumerate(values):
        groups.setdefault(repr(value), []).append(n)
    order = [n for group in groups.values() for n in group]
    return [values[n] for n in order], [index[n] for n in order]


@pytest.mark.parametrize("batch_column, batch_rows, where, passing", [
    (None, None, None, [(NOT_NULL, "month")]),  # `mostly` allows its nulls
    ("month", 90, None, []),
    ("month", 90, "visits IS NOT NULL AND ratio < 35", [(NOT_NULL, "ratio")]),
], ids=["one-frame", "batches-of-months", "some-rows"])
def test_a_suite_gives_what_gx_gives_on_the_whole_frame(probe, monkeypatch, batch_column,
                                                        batch_rows, where, passing):
    """Per-value rules on distinct values, the others on rows (in batches, text as
    categoricals): every outcome is the one GX gives on the whole table, offending rows counted
    in rows and the first ten in file and line order, nulls and NaN included."""
    from pipelines.quality import great_expectations as suites

    con, module = probe
    if batch_column:
        monkeypatch.setattr(module, "expectations", _probe_suite_within_months)
        monkeypatch.setattr(module, "BATCH_COLUMN", batch_column, raising=False)
        monkeypatch.setattr(suites, "BATCH_ROWS", batch_rows)
        assert len(suites._batches(con, module, where, 400)) > 3
    outcomes = suites.run_suite(con, "probe", where)
    assert outcomes == _plain_gx(con, module, where)
    assert [(o.expectation, o.column) for o in outcomes if o.success] == passing
    assert all(len(o.sample) == min(o.unexpected_count or 0, 10) for o in outcomes)
    assert sum(len(o.sample) == 10 for o in outcomes) >= 8


def test_a_table_without_lines_shows_its_first_offending_rows_in_table_order(probe,
                                                                               monkeypatch):
    from pipelines.quality import great_expectations as suites

    con, module = probe
    con.execute("CREATE TABLE staging.unlocated AS "
                "SELECT * EXCLUDE (_source_file, _source_row) FROM staging.probe")
    monkeypatch.setattr(module, "TABLE", "staging.unlocated")
    outcomes = suites.run_suite(con, "probe")
    assert outcomes == _plain_gx(con, module)
    assert not any(o.rows for o in outcomes)


def test_a_table_of_whole_files_names_the_file_of_each_offending_row(probe, monkeypatch):
    """A public reference table knows each row's file, not its line: two FINESS extracts with
    the same establishment were reported as "010000024; 010000024", now with their files."""
    from pipelines.quality import great_expectations as suites

    con, module = probe
    con.execute("CREATE TABLE staging.filed AS SELECT * EXCLUDE (_source_row) FROM staging.probe")
    monkeypatch.setattr(module, "TABLE", "staging.filed")
    outcomes = {(o.expectation, o.column): o for o in suites.run_suite(con, "probe")}
    missing = outcomes[(NOT_NULL, "code")]
    assert list(missing.rows) == [r[0] for r in con.execute(
        "SELECT _source_file FROM staging.filed WHERE code IS NULL "
        "ORDER BY _source_file, rowid LIMIT 10").fetchall()]
    assert len(missing.rows) == len(missing.sample) > 0
    repeated = outcomes[(UNIQUE, "code")]
    assert len(repeated.rows) == len(repeated.sample) == 10
    assert list(repeated.rows) == sorted(repeated.rows)
    assert {r for o in outcomes.values() for r in o.rows} <= {f"file_{i}.csv" for i in range(7)}


def test_per_value_rules_see_distinct_values_and_the_others_rows(probe, monkeypatch):
    """GX is given a frame of each column's distinct values (and a null) for the per-value
    rules, and the rows, text as categoricals, for the others."""
    from pipelines.quality import great_expectations as suites

    con, _ = probe
    frames = []
    validate = suites._validate

    def spied(gx, night, name, frame, ran):
        frames.append((list(frame.columns), len(frame), {e.expectation_type for e in ran},
                       {c: str(t) for c, t in frame.dtypes.items()}))
        return validate(gx, night, name, frame, ran)

    monkeypatch.setattr(suites, "_validate", spied)
    suites.run_suite(con, "probe")
    distinct = dict(con.execute(
        "SELECT 'code', count(DISTINCT code) + 1 FROM staging.probe UNION ALL "
        "SELECT 'amount', count(DISTINCT amount) + 1 FROM staging.probe").fetchall())
    by_columns = {tuple(columns): (n, kinds, dtypes) for columns, n, kinds, dtypes in frames}
    assert by_columns[("code",)][:2] == (distinct["code"], {
        NOT_NULL, REGEX, "expect_column_values_to_not_match_regex",
        "expect_column_values_to_not_be_in_set"})
    assert by_columns[("amount",)][:2] == (distinct["amount"], {BETWEEN})
    rows, kinds, dtypes = by_columns[("key", "month", "code")]
    assert rows == 400 and kinds == {NOT_NULL, UNIQUE, COMPOUND_UNIQUE,
                                     "expect_table_row_count_to_be_between"}
    assert dtypes["code"] == dtypes["key"] == "category"
