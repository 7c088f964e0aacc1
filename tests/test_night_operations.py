"""Nights over changing landing folders: re-runs, files sent twice or corrected, bad files,
unresolved place names and their correction, and no network."""

import datetime as dt
import gzip
import html
import json
import os
import re
import shutil
import socket
import time
import zipfile

import duckdb
import pytest
from support import make_landing, run_night

from pipelines import warehouse
from pipelines.cli import summarise
from pipelines.ingest.digests import file_sha256
from pipelines.settings import get_settings
from pipelines.sql import define_macros, hold_macros, release_macros

STAGING_TABLES = ("staging.activity", "staging.census", "staging.census_communes",
                  "staging.followup")


@pytest.fixture
def landing(tmp_path):
    return make_landing(tmp_path / "landing", months=2)


def _connect(home):
    return duckdb.connect(str(home / "warehouse" / "observatoire.duckdb"), read_only=True)


def _content_hash(con, table: str, lineage: bool = True) -> tuple[int, str]:
    """Count and hash of the rows, without their load id (and without any lineage column)."""
    columns = [c for c in con.execute(f"SELECT * FROM {table} LIMIT 0").fetchdf().columns
               if c != "_load_id" and (lineage or not c.startswith("_source"))]
    quoted = ", ".join(f'"{c}"' for c in columns)
    return con.execute(
        f"SELECT count(*), coalesce(sum(hash({quoted})), 0)::VARCHAR FROM {table}"
    ).fetchone()


def _events(result, kind):
    return [e.event_specific_data for e in result.all_events if e.event_type_value == kind]


# A two-month landing of 2023 is always older than the freshness policy, its synthetic MSPs are
# in no census, and the 2013 census writes three communes with a typo: these warnings are true
# of every night here, not of the case tested.
ALWAYS_WARNED = ("freshness", "structures_known", "unresolved_communes")


def _failed_checks(result):
    return [e for e in _events(result, "ASSET_CHECK_EVALUATION")
            if not e.passed and e.check_name not in ALWAYS_WARNED]


def test_rerun_leaves_staging_identical_and_loads_nothing_twice(tmp_path, landing):
    home = tmp_path / "home"
    assert run_night(home, landing).success
    with _connect(home) as con:
        first = {t: _content_hash(con, t) for t in STAGING_TABLES}
        raw_rows = con.execute("SELECT count(*) FROM raw.activity").fetchone()[0]
    assert run_night(home, landing).success
    with _connect(home) as con:
        assert {t: _content_hash(con, t) for t in STAGING_TABLES} == first
        assert con.execute("SELECT count(*) FROM raw.activity").fetchone()[0] == raw_rows


def test_file_sent_twice_is_loaded_once_and_corrected_file_supersedes(tmp_path, landing):
    home = tmp_path / "home"
    assert run_night(home, landing).success
    followup = next((landing / "followup").glob("*.csv"))
    shutil.copyfile(followup, followup.with_name("copie_du_meme_fichier.csv"))
    lines = followup.read_text(encoding="utf-8").splitlines()
    corrected = "\n".join(lines[:-2]) + "\n"  # the sender withdrew the last two rows
    followup.write_text(corrected, encoding="utf-8")
    assert run_night(home, landing).success
    with _connect(home) as con:
        staged = con.execute("SELECT count(*) FROM staging.followup").fetchone()[0]
        statuses = dict(con.execute(
            """SELECT status, count(*) FROM raw.loaded_files WHERE family = 'followup'
               GROUP BY 1""").fetchall())
    assert staged == len(lines) - 3  # header and the two withdrawn rows
    assert statuses == {"chargé": 1, "remplacé": 1, "doublon": 1}


def test_rejected_rows_block_publication_unless_within_tolerance(tmp_path, landing,
                                                                   monkeypatch):
    home = tmp_path / "home"
    assert run_night(home, landing).success
    published = home / "warehouse" / "observatoire.duckdb"
    before = published.read_bytes()
    source = sorted((landing / "activity").glob("*.csv"))[0]
    lines = source.read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(";")
    fields[0] = "2024-13"
    lines[1] = ";".join(fields)
    fields = lines[2].split(";")
    fields[7] = "-4"  # nb_actes
    lines[2] = ";".join(fields)
    lines.append("2024-01;tronquée")  # a line cut short: no column to name
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")

    blocked = run_night(home, landing)
    assert not blocked.success
    assert published.read_bytes() == before
    failed = _failed_checks(blocked)
    assert [(tuple(e.asset_key.path), e.check_name) for e in failed] == [
        (("staging", "activity"), "accepted_inputs")]
    sample = failed[0].metadata["failures"].value[0]["unexpected_values"]
    name = f"activity/{source.name}"
    assert sample[0].startswith(f"{name} ligne 2, colonne periode = « 2024-13 »")
    assert sample[1].startswith(f"{name} ligne 3, colonne nb_actes = « -4 »")
    assert sample[2].startswith(f"{name} ligne {len(lines)} : 2 champ(s) au lieu de ")
    # what the analyst reads under the blocking rule: how to fix the rows, or let them wait
    monkeypatch.setenv("OBSERVATOIRE_HOME", str(home))
    summary = summarise(blocked, get_settings(), 1)
    assert ("BLOQUANT : staging/activity · accepted_inputs\n"
            f"      lignes rejetées dans la tolérance : {name} ligne 2") in summary
    assert ("        Que faire : Chaque ligne citée dit ce qui ne va pas : corrigez-la dans le "
            "fichier, puis déposez le fichier corrigé sous le même nom : il remplace le "
            "précédent. Au-delà de la tolérance OBSERVATOIRE_REJECTED_TOLERANCE") in summary

    monkeypatch.setenv("OBSERVATOIRE_REJECTED_TOLERANCE", "0.01")
    result = run_night(home, landing)
    assert result.success
    with _connect(home) as con:
        rejected = con.execute(
            """SELECT source_file, source_row, column_name, reason FROM audit.rejected_rows
               WHERE table_name = 'staging.activity' ORDER BY source_row""").fetchall()
        raw, staged = con.execute(
            "SELECT (SELECT count(*) FROM raw.activity), (SELECT count(*) FROM staging.activity)"
        ).fetchone()
    assert [(f, r, c) for f, r, c, _ in rejected] == [
        (name, 2, "periode"), (name, 3, "nb_actes"), (name, len(lines), None)]
    assert "période illisible" in rejected[0][3] and "négatif" in rejected[1][3]
    assert raw == staged + 2
    warned = _failed_checks(result)
    assert [(tuple(e.asset_key.path), e.check_name, e.severity.value) for e in warned] == [
        (("staging", "activity"), "accepted_inputs", "WARN")]
    # the quality page says what the check observed in French, the share as a percentage
    page = (home / "dashboards" / "qualite.html").read_text(encoding="utf-8")
    assert re.search(r"lignes rejetées : 3, part : 0,\d\d %, tolérance : 1 %", page), \
        re.findall(r"lignes rejetées : [^<]*", page)


