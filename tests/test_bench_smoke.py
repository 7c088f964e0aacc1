"""The benchmark at region scale (12 months, then one more): the CI smoke version of `make bench`.

It fails when a ratio passes its region bound (bench/run.py, REGION_BOUNDS, documented in the
README), when a night fails, or when the night, the SQL floor and the pandas baseline stop
computing the same headline figures.
"""

import json

import pytest

from bench.run import REGION_BOUNDS, main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    work = tmp_path_factory.mktemp("bench")
    json_path = work / "region.json"
    main(["--scale", "region", "--months", "12", "--work", str(work), "--json", str(json_path)])
    return json.loads(json_path.read_text(encoding="utf-8"))


def test_every_run_succeeds_and_the_incremental_night_loads_only_the_new_month(results):
    for run in ("floor", "pandas", "full", "incremental"):
        assert results[run]["exit_code"] == 0, (run, results[run]["log"])
    assert results["full"]["run_status"] == "SUCCESS"
    assert results["incremental"]["run_status"] == "SUCCESS"
    assert results["incremental"]["run_id"] != results["full"]["run_id"]
    log = open(results["incremental"]["log"], encoding="utf-8").read()
    assert "activity  fichiers chargés 1," in log, log


def test_floor_pandas_and_night_compute_the_same_figures(results):
    agreement = results["agreement"]
    assert set(agreement) >= {"floor_vs_pandas_densities", "floor_vs_night_densities",
                              "floor_vs_night_census", "floor_vs_night_followup"}
    for name, check in agreement.items():
        assert check["compared"] > 0, name
        assert check["mismatches"] == 0, (name, check)


@pytest.mark.parametrize("name", sorted(REGION_BOUNDS))
def test_ratio_within_its_region_bound(results, name):
    verdict = results["verdicts"][name]
    assert verdict["ok"], f"{name} = {verdict['value']}, bound {verdict['bound']}"


def test_every_dashboard_query_is_timed_twenty_times(results):
    queries = results["queries"]
    assert any("marts.indicator_values" in q["query"] for q in queries)
    assert all(q["runs"] == 20 for q in queries)


def test_every_night_step_is_reported_with_its_assets(results):
    steps = {s["step"]: s for s in results["full"]["steps"]}
    assert any("staging/activity" in s["assets"] for s in steps.values())
    assert sum(s["seconds"] for s in steps.values()) == pytest.approx(
        results["full"]["step_seconds_sum"], abs=0.01)
    assert results["full"]["peak_rss_mb"] > 100  # a night's process, not the wrapper's
    sampled = [s["peak_rss_mb"] for s in steps.values() if s["peak_rss_mb"] is not None]
    assert sampled and max(sampled) <= results["full"]["peak_rss_mb"]
