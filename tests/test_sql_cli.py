"""`observatoire sql`: read-only, no file outside the warehouse, aligned table or CSV, query from
the command line, a file or standard input, and French errors that name the closest table."""

import csv
import hashlib
import io
import shutil
import subprocess
import sys

import duckdb
import pytest

from pipelines.query import connect_read_only
from pipelines.settings import REPO_ROOT

TERRITORIES = """SELECT geo_name, value FROM marts.indicator_values
WHERE indicator_id = 'projets_nombre' AND geo_level = 'territoire_sante'
  AND category = 'ensemble' AND period = '2013-05' ORDER BY geo_name"""


@pytest.fixture(scope="module")
def home(night, tmp_path_factory):
    """A home holding only a copy of the night's published file."""
    source, _ = night
    copy = tmp_path_factory.mktemp("sql-home")
    (copy / "warehouse").mkdir()
    shutil.copyfile(source / "warehouse" / "observatoire.duckdb",
                    copy / "warehouse" / "observatoire.duckdb")
    return copy


def sql(home, *args, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "sql", "--home", str(home), *args],
        input=stdin, capture_output=True, text=True, cwd=REPO_ROOT, timeout=60,
    )


def expected(home, query):
    con = duckdb.connect(str(home / "warehouse" / "observatoire.duckdb"), read_only=True)
    try:
        return con.execute(query).fetchall()
    finally:
        con.close()


def digest(home) -> str:
    return hashlib.sha256((home / "warehouse" / "observatoire.duckdb").read_bytes()).hexdigest()


def test_prints_an_aligned_table(home):
    done = sql(home, TERRITORIES)
    assert done.returncode == 0, done.stderr
    header, rule, *rows, count = done.stdout.splitlines()
    assert header.split(" | ")[0].strip() == "geo_name"
    assert set(rule) == {"-", "+"}
    assert count == "(4 lignes)"
    # every column starts at the same place on every line
    bars = {i for i, c in enumerate(rule) if c == "+"}
    for line in [header, *rows]:
        assert {i for i, c in enumerate(line) if c == "|"} == bars, line
    values = [(r.split(" | ")[0].strip(), float(r.split(" | ")[1])) for r in rows]
    assert values == expected(home, TERRITORIES)
    assert rows[0].split(" | ")[1].startswith(" ")  # numbers are right-aligned


def test_prints_csv(home):
    done = sql(home, "--csv", TERRITORIES)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    assert rows[0] == ["geo_name", "value"]
    assert [(name, float(value)) for name, value in rows[1:]] == expected(home, TERRITORIES)


def test_reads_the_query_from_a_file_or_standard_input(home, tmp_path):
    inline = sql(home, TERRITORIES).stdout
    query_file = tmp_path / "requête.sql"
    query_file.write_text("-- projets par territoire\n" + TERRITORIES + ";\n", encoding="utf-8")
    assert sql(home, "--file", str(query_file)).stdout == inline
    assert sql(home, "-", stdin=TERRITORIES).stdout == inline
    missing = sql(home, "--file", str(tmp_path / "absente.sql"))
    assert missing.returncode == 2
    assert "fichier de requête illisible" in missing.stderr


def test_runs_the_analysts_usual_statements(home):
    for statement in ("DESCRIBE marts.v_indicateurs", "SHOW ALL TABLES",
                      "SUMMARIZE marts.category_labels", "FROM marts.publication",
                      "PIVOT marts.category_labels ON dimension USING count(*)",
                      "EXPLAIN SELECT * FROM marts.indicator_values"):
        done = sql(home, statement)
        assert done.returncode == 0, (statement, done.stderr)
        assert done.stdout.strip(), statement


@pytest.mark.parametrize(
    ("statement", "explanation"),
    [
        ("INSERT INTO marts.publication VALUES (now(), 'x', false)", "lecture seule : INSERT"),
        ("UPDATE marts.indicator_values SET value = 0", "lecture seule : UPDATE"),
        ("DELETE FROM audit.rejected_rows", "lecture seule : DELETE"),
        ("CREATE TABLE marts.copie AS SELECT 1 AS x", "lecture seule : CREATE"),
        ("DROP VIEW marts.v_indicateurs", "lecture seule : DROP"),
        ("COPY marts.indicator_values TO '{out}/fuite.csv'", "COPY lit ou écrit des fichiers"),
        ("EXPORT DATABASE '{out}/export'", "EXPORT lit ou écrit des fichiers"),
        ("ATTACH '{out}/autre.duckdb' AS autre", "ATTACH ouvrirait"),
        ("SELECT * FROM read_csv('/etc/passwd')", "fichier extérieur à l'entrepôt"),
        ("SELECT * FROM read_text('{out}/../*')", "fichier extérieur à l'entrepôt"),
        ("SET enable_external_access = true", "configuration est verrouillée"),
        ("INSTALL httpfs", "extensions"),
        ("SELECT 1; DROP TABLE marts.publication", "lecture seule : DROP"),
    ],
)
def test_refuses_what_would_write_or_read_elsewhere(home, tmp_path, statement, explanation):
    before = digest(home)
    done = sql(home, statement.format(out=tmp_path))
    assert done.returncode == 1
    assert done.stderr.startswith("Requête refusée : ")
    assert explanation in done.stderr
    assert done.stdout == ""
    assert digest(home) == before
    assert list(tmp_path.iterdir()) == []
    assert sorted(p.name for p in (home / "warehouse").iterdir()) == ["observatoire.duckdb"]


def test_the_connection_itself_refuses_writes_files_and_new_settings(home):
    """Even a statement the command would let through meets a locked, read-only connection."""
    con = connect_read_only(home / "warehouse" / "observatoire.duckdb")
    try:
        for statement in ("INSERT INTO marts.publication VALUES (now(), 'x', false)",
                          "SELECT * FROM read_csv('/etc/passwd')",
                          "SET enable_external_access = true",
                          "SET lock_configuration = false"):
            with pytest.raises(duckdb.Error):
                con.execute(statement)
    finally:
        con.close()


def test_a_syntax_error_is_explained_in_french(home):
    done = sql(home, "SELECT geo_name FORM marts.indicator_values")
    assert done.returncode == 1
    assert "erreur de syntaxe SQL près de « marts »" in done.stderr
    assert "ligne 1 :" in done.stderr


@pytest.mark.parametrize(
    ("query", "unknown", "closest"),
    [
        ("SELECT * FROM indicator_values", "indicator_values", "marts.indicator_values"),
        ("SELECT * FROM marts.indicateur_values", "indicateur_values", "marts.indicator_values"),
        ("SELECT * FROM mart.v_indicateurs", "mart.v_indicateurs", "marts.v_indicateurs"),
        ("SELECT * FROM ref.commune", "commune", "ref.communes"),
    ],
)
def test_an_unknown_table_gets_the_closest_name(home, query, unknown, closest):
    done = sql(home, query)
    assert done.returncode == 1
    assert f"table ou vue inconnue « {unknown} »" in done.stderr
    assert f"Vouliez-vous dire « {closest} »" in done.stderr


def test_an_unknown_column_gets_the_closest_name(home):
    done = sql(home, "SELECT valeur FROM marts.indicator_values")
    assert done.returncode == 1
    assert "colonne inconnue « valeur ». Vouliez-vous dire « value »" in done.stderr


def test_no_published_warehouse(tmp_path):
    done = sql(tmp_path, "SELECT 1")
    assert done.returncode == 2
    assert "Aucun entrepôt publié" in done.stderr
    assert not (tmp_path / "warehouse").exists()