def test_rows_of_professions_the_observatory_does_not_follow_are_set_aside_without_blocking(
        tmp_path, landing):
    """An MSP's export also lists its pharmacist and its dietitian: their rows used to be
    rejected as an unknown profession, which blocked the night. A misspelt profession still
    does."""
    home = tmp_path / "home"
    source = sorted((landing / "activity").glob("*.csv"))[0]
    lines = source.read_text(encoding="utf-8").splitlines()
    # an osteopath and an intern were unknown professions, which blocked the night too
    for row, profession in ((1, "Pharmacien"), (2, "Diététicienne"), (4, "Ostéopathe"),
                            (5, "Interne")):
        fields = lines[row].split(";")
        fields[2] = profession
        lines[row] = ";".join(fields)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_night(home, landing)
    assert result.success
    warned = _failed_checks(result)
    assert [(tuple(e.asset_key.path), e.check_name, e.severity.value) for e in warned] == [
        (("staging", "activity"), "accepted_inputs", "WARN")]
    [failure] = warned[0].metadata["failures"].value
    assert failure["expectation"] == "rows_of_professions_not_followed"
    name = f"activity/{source.name}"
    assert [v.split(" : ")[0] for v in failure["unexpected_values"]] == [
        f"{name} ligne 2, colonne profession = « Pharmacien »",
        f"{name} ligne 3, colonne profession = « Diététicienne »",
        f"{name} ligne 5, colonne profession = « Ostéopathe »",
        f"{name} ligne 6, colonne profession = « Interne »"]
    with _connect(home) as con:
        raw, staged, set_aside = con.execute(
            """SELECT (SELECT count(*) FROM raw.activity),
                      (SELECT count(*) FROM staging.activity),
                      (SELECT count(*) FROM audit.rejected_rows
                       WHERE reason LIKE 'profession que l''observatoire ne suit pas%')"""
        ).fetchone()
    assert (raw - staged, set_aside) == (4, 4)

    fields = lines[3].split(";")
    fields[2] = "Pharmacienne d'offcine"  # misspelt: nobody can tell what it is
    lines[3] = ";".join(fields)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not run_night(home, landing).success


def test_a_total_or_a_note_below_a_spreadsheets_table_is_set_aside_without_blocking(
        tmp_path, landing):
    """A spreadsheet saved as CSV keeps the title of a group of rows, the total and the source
    written below its table: they were rejected as rows with an unreadable month or date, which
    blocked the night. Typed or exported with fewer fields than the header, they were rejected
    as truncated lines, which blocked it too."""
    home = tmp_path / "home"
    source = sorted((landing / "activity").glob("*.csv"))[0]
    width = source.read_text(encoding="utf-8").splitlines()[0].count(";")
    with source.open("a", encoding="utf-8") as file:
        file.write("Total;;;;;;12,5;3456" + ";" * (width - 7) + "\n")
        file.write("Total;3456\nSource : export du logiciel métier\n")
    (landing / "census" / "projets_complementaires.csv").write_text(
        "date_recensement;region;territoire;nom_projet;type_structure;communes;stade\n"
        ";;Littoral;;;;\n"
        "2013-05;Nord-Pas-de-Calais;Littoral;Pôle de Wimereux;PSP;Wimereux;En réflexion\n"
        ";;Total;;;;1\n"
        "Source : ARS Nord-Pas-de-Calais, mai 2013;;;;;;\n", encoding="utf-8")
    result = run_night(home, landing)
    assert result.success
    warned = _failed_checks(result)
    assert sorted((tuple(e.asset_key.path), e.check_name, e.severity.value) for e in warned) == [
        (("staging", "activity"), "accepted_inputs", "WARN"),
        (("staging", "census"), "accepted_inputs", "WARN")]
    values = {tuple(e.asset_key.path): [v.split(" : ")[0] for v in next(
        f for f in e.metadata["failures"].value
        if f["expectation"] == "footer_lines_set_aside")["unexpected_values"]] for e in warned}
    lines = len(source.read_text(encoding="utf-8").splitlines())
    assert values == {
        ("staging", "activity"): [f"activity/{source.name} ligne {lines - 2}, colonne periode "
                                  "= « Total »", f"activity/{source.name} ligne {lines - 1}",
                                  f"activity/{source.name} ligne {lines}"],
        ("staging", "census"): [
            "census/projets_complementaires.csv ligne 2, colonne territoire = « Littoral »",
            "census/projets_complementaires.csv ligne 4, colonne territoire = « Total »",
            "census/projets_complementaires.csv ligne 5, colonne date_recensement = « Source"]}
    with _connect(home) as con:
        assert con.execute("SELECT count(*) FROM staging.census WHERE project_name = "
                           "'Pôle de Wimereux'").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM audit.rejected_rows WHERE reason LIKE "
                           "'ligne de titre, de total ou de note du tableau%'").fetchone()[0] == 6


