"""Helpers shared by the tests: real public files, a small landing folder, a night in process."""

import os
import re
import shutil
from pathlib import Path

import pytest

from pipelines.settings import DEMO_DIR

REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"


def real_data(relative: str) -> Path:
    """A file of ../shared/data/real; skip where the folder is absent, fail under CI=true."""
    path = REAL_DATA / relative
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is required in CI (shared/ lies beside the clone)")
        pytest.skip(f"{REAL_DATA} is absent (a contributor's clone without shared/)")
    return path


# Earlier than the seed 002 census (2013-05), so that it stays the latest census shown.
CENSUS_HISTORY_DATES = ("2011-05", "2011-11", "2012-05", "2012-11")
CENSUS_HISTORY_PROJECTS = 40


def make_landing(folder: Path, seed: int = 7, months: int | None = None,
                 census_history: bool = False) -> Path:
    """Demo census and follow-up files plus a tiny synthetic activity panel.

    `census_history` adds synthetic censuses of the tiny scale's départements at four dates,
    with the columns the demo census leaves empty (zone fragile, ZUS): the stage-history
    indicators need several census dates.
    """
    import dataclasses

    from pipelines.synth import generate_activity
    from pipelines.synth.projects import write_census
    from pipelines.synth.scales import get_scale

    for family in ("census", "followup"):
        shutil.copytree(DEMO_DIR / family, folder / family,
                        ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    generate_activity(folder, scale="tiny", seed=seed, months=months)
    if census_history:
        scale = dataclasses.replace(get_scale("tiny"), projects=CENSUS_HISTORY_PROJECTS)
        write_census(scale.rng(seed + 1), scale, scale.communes(), folder,
                     dates=CENSUS_HISTORY_DATES)
    return folder


def run_night(home: Path, landing: Path, instance=None):
    """Plan and run the `nightly` job in process, as the CLI does, with this home and landing
    (files written a moment ago count as complete: OBSERVATOIRE_SETTLE_SECONDS=0; the code
    version is pinned, so that an edit of the checkout during a test does not turn its next
    night into a full one)."""
    import dagster as dg

    from pipelines.ingest.plan import launch_night
    from pipelines.nights import record_night
    from pipelines.settings import get_settings

    names = ("OBSERVATOIRE_HOME", "OBSERVATOIRE_LANDING", "OBSERVATOIRE_SETTLE_SECONDS",
             "OBSERVATOIRE_CODE_VERSION")
    previous = {k: os.environ.get(k) for k in names}
    os.environ["OBSERVATOIRE_HOME"] = str(home)
    os.environ["OBSERVATOIRE_LANDING"] = str(landing)
    os.environ.setdefault("OBSERVATOIRE_SETTLE_SECONDS", "0")
    os.environ.setdefault("OBSERVATOIRE_CODE_VERSION", "tests")
    try:
        instance = instance or dg.DagsterInstance.ephemeral()
        _, result = launch_night(instance, get_settings())
        record_night(instance, result.run_id, get_settings())  # the night's outcome, as the CLI
        return result
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


RPPS_OR_ADELI_LIKE = re.compile(r"\b\d{10,11}\b")  # RPPS: 11 digits; "0" + ADELI: 10


def assert_no_professional_identifier(con, identifiers: set[str]) -> None:
    """No text column of any table holds one of `identifiers` or anything shaped like one, no
    integer column one of them as a number."""
    columns = con.execute(
        """SELECT table_schema, table_name, column_name FROM information_schema.columns
           WHERE data_type = 'VARCHAR'"""
    ).fetchall()
    for schema, table, column in columns:
        values = con.execute(
            f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" WHERE "{column}" IS NOT NULL'
        ).fetchall()
        for (value,) in values:
            assert value not in identifiers, (schema, table, column)
            assert not RPPS_OR_ADELI_LIKE.search(value), (schema, table, column, value)
    # nor any integer column (the pseudonyms are integers: pipelines/ingest/pseudonymise.py)
    numbers = [int(i) for i in identifiers if i.isdigit()]
    columns = con.execute(
        """SELECT table_schema, table_name, column_name FROM information_schema.columns
           WHERE data_type IN ('BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT')"""
    ).fetchall()
    for schema, table, column in columns:
        found = con.execute(
            f'SELECT DISTINCT "{column}" FROM "{schema}"."{table}" '
            f'WHERE "{column}" IN (SELECT unnest(?::HUGEINT[]))', [numbers]).fetchall()
        assert not found, (schema, table, column, found)
