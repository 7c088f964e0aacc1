"""Shared fixtures: a small landing folder and one real night run in a temporary home.

The night runs once per session (it is the expensive part) and tests read what it published.
Tests that need to change inputs copy the home first.
"""

from pathlib import Path

import pytest
from support import make_landing, run_night


@pytest.fixture(scope="session")
def tiny_landing(tmp_path_factory) -> Path:
    return make_landing(tmp_path_factory.mktemp("landing"), census_history=True)


@pytest.fixture(scope="session")
def night(tmp_path_factory, tiny_landing):
    """One successful night: (home, result)."""
    home = tmp_path_factory.mktemp("home")
    result = run_night(home, tiny_landing)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return home, result


@pytest.fixture
def published(night):
    import duckdb

    home, _ = night
    con = duckdb.connect(str(home / "warehouse" / "observatoire.duckdb"), read_only=True)
    yield con
    con.close()