def test_files_put_end_to_end_load_without_their_repeated_header(tmp_path, landing):
    """Monthly exports put end to end (`copy *.csv tout.csv`), each with its header and byte
    order mark: the second header was a row with an unreadable month, which blocked the night.
    It is set aside as a title line; every month loads."""
    home = tmp_path / "home"
    months = sorted((landing / "activity").glob("*.csv"))
    texts = [path.read_text(encoding="utf-8-sig") for path in months]
    for path in months:
        path.unlink()
    (landing / "activity" / "activite_tout.csv").write_text(
        "".join("\ufeff" + text for text in texts), encoding="utf-8")
    result = run_night(home, landing)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    second_header = texts[0].count("\n") + 1
    with _connect(home) as con:
        assert con.execute("SELECT count(*) FROM staging.activity").fetchone()[0] == sum(
            text.count("\n") - 1 for text in texts)
        assert con.execute("SELECT source_row, reason FROM audit.rejected_rows").fetchall() == [
            (second_header, "ligne de titre, de total ou de note du tableau : ce n'est pas une "
                             "donnée, écartée sans bloquer la nuit")]


def test_refused_file_blocks_the_night_with_a_french_message(tmp_path, landing, monkeypatch):
    home = tmp_path / "home"
    assert run_night(home, landing).success
    published = home / "warehouse" / "observatoire.duckdb"
    before = published.read_bytes()
    (landing / "census" / "recensement_incomplet.csv").write_text(
        "date_recensement;region;territoire;nom_projet\n2014-01;Hauts-de-France;Littoral;X\n",
        encoding="utf-8")
    result = run_night(home, landing)
    assert not result.success
    failed = _failed_checks(result)
    assert [(tuple(e.asset_key.path), e.check_name) for e in failed] == [
        (("staging", "census"), "accepted_inputs")]
    sample = failed[0].metadata["failures"].value[0]["unexpected_values"][0]
    assert "recensement_incomplet.csv" in sample and "stade" in sample
    assert published.read_bytes() == before
    monkeypatch.setenv("OBSERVATOIRE_HOME", str(home))
    summary = summarise(result, get_settings(), 1)
    assert ("      fichiers déposés lisibles : census/recensement_incomplet.csv : ") in summary
    assert ("        Que faire : Le message dit pourquoi le fichier est refusé : corrigez-le ou "
            "exportez-le à nouveau, puis déposez-le sous le même nom.") in summary


def test_a_blocked_first_night_says_nothing_was_ever_published(tmp_path, landing,
                                                              monkeypatch, capsys):
    from pipelines.cli import main

    (landing / "census" / "recensement_incomplet.csv").write_text(
        "date_recensement;region;territoire;nom_projet\n2014-01;Hauts-de-France;Littoral;X\n",
        encoding="utf-8")
    for name in ("OBSERVATOIRE_HOME", "OBSERVATOIRE_LANDING", "DAGSTER_HOME"):
        monkeypatch.setenv(name, "")  # the CLI exports its own; restored after the test
    monkeypatch.setenv("OBSERVATOIRE_SETTLE_SECONDS", "0")
    home = tmp_path / "home"
    assert main(["run", "--home", str(home), "--landing", str(landing)]) == 1
    summary = capsys.readouterr().out
    assert "Rien n'a été publié : aucun entrepôt ne l'a encore été (première nuit)." in summary
    assert "reste en place" not in summary
    assert not (home / "warehouse" / "observatoire.duckdb").exists()
    # no site to open yet: the account is named for what it is
    account = home / "dashboards" / "nuit-bloquee.json"
    assert ("Pas encore de tableaux de bord (aucune nuit publiée) : ce qui a bloqué est "
            f"ci-dessus, et dans {account}.") in summary
    assert "recensement_incomplet.csv" in account.read_text(encoding="utf-8")


def test_a_mistyped_landing_folder_is_refused_before_anything_runs(tmp_path, monkeypatch,
                                                                    capsys):
    """A landing that does not exist is not an empty one: a first night would have published an
    empty warehouse."""
    from pipelines.cli import main

    for name in ("OBSERVATOIRE_HOME", "OBSERVATOIRE_LANDING", "DAGSTER_HOME"):
        monkeypatch.setenv(name, "")  # the CLI exports its own; restored after the test
    home, landing = tmp_path / "home", tmp_path / "depot-mal-tape"
    assert main(["run", "--home", str(home), "--landing", str(landing)]) == 1
    assert (f"Nuit impossible : le dossier de dépôt {landing} n'existe pas : vérifiez --landing "
            "ou OBSERVATOIRE_LANDING") in capsys.readouterr().err
    assert not (home / "warehouse").exists()


