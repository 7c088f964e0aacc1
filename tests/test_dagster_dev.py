"""`dagster dev -w workspace.yaml` starts; its webserver shows the job, schedule, assets, checks."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  name jobs { name } schedules { name cronSchedule executionTimezone }
  assetNodes { assetKey { path } }
} } } }"""
CHECKS_QUERY = """{ assetNodes { assetKey { path } assetChecksOrError {
  ... on AssetChecks { checks { name blocking } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


@pytest.mark.slow
def test_dagster_dev_serves_the_code_location(tmp_path):
    port = _free_port()
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(dagster_home),
           "OBSERVATOIRE_HOME": str(tmp_path / "home")}
    dagster = Path(sys.executable).parent / "dagster"
    process = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        data = None
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            try:
                data = _graphql(port, QUERY)
                if data["repositoriesOrError"].get("nodes"):
                    break
            except OSError:
                pass
            time.sleep(1)
        assert data, "the webserver never answered"
        repo = data["repositoriesOrError"]["nodes"][0]
        assert "nightly" in {j["name"] for j in repo["jobs"]}
        assert repo["schedules"] == [{"name": "nightly_schedule", "cronSchedule": "0 2 * * *",
                                      "executionTimezone": "Europe/Paris"}]
        keys = {"/".join(a["assetKey"]["path"]) for a in repo["assetNodes"]}
        assert {"raw/activity", "staging/census", "marts/indicator_values",
                "publish/warehouse"} <= keys
        checks = {
            ("/".join(n["assetKey"]["path"]), c["name"], c["blocking"])
            for n in _graphql(port, CHECKS_QUERY)["assetNodes"]
            for c in n["assetChecksOrError"].get("checks", [])
        }
        assert ("staging/activity", "great_expectations", True) in checks
        assert ("staging/census_communes", "unresolved_communes", False) in checks
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert process.returncode is not None
