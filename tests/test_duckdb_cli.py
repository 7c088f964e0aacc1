"""The published file opens in the DuckDB command-line client while a night is running, and the
example queries of docs/queries/ run there.

The client is the one analysts get with `pip install duckdb-cli`; its newest release (1.5) cannot
open duckdb 2.0's own storage format, hence pipelines/warehouse.py STORAGE_VERSION. It is
installed into a temporary folder when no `duckdb` 1.5 or later is on the PATH.
"""

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.publish.documentation import QUERIES_DIR
from pipelines.settings import REPO_ROOT
from pipelines.warehouse import STORAGE_VERSION

CLI_REQUIREMENT = "duckdb-cli==1.5.6"


def _version(binary: str) -> tuple[int, int]:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    match = re.search(r"v(\d+)\.(\d+)", out.stdout)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


@pytest.fixture(scope="session")
def duckdb_cli(tmp_path_factory) -> str:
    on_path = shutil.which("duckdb")
    if on_path and _version(on_path) >= (1, 5):
        return on_path
    target = tmp_path_factory.mktemp("duckdb-cli")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--target", str(target), CLI_REQUIREMENT],
        capture_output=True, text=True, timeout=300,
    )
    binary = target / "duckdb_cli" / "duckdb"
    if install.returncode != 0 or not binary.exists():
        message = f"pip install {CLI_REQUIREMENT} a échoué : {install.stderr.strip()[-500:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return str(binary)


def test_the_published_file_keeps_a_storage_format_older_clients_read(published):
    tags = published.execute(
        "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    assert tags["storage_version"].removesuffix("+") == STORAGE_VERSION


def run_cli(binary: str, warehouse: Path, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run([binary, "-readonly", "-csv", str(warehouse)], input=sql,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_example_queries_run_in_the_duckdb_cli_while_a_night_runs(
    night, tiny_landing, tmp_path, duckdb_cli
):
    source, _ = night
    home = tmp_path / "home"
    shutil.copytree(source, home, ignore=shutil.ignore_patterns("dashboards", "build"))
    warehouse = home / "warehouse" / "observatoire.duckdb"
    before = run_cli(duckdb_cli, warehouse, "SELECT night_id FROM marts.publication;")
    assert before.returncode == 0, before.stderr

    night_process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "run", "--home", str(home),
         "--landing", str(tiny_landing)],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list((home / "build").glob("night-*.duckdb")):
            assert night_process.poll() is None, night_process.stdout.read()
            assert time.monotonic() < deadline, "la nuit n'a pas commencé en 120 s"
            time.sleep(0.2)

        queries = sorted(QUERIES_DIR.glob("*.sql"))
        assert len(queries) == 5
        for query in queries:
            done = run_cli(duckdb_cli, warehouse, query.read_text(encoding="utf-8"))
            assert done.returncode == 0, (query.name, done.stderr)
            assert done.stderr == "", (query.name, done.stderr)
            header, *rows = done.stdout.splitlines()
            assert rows, f"{query.name} : aucune ligne"
        # the night was still at work while the client read the published file
        assert night_process.poll() is None
        assert list((home / "build").glob("night-*.duckdb"))
    except BaseException:
        night_process.kill()
        night_process.communicate()
        raise
    output, _ = night_process.communicate(timeout=300)
    assert night_process.returncode == 0, output

    # the night published a new file, in the same storage format: the client still opens it
    after = run_cli(duckdb_cli, warehouse, "SELECT night_id FROM marts.publication;")
    assert after.returncode == 0, after.stderr
    assert after.stdout != before.stdout