def test_unresolved_place_name_is_listed_then_fixed_by_a_correction_file(tmp_path, landing):
    home = tmp_path / "home"
    census = next((landing / "census").glob("*.xlsx"))
    extra = landing / "census" / "projet_supplementaire.csv"
    extra.write_text(
        "date_recensement;region;territoire;nom_projet;type_structure;communes;stade\n"
        "2013-05;Nord-Pas-de-Calais;Littoral;Pôle des Sept Vallées;PSP;"
        "Sept Vallées du Ternois;En réflexion\n", encoding="utf-8")
    assert census.exists()
    result = run_night(home, landing)
    assert result.success
    # `observatoire run` names them, with their file and line, and says what to do
    from pipelines.cli import _failure

    [warning] = [e for e in _events(result, "ASSET_CHECK_EVALUATION")
                 if e.check_name == "unresolved_communes"]
    [failure] = warning.metadata["failures"].value
    printed = _failure("staging.census_communes", failure)
    assert printed.startswith("noms de communes reconnus (colonne communes) : Aunoye-Aymeries "
                              f"(census/{census.name}, ligne ")
    assert "; Sept Vallées du Ternois (census/projet_supplementaire.csv, ligne 2); " in printed
    assert printed.endswith("Que faire : La page Qualité des données donne les communes "
                            "candidates de chaque nom. Une ligne « nom_ecrit;codes_insee » dans "
                            "reference/corrections_communes.csv du dossier de dépôt corrige le "
                            "nom, ou confirme la commune lue au plus proche.")
    with _connect(home) as con:
        unresolved = con.execute(
            "SELECT value, source_row, status, candidates, fix FROM audit.unresolved_communes "
            "ORDER BY value").fetchall()
    # the seed's three typos are read as the nearest commune, and listed to be confirmed
    assert [(v, s, c) for v, _, s, c, _ in unresolved] == [
        ("Aunoye-Aymeries", "approximate", "59033 Aulnoye-Aymeries (0.93)"),
        ("Hondshoote", "approximate", "59309 Hondschoote (0.90)"),
        ("Sept Vallées du Ternois", "unresolved", unresolved[2][3]),
        ("Villers-Outréau", "approximate", "59624 Villers-Outréaux (0.93)")]
    assert unresolved[2][1] == 2
    assert all("corrections_communes.csv" in fix for *_, fix in unresolved)
    assert "si ce n'est pas elle, ou pour confirmer la lecture" in unresolved[0][4]
    (landing / "reference").mkdir()
    (landing / "reference" / "corrections_communes.csv").write_text(
        "nom_ecrit;codes_insee;commentaire\nSept Vallées du Ternois;62364 62361;Fruges, Frévent\n"
        "Hondshoote;59309;\nAunoye-Aymeries;59033;\nVillers-Outréau;59624;\n",
        encoding="utf-8")
    assert run_night(home, landing).success
    with _connect(home) as con:
        assert con.execute("SELECT count(*) FROM audit.unresolved_communes").fetchone()[0] == 0
        codes = con.execute(
            """SELECT commune_codes FROM marts.census_projects
               WHERE project_name = 'Pôle des Sept Vallées'""").fetchone()[0]
    assert codes == "62361, 62364"


