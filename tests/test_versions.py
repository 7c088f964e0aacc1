"""Published versions, rollback and the run log: what an analyst finds after a few nights, one of
them blocked."""

import os
import subprocess
import sys

import duckdb
import pytest
from support import make_landing, run_night

from pipelines.settings import REPO_ROOT
from pipelines.warehouse import version_name

pytestmark = pytest.mark.slow


def _add_project(landing, name: str) -> None:
    (landing / "census" / f"{name}.csv").write_text(
        "date_recensement;region;territoire;nom_projet;type_structure;communes;stade\n"
        f"2014-01;Nord-Pas-de-Calais;Littoral;{name};MSP;Boulogne-sur-Mer;En réflexion\n",
        encoding="utf-8")


def _projects(con) -> int:
    return con.execute("SELECT count(*) FROM marts.census_projects").fetchone()[0]


def _rollback(home, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "rollback", "--home", str(home),
                           *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"})


def test_versions_rollback_and_the_run_log(tmp_path, monkeypatch):
    monkeypatch.setenv("OBSERVATOIRE_KEEP_VERSIONS", "2")
    home, landing = tmp_path / "home", make_landing(tmp_path / "landing", months=2)
    published = home / "warehouse" / "observatoire.duckdb"
    first = run_night(home, landing)
    _add_project(landing, "Maison de santé de la deuxième nuit")
    second = run_night(home, landing)
    broken = landing / "census" / "recensement_incomplet.csv"
    broken.write_text("date_recensement;region;territoire;nom_projet\n"
                      "2014-01;Hauts-de-France;Littoral;X\n", encoding="utf-8")
    blocked = run_night(home, landing)
    broken.unlink()
    _add_project(landing, "Maison de santé de la quatrième nuit")
    fourth = run_night(home, landing)
    assert [first.success, second.success, blocked.success, fourth.success] == [
        True, True, False, True]

    # the last two published nights are kept, the newest being the published file itself
    with duckdb.connect(str(published), read_only=True) as con:
        projects_now = _projects(con)
        names = {}
        for version in sorted((home / "warehouse" / "versions").iterdir()):
            with duckdb.connect(str(version), read_only=True) as old:
                names[version.name] = old.execute(
                    "SELECT published_at, night_id FROM marts.publication").fetchone()
    assert [night for _, night in names.values()] == [second.run_id, fourth.run_id]
    assert all(name == version_name(*row) for name, row in names.items())
    newest = home / "warehouse" / "versions" / max(names)
    assert os.path.samefile(newest, published)

    # an analyst compares with the previous version in a read-only session
    older = home / "warehouse" / "versions" / min(names)
    with duckdb.connect(str(published), read_only=True) as con:
        con.execute(f"ATTACH '{older}' AS avant (READ_ONLY)")
        before = con.execute("SELECT count(*) FROM avant.marts.census_projects").fetchone()[0]
    assert before == projects_now - 1

    # the run log: every night, the blocked one with what blocked it, and each step's duration
    with duckdb.connect(str(published), read_only=True) as con:
        nights = {row[0]: row[1:] for row in con.execute(
            """SELECT night_id, status, published, checks_blocking, failure, files_loaded
               FROM audit.nights""").fetchall()}
        steps = dict(con.execute(
            """SELECT night_id, count(*) FILTER (WHERE seconds >= 0) FROM audit.night_steps
               GROUP BY 1""").fetchall())
    assert set(nights) == {first.run_id, second.run_id, blocked.run_id, fourth.run_id}
    assert [nights[r.run_id][:2] for r in (first, second, blocked, fourth)] == [
        ("réussie", True), ("réussie", True), ("bloquée", False), ("réussie", True)]
    assert nights[blocked.run_id][2] >= 1
    assert "staging.census" in nights[blocked.run_id][3]
    assert nights[second.run_id][4] == 1  # the new census file
    assert all(steps.get(r.run_id, 0) >= 3 for r in (first, second, blocked, fourth))

    # rollback to the older version: the warehouse and the dashboards go back
    listing = _rollback(home, "--list")
    assert listing.returncode == 0, listing.stderr
    assert f"{newest.stem}  publiée le" in listing.stdout
    assert "← en service" in listing.stdout.splitlines()[1]
    done = _rollback(home, second.run_id[:8])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "republié depuis la version" in done.stdout
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("SELECT night_id FROM marts.publication").fetchone()[0] == \
            second.run_id
        assert _projects(con) == projects_now - 1
    assert f"(nuit {second.run_id}" in (home / "dashboards" / "index.html").read_text()
    assert not os.path.samefile(older, published)  # a copy: the version stays as it was
    unknown = _rollback(home, "zzzz")
    assert unknown.returncode == 2 and "aucune version « zzzz »" in unknown.stderr

    # the next night starts from the version put back, reloads what it had not seen, and
    # its run log still has every night
    fifth = run_night(home, landing)
    assert fifth.success
    with duckdb.connect(str(published), read_only=True) as con:
        assert _projects(con) == projects_now
        logged = {n for (n,) in con.execute("SELECT night_id FROM audit.nights").fetchall()}
    assert logged == {first.run_id, second.run_id, blocked.run_id, fourth.run_id, fifth.run_id}
