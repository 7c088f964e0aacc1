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


def make_landing(folder: Path, seed: int = 7, months: int | None = None) -> Path:
    """Demo census and follow-up files plus a tiny synthetic activity panel."""
    from pipelines.synth import generate_activity

    for family in ("census", "followup"):
        shutil.copytree(DEMO_DIR / family, folder / family,
                        ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    generate_activity(folder, scale="tiny", seed=seed, months=months)
    return folder


def run_night(home: Path, landing: Path):
    """Run the `nightly` job in process, as the CLI does, with this home and landing."""
    import dagster as dg

    from pipelines.definitions import defs

    previous = {k: os.environ.get(k) for k in ("OBSERVATOIRE_HOME", "OBSERVATOIRE_LANDING")}
    os.environ["OBSERVATOIRE_HOME"] = str(home)
    os.environ["OBSERVATOIRE_LANDING"] = str(landing)
    try:
        return defs.resolve_job_def("nightly").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
        )
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


RPPS_OR_ADELI_LIKE = re.compile(r"\b\d{10,11}\b")  # RPPS: 11 digits; "0" + ADELI: 10


def assert_no_professional_identifier(con, identifiers: set[str]) -> None:
    """No text column of any table holds one of `identifiers` or anything shaped like one."""
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