def test_a_night_makes_no_network_connection(tmp_path, landing, monkeypatch):
    attempts = []
    original = socket.socket.connect

    def loopback_only(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (host.startswith("127.") or host in ("::1",
                                                                              "localhost")):
            attempts.append(address)
            raise ConnectionRefusedError(f"network refused by the test: {address}")
        return original(sock, address)

    monkeypatch.setattr(socket.socket, "connect", loopback_only)
    result = run_night(tmp_path / "home", landing)
    assert result.success
    assert attempts == []


def test_file_still_being_written_waits_for_the_next_night(tmp_path, landing, monkeypatch):
    home = tmp_path / "home"
    assert run_night(home, landing).success
    monkeypatch.setenv("OBSERVATOIRE_SETTLE_SECONDS", "600")
    previous = landing / "activity" / "activite_2023-02.csv"
    arriving = landing / "activity" / "activite_2023-03.csv"
    arriving.write_text(previous.read_text(encoding="utf-8").replace("2023-02;", "2023-03;"),
                        encoding="utf-8")
    assert run_night(home, landing).success
    with _connect(home) as con:
        months = con.execute("SELECT count(DISTINCT period_month) FROM staging.activity"
                             ).fetchone()[0]
        kind, deferred = con.execute(
            "SELECT kind, deferred_files FROM raw.night_plans ORDER BY planned_at DESC LIMIT 1"
        ).fetchone()
    assert months == 2 and kind == "rien de nouveau"
    reason = json.loads(deferred)["activity/activite_2023-03.csv"]
    assert "en cours d'écriture" in reason and "nuit suivante" in reason

    settled = arriving.stat().st_mtime - 900  # the sender finished a quarter of an hour ago
    os.utime(arriving, (settled, settled))
    result = run_night(home, landing)
    assert result.success
    with _connect(home) as con:
        staged = dict(con.execute(
            "SELECT strftime(period_month, '%Y-%m'), count(*) FROM staging.activity GROUP BY 1"
        ).fetchall())
        kind, months = con.execute(
            "SELECT kind, months FROM raw.night_plans ORDER BY planned_at DESC LIMIT 1"
        ).fetchone()
    assert staged["2023-03"] == staged["2023-02"] > 0
    assert (kind, json.loads(months)) == ("incrémentale", ["2023-03"])
    ran = {e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}
    assert {"raw__activity", "staging__activity"} <= ran and "raw__census" not in ran


def test_a_file_taken_out_of_the_landing_keeps_its_rows_and_is_named_with_how_to_withdraw_them(
        tmp_path, landing):
    """Landing folders are emptied once read: a night keeps the rows of a file it no longer
    sees, and says so. A header-only file under the same name withdraws them."""
    from pipelines.ingest.plan import GONE, describe_plan, plan_night
    from pipelines.settings import get_settings

    home = tmp_path / "home"
    assert run_night(home, landing).success
    with _connect(home) as con:
        rows = con.execute("SELECT count(*) FROM staging.activity").fetchone()[0]
    source = sorted((landing / "activity").glob("*.csv"))[-1]
    header = source.read_text(encoding="utf-8").splitlines()[0]
    name = f"activity/{source.name}"
    source.unlink()
    assert run_night(home, landing).success
    with _connect(home) as con:
        assert con.execute("SELECT count(*) FROM staging.activity").fetchone()[0] == rows
        [(unread,)] = con.execute(
            "SELECT unread_files FROM raw.night_plans ORDER BY planned_at DESC LIMIT 1"
        ).fetchall()
    assert json.loads(unread) == {name: GONE}
    page = html.unescape((home / "dashboards" / "qualite.html").read_text(encoding="utf-8"))
    assert f"<th>{name}</th>" in page and "réduit à sa ligne d'en-tête" in page
    os.environ["OBSERVATOIRE_HOME"], os.environ["OBSERVATOIRE_LANDING"] = str(home), str(landing)
    try:
        said = describe_plan(plan_night(get_settings()))
    finally:
        del os.environ["OBSERVATOIRE_HOME"], os.environ["OBSERVATOIRE_LANDING"]
    assert f"  retiré : {name} : chargé par une nuit précédente" in said

    source.write_text(header + "\n", encoding="utf-8")
    assert run_night(home, landing).success
    with _connect(home) as con:
        left = con.execute("SELECT count(*) FROM staging.activity WHERE _source_file = ?",
                           [name]).fetchone()[0]
        [(unread,)] = con.execute(
            "SELECT unread_files FROM raw.night_plans ORDER BY planned_at DESC LIMIT 1"
        ).fetchall()
    assert (left, json.loads(unread)) == (0, {})


def test_compressed_files_load_as_the_csv_they_hold(tmp_path, landing):
    """An activity month sent as activite_2023-02.csv.gz and the follow-up criteria as a .zip
    of their CSV publish what the CSVs publish; each is known by the sha256 of what was
    dropped, so the same archive dropped again is not loaded twice."""
    home = tmp_path / "home"
    assert run_night(home, landing).success
    with _connect(home) as con:
        plain = {table: _content_hash(con, table, lineage=False)
                 for table in ("staging.activity", "staging.followup", "marts.indicator_values")}
    month = landing / "activity" / "activite_2023-02.csv"
    criteria = landing / "followup" / "criteres_suivi.csv"
    gzipped = month.with_name(month.name + ".gz")
    gzipped.write_bytes(gzip.compress(month.read_bytes()))
    zipped = criteria.with_suffix(".zip")
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(criteria, criteria.name)
    month.unlink()
    criteria.unlink()
    compressed = tmp_path / "compressed"
    shutil.copytree(home / "secrets", compressed / "secrets")  # the same pseudonyms
    assert run_night(compressed, landing).success
    with _connect(compressed) as con:
        assert {table: _content_hash(con, table, lineage=False) for table in plain} == plain
        loaded = dict(con.execute(
            "SELECT source_file, sha256 FROM raw.loaded_files WHERE status = 'chargé'"
        ).fetchall())
        staged = con.execute("SELECT count(*) FROM staging.activity WHERE _source_file = ?",
                             ["activity/activite_2023-02.csv.gz"]).fetchone()[0]
    assert loaded["activity/activite_2023-02.csv.gz"] == file_sha256(gzipped)
    assert loaded["followup/criteres_suivi.zip"] == file_sha256(zipped)
    assert staged > 0
    assert run_night(compressed, landing).success
    with _connect(compressed) as con:
        assert con.execute("SELECT count(*) FROM raw.loaded_files WHERE source_file = ?",
                           ["activity/activite_2023-02.csv.gz"]).fetchone()[0] == 1


def test_files_no_night_reads_are_named_with_what_to_do(tmp_path, landing):
    """A file dropped beside the folders, in an unknown one, or in a format no reader takes is
    said by the plan, kept in raw.night_plans and shown on the quality page; notes, hidden
    files and office lock files are not data."""
    from pipelines.ingest.plan import describe_plan, plan_night
    from pipelines.settings import get_settings

    followup = next((landing / "followup").glob("*.csv"))
    shutil.copyfile(followup, landing / "criteres_de_suivi.csv")
    (landing / "divers").mkdir()
    shutil.copyfile(followup, landing / "divers" / "criteres.csv")
    (landing / "census" / "recensement.ods").write_bytes(b"PK\x03\x04")
    (landing / "census" / "recensement.7z").write_bytes(b"7z\xbc\xaf\x27\x1c")
    # the public files' readers open no archive, the families' a compressed CSV only
    (landing / "reference" / "finess").mkdir(parents=True)
    (landing / "reference" / "finess" / "etalab.zip").write_bytes(b"PK\x03\x04")
    (landing / "followup" / "criteres.xlsx.gz").write_bytes(gzip.compress(b"PK\x03\x04"))
    (landing / "census" / "~$recensement.xlsx").write_bytes(b"lock")
    (landing / "activity" / ".DS_Store").write_bytes(b"")
    (landing / "activity" / "LISEZMOI.txt").write_text("Activité 2023.", encoding="utf-8")
    home = tmp_path / "home"
    assert run_night(home, landing).success

    with _connect(home) as con:
        [(unread,)] = con.execute(
            "SELECT unread_files FROM raw.night_plans ORDER BY planned_at DESC LIMIT 1"
        ).fetchall()
    unread = json.loads(unread)
    assert list(unread) == ["census/recensement.7z", "census/recensement.ods",
                            "criteres_de_suivi.csv", "divers/criteres.csv",
                            "followup/criteres.xlsx.gz", "reference/finess/etalab.zip"]
    assert unread["census/recensement.ods"].startswith("format « .ods » non lu : enregistrez")
    for archive in ("census/recensement.7z", "followup/criteres.xlsx.gz",
                    "reference/finess/etalab.zip"):
        assert unread[archive].endswith(" non lu : décompressez-le dans ce dossier")
    assert unread["divers/criteres.csv"].startswith(
        "hors des dossiers que la nuit lit : déplacez-le dans celui de sa famille (activity/, "
        "census/, followup/, reference/")
    page = (home / "dashboards" / "qualite.html").read_text(encoding="utf-8")
    assert "Fichiers que la nuit ne lit pas, ou retirés du dépôt" in page
    assert "<th>divers/criteres.csv</th>" in page

    os.environ["OBSERVATOIRE_HOME"], os.environ["OBSERVATOIRE_LANDING"] = str(home), str(landing)
    try:
        said = describe_plan(plan_night(get_settings()))
    finally:
        del os.environ["OBSERVATOIRE_HOME"], os.environ["OBSERVATOIRE_LANDING"]
    assert "  non lu : criteres_de_suivi.csv : hors des dossiers que la nuit lit" in said


def test_a_landing_without_activity_publishes_then_takes_its_first_months(
        tmp_path, landing, monkeypatch):
    """An observatory that follows only its census and contracts publishes from its first
    night (Dagster runs no partitioned asset without a month: the night once failed on
    staging/activity), says why the activity indicators are missing, and loads its first
    activity files as new months."""
    from pipelines.ingest.plan import describe_plan, plan_night
    from pipelines.settings import get_settings

    held = tmp_path / "held"
    shutil.move(landing / "activity", held)
    home = tmp_path / "home"
    for name, value in (("OBSERVATOIRE_HOME", home), ("OBSERVATOIRE_LANDING", landing),
                        ("OBSERVATOIRE_SETTLE_SECONDS", 0), ("OBSERVATOIRE_CODE_VERSION", "tests")):
        monkeypatch.setenv(name, str(value))
    assert describe_plan(plan_night(get_settings())).startswith(
        "Plan : nuit complète (premier passage, code et modèles changés, ou "
        "reference/professions.csv modifié), aucun fichier d'activité.")
    result = run_night(home, landing)
    assert result.success, [e.message for e in result.all_events if e.is_failure]

    def published() -> tuple:
        with _connect(home) as con:
            return con.execute(
                """SELECT (SELECT count(*) FROM staging.activity),
                          (SELECT count(DISTINCT period_month) FROM staging.activity),
                          (SELECT count(*) FROM marts.census_projects),
                          (SELECT count(*) FROM marts.followup_criteria),
                          (SELECT list(DISTINCT reason) FROM marts.indicator_status
                           WHERE indicator_id IN (SELECT indicator_id
                                                  FROM marts.indicator_catalogue
                                                  WHERE activity_based)
                             AND coalesce(requires, 'activity_') LIKE 'activity%'),
                          (SELECT kind FROM raw.night_plans ORDER BY planned_at DESC LIMIT 1)"""
            ).fetchone()

    rows, months, projects, criteria, [reason], kind = published()
    assert (rows, months, kind) == (0, 0, "complète")
    with _connect(home) as con:
        # nothing to date: the quality page does not warn every night about missing activity
        [(fresh, observed)] = con.execute(
            """SELECT success, observed_value FROM audit.validation_results
               WHERE table_name = 'staging.activity' AND check_name = 'freshness'""").fetchall()
    assert fresh and json.loads(observed) | {"date_de_la_nuit": None} == {
        "dernier_mois": None, "age_en_mois": None, "politique_en_mois": 36,
        "date_de_la_nuit": None, "fichiers_charges": 0}
    assert projects > 0 and criteria > 0
    # densities, FTE, installations… as well as the indicators of an activity column
    assert reason == ("Aucune statistique d'activité des professionnels n'a été reçue "
                      "(dossier activity/ du dépôt).")
    offer = html.unescape((home / "dashboards" / "offre.html").read_text(encoding="utf-8"))
    sections = re.findall(r'<section class="indicateur" id="indicateur-(\w+)">(.*?)</section>',
                          offer, re.S)
    with _connect(home) as con:
        offered = {i for (i,) in con.execute("SELECT indicator_id FROM marts.indicator_catalogue "
                                             "WHERE theme = 'offre'").fetchall()}
    assert {indicator for indicator, _ in sections} == offered
    assert all(f"Indicateur non calculé : {reason.rstrip('.')}." in body for _, body in sections)

    shutil.move(held, landing / "activity")
    result = run_night(home, landing)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    rows, months, projects_after, _, [reason], kind = published()
    assert rows > 0 and months == 2 and kind == "incrémentale"
    assert projects_after == projects
    # two months of 2023: the columns are there, the complete year is not
    assert reason.startswith("Les statistiques d'activité reçues ne couvrent encore aucune "
                             "année complète")


def test_indicators_a_night_cannot_change_are_kept_and_the_others_recomputed(tmp_path, landing):
    from pipelines.transform.assets import indicator_inputs

    home = tmp_path / "home"
    assert run_night(home, landing).success
    followup = next((landing / "followup").glob("*.csv"))
    lines = followup.read_text(encoding="utf-8").splitlines()
    followup.write_text("\n".join(lines[:-2]) + "\n", encoding="utf-8")
    result = run_night(home, landing)
    assert result.success
    [materialization] = [m.materialization for m in _events(result, "ASSET_MATERIALIZATION")
                         if m.materialization.asset_key.path == ["marts", "indicator_values"]]
    kept = set(materialization.metadata["kept_from_previous_night"].value)
    reading_followup = {i for i, tables in indicator_inputs().items()
                        if tables & {("staging", "followup"), ("staging", "followup_communes")}}
    assert reading_followup and not kept & reading_followup
    assert kept == set(indicator_inputs()) - reading_followup
    # kept or recomputed, the published figures are those of a full night on the same files
    rebuild = tmp_path / "rebuild"
    assert run_night(rebuild, landing).success
    with _connect(home) as con:
        incremental = _content_hash(con, "marts.indicator_values")
    with _connect(rebuild) as con:
        assert _content_hash(con, "marts.indicator_values") == incremental


def _as_hexadecimal(con, table: str, column: str) -> None:
    """`column` of `table` back to the 64 hexadecimal characters of the HMAC (table `hexes`)."""
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema || '.' || "
        "table_name = ? ORDER BY ordinal_position", [table]).fetchall()]
    select = ", ".join(f'h.hex AS "{c}"' if c == column else f't."{c}"' for c in columns)
    schema, name = table.split(".")
    con.execute(f"CREATE TABLE {schema}.old AS SELECT {select} FROM {table} t "
                f'LEFT JOIN hexes h ON h.pseudonym = t."{column}"')
    assert con.execute(f'SELECT count(*) FROM {schema}.old WHERE "{column}" IS NULL'
                       ).fetchone() == (0,)
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE {schema}.old RENAME TO {name}")


