"""The landing sensor (off by default) and the planned nightly schedule, evaluated on real
folders and a real published warehouse."""

import os

import dagster as dg
import pytest
from support import make_landing, run_night


@pytest.fixture
def configured(tmp_path, monkeypatch):
    landing = make_landing(tmp_path / "landing", months=2)
    home = tmp_path / "home"
    monkeypatch.setenv("OBSERVATOIRE_HOME", str(home))
    monkeypatch.setenv("OBSERVATOIRE_LANDING", str(landing))
    monkeypatch.setenv("OBSERVATOIRE_SETTLE_SECONDS", "0")
    monkeypatch.setenv("OBSERVATOIRE_CODE_VERSION", "tests")
    return home, landing


def _evaluate(instance):
    from pipelines.definitions import defs

    sensor = defs.resolve_sensor_def("landing_sensor")
    with dg.build_sensor_context(instance=instance, definitions=defs) as context:
        return sensor.evaluate_tick(context)


def test_sensor_is_stopped_by_default():
    from pipelines.definitions import defs

    sensor = defs.resolve_sensor_def("landing_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert sensor.job_name == "nightly"


def test_sensor_requests_a_night_for_new_files_and_skips_when_nothing_is_new(configured):
    home, landing = configured
    instance = dg.DagsterInstance.ephemeral()
    first = _evaluate(instance)
    assert len(first.run_requests) == 1
    request = first.run_requests[0]
    assert request.tags["dagster/asset_partition_range_start"] == "2023-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2023-02"
    assert request.asset_selection is None  # a first night builds everything

    assert run_night(home, landing, instance).success
    quiet = _evaluate(instance)
    assert not quiet.run_requests
    assert "Aucun nouveau fichier" in quiet.skip_message

    newest = sorted((landing / "activity").glob("activite_*.csv"))[-1]
    # a new month (the same bytes under another name would be a 'doublon', loaded once)
    newest.with_name("activite_2023-03.csv").write_text(
        newest.read_text(encoding="utf-8").replace("2023-02;", "2023-03;"), encoding="utf-8")
    arrival = _evaluate(instance)
    assert len(arrival.run_requests) == 1
    request = arrival.run_requests[0]
    assert request.tags["dagster/asset_partition_range_start"] == "2023-03"
    assert request.tags["dagster/asset_partition_range_end"] == "2023-03"
    selected = {tuple(k.path) for k in request.asset_selection}
    assert {("raw", "activity"), ("staging", "activity"), ("marts", "indicator_values"),
            ("publish", "warehouse")} <= selected
    assert not selected & {("raw", "census"), ("staging", "census"), ("ref", "communes")}


def test_a_file_still_being_written_waits_for_the_next_look(configured, monkeypatch):
    home, landing = configured
    instance = dg.DagsterInstance.ephemeral()
    assert run_night(home, landing, instance).success
    monkeypatch.setenv("OBSERVATOIRE_SETTLE_SECONDS", "600")
    growing = landing / "activity" / "activite_2023-03.csv"
    growing.write_text((landing / "activity" / "activite_2023-02.csv").read_text()[:500])
    waiting = _evaluate(instance)
    assert not waiting.run_requests
    assert "activity/activite_2023-03.csv" in waiting.skip_message
    # ten minutes later the file has not moved: it is complete
    old = growing.stat().st_mtime - 900
    os.utime(growing, (old, old))
    assert len(_evaluate(instance).run_requests) == 1


def test_schedule_launches_a_planned_night(configured):
    from pipelines.definitions import defs

    schedule = defs.resolve_schedule_def("nightly_schedule")
    with dg.build_schedule_context(instance=dg.DagsterInstance.ephemeral()) as context:
        result = schedule.evaluate_tick(context)
    assert len(result.run_requests) == 1
    assert result.run_requests[0].tags["dagster/asset_partition_range_end"] == "2023-02"
