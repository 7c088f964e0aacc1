"""Analysts read the published file while a night runs: never an error, never a wait, and the
new night's data as soon as they reconnect after the swap. A night also waits, rather than
fails, while another program holds the published file read-write for a moment."""

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from support import make_landing, run_night

from pipelines import locks
from pipelines.settings import REPO_ROOT

pytestmark = pytest.mark.slow

READERS = 4
MAX_WAIT = 1.0  # seconds, connect included

# One reader: connect read-only as `observatoire sql` does, query, disconnect, until told to
# stop; every query's latency, what it saw, or its error, as JSON lines.
READER = """
import json, sys, time
from pathlib import Path
from pipelines.query import connect_read_only

path, stop, out = Path(sys.argv[1]), Path(sys.argv[2]), open(sys.argv[3], "w")
while not stop.exists():
    began = time.time()
    start = time.perf_counter()
    try:
        con = connect_read_only(path)
        projects, night = con.execute(
            "SELECT (SELECT count(*) FROM marts.census_projects),"
            " (SELECT night_id FROM marts.publication)").fetchone()
        con.close()
        line = {"began": began, "seconds": time.perf_counter() - start, "projects": projects,
                "night": night}
    except Exception as error:
        line = {"began": began, "seconds": time.perf_counter() - start, "error": repr(error)}
    out.write(json.dumps(line) + "\\n")
    out.flush()
    time.sleep(0.02)
"""


def _published_state(path: Path) -> tuple[int, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT (SELECT count(*) FROM marts.census_projects),"
            " (SELECT night_id FROM marts.publication)").fetchone()


def test_four_readers_during_a_night_never_wait_and_then_see_the_new_night(tmp_path):
    home, landing = tmp_path / "home", make_landing(tmp_path / "landing", months=2)
    assert run_night(home, landing).success
    published = home / "warehouse" / "observatoire.duckdb"
    old_projects, old_night = _published_state(published)
    (landing / "census" / "projet_supplementaire.csv").write_text(
        "date_recensement;region;territoire;nom_projet;type_structure;communes;stade\n"
        "2014-01;Nord-Pas-de-Calais;Littoral;Maison de santé des lecteurs;MSP;"
        "Boulogne-sur-Mer;En réflexion\n", encoding="utf-8")

    stop = tmp_path / "stop"
    logs = [tmp_path / f"reader-{i}.jsonl" for i in range(READERS)]
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(published), str(stop),
                                 str(log)], cwd=REPO_ROOT) for log in logs]
    try:
        # every reader has answered once before the night starts
        deadline = time.monotonic() + 120
        while not all(log.exists() and log.stat().st_size for log in logs):
            assert time.monotonic() < deadline, "les lecteurs n'ont pas démarré"
            assert all(r.poll() is None for r in readers)
            time.sleep(0.1)
        night_began = time.time()
        result = run_night(home, landing)
        night_ended = time.time()
        time.sleep(2)  # readers reconnect after the swap
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=60)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert all(reader.returncode == 0 for reader in readers)

    queries = [json.loads(line) for log in logs for line in log.read_text().splitlines()]
    during = [q for q in queries if night_began <= q["began"] <= night_ended]
    after = [q for q in queries if q["began"] > night_ended]
    errors = [q["error"] for q in queries if "error" in q]
    slowest = max(q["seconds"] for q in queries)
    print(f"\n{len(queries)} requêtes de {READERS} lecteurs, {len(during)} pendant une nuit de "
          f"{night_ended - night_began:.1f} s ; erreurs {len(errors)} ; attente max "
          f"{slowest * 1000:.0f} ms, médiane "
          f"{sorted(q['seconds'] for q in queries)[len(queries) // 2] * 1000:.0f} ms")
    assert errors == []
    assert slowest < MAX_WAIT
    assert len(during) >= 10 * READERS  # they really read all night long
    assert {(q["projects"], q["night"]) for q in during[:READERS]} == {(old_projects, old_night)}
    assert after and {(q["projects"], q["night"]) for q in after} == {
        (old_projects + 1, result.run_id)}
    assert _published_state(published) == (old_projects + 1, result.run_id)


HOLD_WRITE_LOCK = """
import duckdb, sys, time
con = duckdb.connect(sys.argv[1])  # read-write: every other open of the file fails meanwhile
print("verrou pris", flush=True)
time.sleep(float(sys.argv[2]))
con.close()
"""

# Someone opens the running night's own file (to look at it) between two of its steps, and
# keeps it open read-write for a few seconds.
GRAB_BUILD_FILE = """
import duckdb, sys, time
from pathlib import Path
build_dir, seconds = Path(sys.argv[1]), float(sys.argv[2])
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    files = list(build_dir.glob("night-*.duckdb"))
    try:
        con = duckdb.connect(str(files[0]),
                             config={"storage_compatibility_version": "v1.0.0"})
    except (IndexError, duckdb.Error):
        time.sleep(0.01)
        continue
    print(f"verrou pris sur {files[0].name}", flush=True)
    time.sleep(seconds)
    con.close()
    break
"""


def _hold_write_lock(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(path), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "verrou pris"
    return holder


def test_a_night_waits_while_its_file_is_held_by_another_program(tmp_path, capfd):
    home, landing = tmp_path / "home", make_landing(tmp_path / "landing", months=2)
    holder = subprocess.Popen([sys.executable, "-c", GRAB_BUILD_FILE, str(home / "build"), "3"],
                              stdout=subprocess.PIPE, text=True)
    result = run_night(home, landing)
    grabbed, _ = holder.communicate(timeout=60)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert grabbed.startswith(f"verrou pris sur night-{result.run_id}")
    logged = capfd.readouterr()
    assert "verrouillé par un autre programme, nouvel essai" in logged.out + logged.err
    assert _published_state(home / "warehouse" / "observatoire.duckdb")[1] == result.run_id


def test_a_lock_held_too_long_ends_in_a_french_message(tmp_path, monkeypatch):
    path = tmp_path / "x.duckdb"
    duckdb.connect(str(path)).close()
    monkeypatch.setattr(locks, "LOCK_ATTEMPTS", 3)
    holder = _hold_write_lock(path, 10)
    try:
        started = time.monotonic()
        with pytest.raises(locks.WarehouseLocked, match="fermez-le") as refused:
            locks.retry_on_lock(lambda: duckdb.connect(str(path), read_only=True),
                                    "lecture du fichier")
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    assert "après 3 essais" in str(refused.value)
    assert waited >= locks.LOCK_FIRST_DELAY * 3  # 0.5 s, then 1 s