def test_a_warehouse_of_hexadecimal_hashes_publishes_what_a_first_night_does(
        tmp_path, monkeypatch):
    """The warehouse of a version whose pseudonyms were 64 hexadecimal characters: the next
    version's first night turns its raw hashes into integers without reading its files again,
    types staging again whole, and publishes what a first night on the same files publishes."""
    import hashlib
    import hmac

    from pipelines.ingest.pseudonymise import keyed_hash
    from pipelines.settings import HMAC_KEY_ENV, Settings
    from pipelines.sources.reader import read_source_file

    monkeypatch.setenv(HMAC_KEY_ENV, "une clé partagée par les deux dossiers")
    landing = make_landing(tmp_path / "landing", months=3)
    newest = sorted((landing / "activity").glob("activite_*.csv"))[-1]
    shutil.move(newest, tmp_path / newest.name)
    home = tmp_path / "home"
    assert run_night(home, landing).success
    shutil.move(tmp_path / newest.name, newest)
    key = Settings(home, landing).hmac_key()
    identifiers = {i for path in (landing / "activity").glob("*.csv")
                   for i in read_source_file(path, "activity").frame["id_professionnel"]}
    with duckdb.connect(str(home / "warehouse" / "observatoire.duckdb")) as con:
        con.execute("CREATE TABLE hexes (pseudonym BIGINT, hex VARCHAR)")
        con.executemany("INSERT INTO hexes VALUES (?, ?)", [
            (keyed_hash(key, i), hmac.new(key, i.encode(), hashlib.sha256).hexdigest())
            for i in identifiers])
        _as_hexadecimal(con, "raw.activity", "id_professionnel_hmac")
        _as_hexadecimal(con, "staging.activity", "professional_hash")
        _as_hexadecimal(con, "staging.activity_years", "professional_hash")
        con.execute("DROP TABLE hexes")
    monkeypatch.setenv("OBSERVATOIRE_CODE_VERSION", "the next version")
    assert run_night(home, landing).success
    first = tmp_path / "first"
    assert run_night(first, landing).success
    tables = ("raw.activity", "staging.activity", "staging.activity_years",
              "marts.indicator_values")
    with _connect(first) as con:
        expected = {t: _content_hash(con, t) for t in tables}
    with _connect(home) as con:
        assert {t: _content_hash(con, t) for t in tables} == expected
        # the two months of the first night were not read again: their rows are its load's
        assert con.execute("SELECT count(DISTINCT _load_id) FROM raw.activity").fetchone() == (2,)


