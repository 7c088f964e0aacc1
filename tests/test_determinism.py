"""The same files give the same marts, whatever order they arrived in: copied in a different
order with different modification times, or delivered over two nights, oldest months last."""

import os
import shutil
import time
from pathlib import Path

import duckdb
import pytest
from support import make_landing, run_night

pytestmark = pytest.mark.slow


def _table_hashes(path: Path, schema: str, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Each table of `schema`: its row count and the hash of its rows in a fixed order (every
    column but the run-stamped ones in `skip`)."""
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY 1",
            [schema]).fetchall()]
        hashes = {}
        for table in tables:
            columns = [c for (c,) in con.execute(
                """SELECT column_name FROM duckdb_columns() WHERE schema_name = ?
                   AND table_name = ? ORDER BY column_index""", [schema, table]).fetchall()
                       if c not in skip]
            row = "(" + ", ".join(f'"{c}"' for c in columns) + ")::VARCHAR"
            hashes[table] = con.execute(
                f"SELECT count(*) || ':' || coalesce(md5(string_agg({row}, chr(10) "
                f"ORDER BY {row})), '') FROM {schema}.{table}").fetchone()[0]
        return hashes


def _deliver(files: list[Path], source: Path, landing: Path, start: float) -> None:
    """Copy `files` in this order, each with a later modification time than the one before."""
    for i, file in enumerate(files):
        target = landing / file.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, target)
        os.utime(target, (start + 60 * i, start + 60 * i))


def test_the_same_files_in_another_order_give_identical_marts(tmp_path, monkeypatch):
    # pseudonyms must not differ between the two homes for a reason unrelated to order
    monkeypatch.setenv("OBSERVATOIRE_HMAC_KEY", "clé de test commune aux deux dépôts")
    source = make_landing(tmp_path / "source", months=4)
    files = sorted(p for p in source.rglob("*") if p.is_file())
    activity = [p for p in files if p.parent.name == "activity" and p.suffix == ".csv"]
    assert len(activity) == 4
    past = time.time() - 3600

    # A: everything in one night, copied in name order
    first = tmp_path / "a-landing"
    _deliver(files, source, first, past)
    assert run_night(tmp_path / "a-home", first).success

    # B: the two latest months first (and everything else, copied in reverse order), then the
    # two oldest months the next night
    second = tmp_path / "b-landing"
    late = [p for p in reversed(files) if p not in activity[:2]]
    _deliver(late, source, second, past)
    assert run_night(tmp_path / "b-home", second).success
    _deliver(list(reversed(activity[:2])), source, second, past + 3000)
    result = run_night(tmp_path / "b-home", second)
    assert result.success

    published = "warehouse/observatoire.duckdb"
    marts_a = _table_hashes(tmp_path / "a-home" / published, "marts", skip=("published_at",
                                                                            "night_id"))
    marts_b = _table_hashes(tmp_path / "b-home" / published, "marts", skip=("published_at",
                                                                            "night_id"))
    assert len(marts_a) >= 5
    assert {t for t in marts_a if marts_a[t] != marts_b.get(t)} == set()
    # the typed rows too, lineage aside (which night loaded a row, and when)
    lineage = ("_load_id",)
    assert _table_hashes(tmp_path / "a-home" / published, "staging", lineage) == \
        _table_hashes(tmp_path / "b-home" / published, "staging", lineage)
