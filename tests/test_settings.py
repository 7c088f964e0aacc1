"""Settings read from the environment: a bad value is refused in French, naming the variable."""

import pytest

from pipelines.settings import DEFAULT_DUCKDB_MEMORY, get_settings


@pytest.mark.parametrize("value", ["2GB", "500MB", "1.5GiB", " 4 gb "])
def test_a_duckdb_memory_limit_is_passed_on(monkeypatch, value):
    monkeypatch.setenv("OBSERVATOIRE_DUCKDB_MEMORY", value)
    assert get_settings().duckdb_memory == value.strip()


def test_the_duckdb_memory_limit_has_a_default(monkeypatch):
    monkeypatch.delenv("OBSERVATOIRE_DUCKDB_MEMORY", raising=False)
    assert get_settings().duckdb_memory == DEFAULT_DUCKDB_MEMORY


@pytest.mark.parametrize("value", ["2", "deux Go", "80%", "GB"])
def test_a_bad_duckdb_memory_limit_is_refused_in_french(monkeypatch, value):
    monkeypatch.setenv("OBSERVATOIRE_DUCKDB_MEMORY", value)
    with pytest.raises(ValueError, match="OBSERVATOIRE_DUCKDB_MEMORY vaut .* attendu une taille"):
        get_settings()