def test_the_night_copies_the_published_warehouse_before_its_first_step(tmp_path, monkeypatch):
    """`observatoire run` starts the copy while Dagster creates the run: the first step takes
    the copy made (or waits for it), and a copy that failed fails that step."""
    monkeypatch.setenv("OBSERVATOIRE_HOME", str(tmp_path / "home"))
    settings = get_settings()
    settings.warehouse_dir.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("CREATE TABLE t AS SELECT 42 AS x")
    warehouse.start_build_file(settings, "nuit-1")
    build = settings.build_path("nuit-1")
    # made in its thread, with no step asking for it
    assert warehouse._copies["nuit-1"].result(timeout=60) == build
    assert build.read_bytes() == settings.warehouse_path.read_bytes()
    assert warehouse._prepare_build_file(settings, "nuit-1") == build
    assert "nuit-1" not in warehouse._copies

    settings.warehouse_path.unlink()
    settings.warehouse_path.mkdir()  # no DuckDB file to copy
    warehouse.start_build_file(settings, "nuit-2")
    with pytest.raises(duckdb.Error):
        warehouse._prepare_build_file(settings, "nuit-2")


def test_the_macros_are_defined_once_in_a_file_and_again_in_a_new_one(tmp_path):
    """The night's file is open from step to step and keeps the macros: the eight steps that
    use them defined all 26 again each (30 to 40 ms). A file made anew is another file."""
    path = tmp_path / "nuit.duckdb"
    con = duckdb.connect(str(path))
    define_macros(con)
    assert con.execute("SELECT parse_month('mars 2024')").fetchone() == (dt.date(2024, 3, 1),)
    con.execute("DROP MACRO parse_month")
    define_macros(con.cursor())  # the same file: taken as defined
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT parse_month('mars 2024')")
    con.close()
    path.unlink()
    con = duckdb.connect(str(path))  # where the other was
    define_macros(con)
    assert con.execute("SELECT parse_month('mars 2024')").fetchone() == (dt.date(2024, 3, 1),)
    con.close()


def test_the_night_file_keeps_its_macros_through_its_checkpoints(tmp_path):
    """Each step checkpoints the night's file, which moves its modification time: the file held
    open from step to step is still the one the macros were defined in (they were defined
    again in two more steps of a night with one new month). Closed, it keeps them until a
    connection writes it again."""
    path = tmp_path / "nuit.duckdb"
    con = duckdb.connect(str(path))
    held = hold_macros(con)
    con.execute("DROP MACRO parse_month")
    con.execute("CREATE TABLE t AS SELECT 1 AS x")
    con.execute("CHECKPOINT")
    define_macros(con.cursor())
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT parse_month('mars 2024')")
    con.close()
    release_macros(held)
    con = duckdb.connect(str(path))  # as this process left it
    define_macros(con)
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT parse_month('mars 2024')")
    time.sleep(0.05)  # past the file system's clock tick
    con.execute("INSERT INTO t VALUES (2)")
    con.close()  # written since: defined again
    con = duckdb.connect(str(path))
    define_macros(con)
    assert con.execute("SELECT parse_month('mars 2024')").fetchone() == (dt.date(2024, 3, 1),)
    con.close()


