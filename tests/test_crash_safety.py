"""A night killed with SIGKILL, at any point, leaves a warehouse analysts can open: the previous
good night's file byte for byte, or, once the swap is done, the killed night's complete file. The
next night then succeeds over whatever the killed one left in build/.

The kills are real: `observatoire run` in a subprocess, killed by the kernel either at a named
point (OBSERVATOIRE_CRASH_AT, pipelines/warehouse.py crash_point: one per layer and four inside
publication) or by a timer at a random moment, to show no point is special. Before each kill a
new activity month and a new census project land, so that the night has work in every layer.
"""

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from support import make_landing, run_night

from pipelines.settings import REPO_ROOT
from pipelines.warehouse import CRASH_ENV

pytestmark = pytest.mark.slow

# (point, whether the swap has happened by then), in the order a night reaches them
POINTS = [
    ("copy:partial", False),                          # build file copied, not yet renamed
    ("raw__activity", False),                         # raw load
    ("staging__activity", False),                     # staging
    ("staging_census", False),                        # staging and commune resolution
    ("staging__activity_checks", False),                # checks
    ("marts__census_projects", False),                # marts
    ("marts__indicator_values", False),               # indicator values
    ("publish__warehouse", False),                    # views, comments, run log written
    ("publish:checkpointed", False),                  # checkpoint done, swap not yet
    ("publish:replaced", True),                       # swapped, version not yet kept
    ("publish:versioned", True),                      # version kept, step not finished
    ("dashboards:rendered", True),                    # dashboards written, step not finished
]
RANDOM_KILLS = 2
SEED = 8
CENSUS_HEADER = "date_recensement;region;territoire;nom_projet;type_structure;communes;stade\n"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _mart_hashes(path: Path) -> dict[str, str]:
    """Every mart table (run stamps aside), as the hash of its rows in a fixed order."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            """SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts'
               AND table_name <> 'publication' ORDER BY 1""").fetchall()]
        return {t: con.execute(
            f"SELECT count(*) || ':' || coalesce(md5(string_agg(r::VARCHAR, chr(10) "
            f"ORDER BY r::VARCHAR)), '') FROM marts.{t} AS r").fetchone()[0] for t in tables}


def _published_night(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT night_id FROM marts.publication").fetchone()[0]


def _started(home: Path) -> list[str]:
    """The nights that began (created their build file), from the run log."""
    path = home / "nights.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line)["night_id"] for line in lines if '"event": "start"' in line]


def _start_night(home: Path, landing: Path, crash_at: str = "") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--home", str(home),
         "--landing", str(landing)],
        cwd=REPO_ROOT, env={**os.environ, CRASH_ENV: crash_at, "OBSERVATOIRE_SETTLE_SECONDS": "0"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _new_inputs(landing: Path, round_number: int) -> None:
    """One more activity month (the last one, shifted) and one more census project."""
    source = landing / "activity" / "activite_2023-02.csv"
    year, month = divmod(2 + round_number, 12)
    period = f"{2023 + year}-{month + 1:02d}"
    text = source.read_text(encoding="utf-8").replace("\n2023-02;", f"\n{period};")
    (landing / "activity" / f"activite_{period}.csv").write_text(text, encoding="utf-8")
    (landing / "census" / f"projet_{round_number:02d}.csv").write_text(
        CENSUS_HEADER + f"2014-01;Nord-Pas-de-Calais;Littoral;Maison de santé n° {round_number};"
        "MSP;Boulogne-sur-Mer;En réflexion\n", encoding="utf-8")


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """A home with one good night published by `observatoire run`."""
    base = tmp_path_factory.mktemp("crash")
    home, landing = base / "home", make_landing(base / "landing", months=2)
    started = time.monotonic()
    night = _start_night(home, landing)
    output, _ = night.communicate(timeout=900)
    assert night.returncode == 0, output
    return {"home": home, "landing": landing,
            "published": home / "warehouse" / "observatoire.duckdb",
            "seconds": time.monotonic() - started, "rounds": 0, "killed": [], "timings": []}


def _kill_and_recover(nights, crash_at: str = "", delay: float | None = None):
    """Run a night with new inputs, kill it, check the published file, run the next night.

    Returns whether the killed night had swapped its file in."""
    published = nights["published"]
    before, previous_night = _sha256(published), _published_night(published)
    known = _started(nights["home"])
    nights["rounds"] += 1
    _new_inputs(nights["landing"], nights["rounds"])
    started = time.monotonic()
    night = _start_night(nights["home"], nights["landing"], crash_at)
    if delay is not None:
        try:
            night.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            night.send_signal(signal.SIGKILL)
    output, _ = night.communicate(timeout=900)
    assert night.returncode == -signal.SIGKILL, f"nuit non tuée ({crash_at or delay}) :\n{output}"
    killed_after = time.monotonic() - started
    killed = (_started(nights["home"])[len(known):] or [None])[0]  # None: before it began

    # the published file opens read-only (no lock, nothing half-written) and is a whole night
    night_id = _published_night(published)
    swapped = _sha256(published) != before
    if swapped:
        assert night_id == killed
        killed_marts = _mart_hashes(published)
    else:
        assert night_id == previous_night
    nights["killed"].append((killed, swapped))

    # the next night succeeds over the killed one's debris, and computes the same marts
    result = run_night(nights["home"], nights["landing"])
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert _published_night(published) == result.run_id
    if swapped:
        assert _mart_hashes(published) == killed_marts
    recovered_after = time.monotonic() - started - killed_after
    nights["timings"].append((crash_at or f"minuteur {delay:.1f} s", killed_after,
                              recovered_after, swapped))
    return swapped


@pytest.mark.parametrize("point, swapped", POINTS, ids=[p for p, _ in POINTS])
def test_a_night_killed_at_a_point_leaves_the_published_file_whole(nights, point, swapped):
    assert _kill_and_recover(nights, crash_at=point) == swapped


@pytest.mark.parametrize("draw", range(RANDOM_KILLS))
def test_a_night_killed_at_a_random_moment_leaves_the_published_file_whole(nights, draw):
    # anywhere in a night as long as the last one to succeed, start-up included (the first
    # night loads everything: later ones are shorter)
    last = nights["timings"][-1][2] if nights["timings"] else nights["seconds"]
    delay = random.Random(SEED + draw).uniform(0.1, 0.9) * last
    _kill_and_recover(nights, delay=delay)


def test_the_run_log_lists_every_killed_night(nights):
    """Runs last: every kill above is in audit.nights as interrupted, published or not."""
    if len(nights["killed"]) < len(POINTS) + RANDOM_KILLS:
        pytest.skip("needs every kill above")
    with duckdb.connect(str(nights["published"]), read_only=True) as con:
        rows = {night: (status, published) for night, status, published in con.execute(
            "SELECT night_id, status, published FROM audit.nights").fetchall()}
    for killed, swapped in nights["killed"]:
        if killed is not None:
            assert rows[killed] == ("interrompue", swapped), killed
    print("\n" + "\n".join(f"{point:40} tuée après {k:5.1f} s, nuit suivante {r:5.1f} s"
                           f"{' (après la bascule)' if s else ''}"
                           for point, k, r, s in nights["timings"]))
