"""The code location loads, and its asset keys, checks, jobs and schedules are the expected ones.

Update the snapshot on purpose with UPDATE_SNAPSHOTS=1 when assets are added or renamed.
"""

import os
import subprocess
import sys
from pathlib import Path

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.txt"


def describe_definitions() -> str:
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    lines = [f"asset {'/'.join(k.path)}" for k in sorted(graph.get_all_asset_keys())]
    lines += sorted(
        f"check {'/'.join(k.asset_key.path)}:{k.name}" for k in graph.asset_check_keys
    )
    lines += sorted(f"job {job.name}" for job in defs.resolve_all_job_defs()
                    if not job.name.startswith("__"))
    lines += sorted(
        f"schedule {s.name} {s.cron_schedule} {s.execution_timezone} -> {s.job_name}"
        for s in (defs.resolve_schedule_def(name) for name in ("nightly_schedule",))
    )
    return "\n".join(lines) + "\n"


def test_definitions_match_snapshot():
    current = describe_definitions()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text()


def test_asset_keys_are_schema_and_table():
    from pipelines.definitions import defs

    keys = defs.resolve_asset_graph().get_all_asset_keys()
    assert all(len(k.path) == 2 for k in keys)
    assert {k.path[0] for k in keys} == {"ref", "raw", "staging", "marts", "publish"}


def test_loading_definitions_does_not_import_great_expectations():
    code = (
        "import sys; import pipelines.definitions; "
        "sys.exit(1 if 'great_expectations' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_the_checks_of_a_table_run_in_one_step():
    """A step costs Dagster 15 to 20 ms of its own, as much as most checks' queries: a night
    with one new month ran six for the activity's checks alone."""
    from pipelines.quality.checks import checks

    steps_of: dict[str, set[str]] = {}
    for definition in checks:
        for key in definition.check_keys:
            steps_of.setdefault("/".join(key.asset_key.path), set()).add(definition.node_def.name)
    assert {table: steps for table, steps in steps_of.items() if len(steps) > 1} == {}
    assert steps_of["staging/activity"] == {"staging__activity_checks"}
    # the census's communes are checked with the census, which stages them in its step
    assert steps_of["staging/census_communes"] == steps_of["staging/census"]