def test_the_summary_counts_a_roadmaps_lines_not_its_rows_per_period(tmp_path, landing,
                                                                   monkeypatch):
    """A roadmap with a column per year is loaded as a row per line and year: the summary said
    « lignes chargées 6 » of a file of two lines."""
    (landing / "followup" / "feuille_de_route_par_annee.csv").write_text(
        "Programme;Territoire;Axe;Action;Critère;2022;2023;2024;Cible\n"
        "CLS Test;CA du Boulonnais;Accès;Action 1;Nombre de MSP;1;2;3;4\n"
        "CLS Test;CA du Boulonnais;Accès;Action 2;Nombre de CPTS;0;1;1;2\n", encoding="utf-8")
    home = tmp_path / "home"
    result = run_night(home, landing)
    assert result.success
    con = duckdb.connect(str(home / "warehouse" / "observatoire.duckdb"), read_only=True)
    rows, lines = con.execute("SELECT count(*), count(DISTINCT (_source_file, _source_row)) "
                              "FROM raw.followup").fetchone()
    activity = con.execute("SELECT count(*) FROM staging.activity").fetchone()[0]
    con.close()
    assert rows == lines + 4
    monkeypatch.setenv("OBSERVATOIRE_HOME", str(home))
    summary = summarise(result, get_settings(), 1)
    assert (f"lignes chargées {lines} ({rows} valeurs, une par ligne et période), "
            f"lignes typées {rows}, rejetées 0") in summary
    activity_line = summary.split("activity  fichiers chargés")[1].split("\n")[0]
    assert "(valeurs" not in activity_line
    # thousands grouped as the analyst reads them: « 9 744 », not « 9744 »
    assert activity >= 1000
    assert f"lignes typées {activity:,}".replace(",", "\u202f") + ", " in activity_line


def test_a_new_months_night_keeps_the_rejected_rows_a_full_rebuild_would(tmp_path,
                                                                         monkeypatch):
    """A night with one new month types that month again and keeps the other months' rejected
    rows: those of the new month and of lines with no readable month are made again, the
    others stay, as a rebuild of every month would leave them."""
    monkeypatch.setenv("OBSERVATOIRE_REJECTED_TOLERANCE", "0.05")
    landing = make_landing(tmp_path / "landing", months=3)
    first, *_, newest = sorted((landing / "activity").glob("*.csv"))

    def edit(path, rows: dict[int, dict[int, str]]) -> None:
        lines = path.read_text(encoding="utf-8").splitlines()
        for row, fields in rows.items():
            cells = lines[row].split(";")
            for index, value in fields.items():
                cells[index] = value
            lines[row] = ";".join(cells)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # set aside (a profession not followed), rejected (negative acts), no readable month
    edit(first, {1: {2: "Pharmacien"}, 2: {7: "-4"}, 3: {0: "2024-13"}})
    edit(newest, {1: {2: "Ostéopathe"}, 2: {0: "13/2024"}})
    held = tmp_path / newest.name
    shutil.move(newest, held)
    home = tmp_path / "home"
    assert run_night(home, landing).success
    shutil.move(held, newest)
    incremental = run_night(home, landing)
    assert incremental.success
    assert json.loads(incremental.dagster_run.tags["observatoire/plan"])["months"] == [
        newest.stem.removeprefix("activite_")]
    rebuild = tmp_path / "rebuild"
    assert run_night(rebuild, landing).success

    def rejected(home) -> list[tuple]:
        with _connect(home) as con:
            return con.execute(
                """SELECT source_file, source_row, column_name, value, reason
                   FROM audit.rejected_rows WHERE table_name = 'staging.activity'
                   ORDER BY ALL""").fetchall()

    kept = rejected(home)
    assert [(file.split("/")[-1], row) for file, row, *_ in kept] == [
        (first.name, 2), (first.name, 3), (first.name, 4), (newest.name, 2), (newest.name, 3)]
    assert kept == rejected(rebuild)


def test_a_profession_the_analysts_spell_out_in_the_landing_is_read_as_they_say(tmp_path,
                                                                                 landing):
    """An export's own spelling of a profession blocked every night (« profession inconnue »)
    until the export was edited; a line of reference/professions.csv maps it for good. A line
    naming no profession of the vocabulary is reported, the others applied; a change of the
    file types every month again."""
    home = tmp_path / "home"
    source = sorted((landing / "activity").glob("*.csv"))[0]
    lines = source.read_text(encoding="utf-8").splitlines()
    for row, spelling in ((1, "Kiné D.E."), (2, "Psy")):
        fields = lines[row].split(";")
        fields[2] = spelling
        lines[row] = ";".join(fields)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert not run_night(home, landing).success

    (landing / "reference").mkdir(exist_ok=True)
    spellings = landing / "reference" / "professions.csv"
    spellings.write_text("libelle_ecrit;profession;commentaire\n"
                         "Kiné D.E.;Masseur-kinésithérapeute;logiciel du cabinet\n"
                         "Psy;Psychologue;\n"
                         "Bidule;Astrologue;\n", encoding="cp1252")
    result = run_night(home, landing)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    name = f"activity/{source.name}"
    with _connect(home) as con:
        assert con.execute("SELECT profession_code FROM staging.activity WHERE _source_file = ? "
                           "AND _source_row = 2", [name]).fetchall() == [
            ("masseur_kinesitherapeute",)]
        assert con.execute("SELECT source_row, reason FROM audit.rejected_rows").fetchall() == [
            (3, "profession que l'observatoire ne suit pas : ligne écartée sans bloquer la nuit "
                "(voir ref.other_professions)")]
        unread = json.loads(con.execute(
            "SELECT unread_files FROM raw.night_plans ORDER BY planned_at DESC LIMIT 1"
        ).fetchone()[0])
    assert unread["reference/professions.csv"].startswith(
        "lignes non appliquées, les autres le sont : ligne 4 : « Astrologue » n'est pas une "
        "profession du vocabulaire (suivies : Médecin généraliste, Infirmier")

    spellings.write_text(spellings.read_text(encoding="cp1252") + "Orthop.;Orthoptiste;\n",
                         encoding="cp1252")
    again = run_night(home, landing)
    assert again.success
    assert json.loads(again.dagster_run.tags["observatoire/plan"])["kind"] == "complète"
