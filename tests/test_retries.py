"""Transient failures: a landing file that cannot be read is retried with backoff, and a night
that failed is re-executed from failure (what the Dagster UI's "Re-execute from failure" does)
on a persistent instance, redoing only the failed step and what follows it."""

import dagster as dg
import duckdb
from support import make_landing


def nightly_job():
    from pipelines.definitions import defs

    return defs.resolve_job_def("nightly")


def _steps(instance, run_id) -> set[str]:
    return {s.step_key for s in instance.get_run_step_stats(run_id)}


def test_failed_night_is_retried_with_backoff_then_reexecuted_from_failure(tmp_path,
                                                                           monkeypatch):
    landing = make_landing(tmp_path / "landing", months=2)
    home = tmp_path / "home"
    monkeypatch.setenv("OBSERVATOIRE_HOME", str(home))
    monkeypatch.setenv("OBSERVATOIRE_LANDING", str(landing))
    monkeypatch.setenv("OBSERVATOIRE_SETTLE_SECONDS", "0")
    # a file the kernel refuses to read (EIO), as a flaky network share would
    unreadable = landing / "activity" / "activite_2023-03.csv"
    unreadable.symlink_to("/proc/self/mem")

    job = dg.reconstructable(nightly_job)
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        with dg.execute_job(job, instance, tags={
                "dagster/asset_partition_range_start": "2023-01",
                "dagster/asset_partition_range_end": "2023-03"}) as failed:
            assert not failed.success
            restarts = [e for e in failed.all_events if e.event_type_value == "STEP_RESTARTED"]
            first_steps = _steps(instance, failed.run_id)
            failed_tags = failed.dagster_run.tags
        assert [e.step_key for e in restarts] == ["raw__activity"] * 3
        assert not (home / "warehouse" / "observatoire.duckdb").exists()

        unreadable.unlink()  # the share is back
        options = dg.ReexecutionOptions.from_failure(failed.run_id, instance)
        # the UI's "Re-execute from failure" keeps the parent run's tags, its month range
        # included; execute_job takes them explicitly
        months = {k: v for k, v in failed_tags.items() if k.startswith("dagster/asset_partition")}
        with dg.execute_job(job, instance, reexecution_options=options,
                            tags=months) as retried:
            assert retried.success
            again = _steps(instance, retried.run_id)
            assert retried.dagster_run.root_run_id == failed.run_id
    # what had succeeded is not redone; the failed step and everything after it is
    assert {"reference", "raw__census", "raw__followup"} <= first_steps - again
    assert {"raw__activity", "staging__activity", "marts__indicator_values",
            "publish__warehouse"} <= again
    con = duckdb.connect(str(home / "warehouse" / "observatoire.duckdb"), read_only=True)
    try:
        months = con.execute("SELECT count(DISTINCT period_month) FROM staging.activity"
                             ).fetchone()[0]
        census = con.execute("SELECT count(*) FROM staging.census").fetchone()[0]
    finally:
        con.close()
    assert months == 2 and census > 0
