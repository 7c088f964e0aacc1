"""Great Expectations runs in a worker process that `observatoire run` starts with the night
(pipelines/quality/worker.py): the same outcomes as in the night's own process, without GX ever
imported there."""

import json
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import duckdb

from pipelines import stats
from pipelines.quality.great_expectations import run_suite
from pipelines.warehouse import STORAGE_VERSION

ROOT = Path(__file__).resolve().parents[1]
IN_A_WORKER = """
import dataclasses, json, sys
from pathlib import Path
from pipelines.quality import worker
worker.start()
outcomes = worker.run_suite(Path(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3], sys.argv[4])
worker.stop()
print(json.dumps({"gx_here": "great_expectations" in sys.modules,
                  "outcomes": [dataclasses.asdict(o) for o in outcomes]}))
"""


def _copy_with_dirty_rows(published: Path, target: Path) -> Path:
    shutil.copyfile(published, target)
    con = duckdb.connect(str(target), config={"storage_compatibility_version": STORAGE_VERSION})
    try:
        con.execute("""UPDATE staging.activity SET commune_code = '00000', fte = 9
                       WHERE rowid IN (SELECT rowid FROM staging.activity LIMIT 3)""")
    finally:
        con.close()
    return target


def test_a_suite_in_the_worker_gives_what_it_gives_here(night, tmp_path):
    home, _ = night
    path = _copy_with_dirty_rows(home / "warehouse" / "observatoire.duckdb",
                                 tmp_path / "night.duckdb")
    config = {"storage_compatibility_version": STORAGE_VERSION, "memory_limit": "1GB"}
    where = "period_month >= DATE '2000-01-01'"
    process = subprocess.run(
        [sys.executable, "-c", IN_A_WORKER, str(path), json.dumps(config), "activity", where],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    answer = json.loads(process.stdout.strip().splitlines()[-1])
    # the night's process never imports GX: the worker does, on the other core
    assert answer["gx_here"] is False

    con = duckdb.connect(str(path), config=config)
    try:
        stats.register_duckdb_functions(con)
        here = [json.loads(json.dumps(o.__dict__, default=list)) for o in
                run_suite(con, "activity", where)]
    finally:
        con.close()
    worked = [{**o, "rows": list(o["rows"])} for o in answer["outcomes"]]
    assert worked == [{**o, "rows": list(o["rows"])} for o in here]
    failed = {o["expectation"] for o in worked if not o["success"]}
    assert {"expect_column_values_to_be_in_set", "expect_column_values_to_be_between"} <= failed


def test_the_worker_stops_even_in_a_process_that_ignores_sigterm():
    # what a night launched with `nohup … &` becomes once Dagster has run in it
    from pipelines.quality import worker

    previous = signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        worker.start()
    finally:
        signal.signal(signal.SIGTERM, previous)
    process, _ = worker._worker
    stopping = threading.Thread(target=worker.stop, daemon=True)
    stopping.start()
    stopping.join(timeout=30)
    try:
        assert not stopping.is_alive(), "the worker ignored the request to stop"
        assert not process.is_alive()
    finally:
        if process.is_alive():
            process.kill()
