"""The night's private DuckDB file, and the atomic swap that publishes it.

A night never writes to the published file: its first step copies the last published warehouse
(which carries the raw layer and the list of files already loaded) to `build/night-<run>.duckdb`,
every asset works on that copy, and `publish` checkpoints it and `os.replace`s it over the
published path. Readers of the published file are never locked out (DESIGN §8) and a failed
night leaves it byte-for-byte as it was.
"""

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from pipelines import stats
from pipelines.settings import Settings, get_settings

# The storage format of a new night file, kept by every later night (each copies the last one).
# duckdb 2.0 writes its own format by default, which no 1.x client opens, not even the newest
# command-line client on PyPI (duckdb-cli 1.5); v1.0.0 opens in every DuckDB since 1.0 (DBeaver,
# notebooks, the CLI), comments and views included, for a file of the same size.
STORAGE_VERSION = "v1.0.0"


def run_id_of(context: dg.OpExecutionContext | dg.AssetCheckExecutionContext) -> str:
    if isinstance(context, dg.AssetCheckExecutionContext):
        return context.op_execution_context.run_id
    return context.run_id


def _prepare_build_file(settings: Settings, run_id: str) -> Path:
    build = settings.build_path(run_id)
    if build.exists():
        return build
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    for stale in settings.build_dir.glob("night-*.duckdb*"):
        stale.unlink()
    if settings.warehouse_path.exists():
        partial = build.with_suffix(".partial")
        shutil.copyfile(settings.warehouse_path, partial)
        os.replace(partial, build)
    return build


def _open_build_file(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_VERSION})


class WarehouseResource(dg.ConfigurableResource):
    """Connections to the current run's build file; one writer at a time (in-process executor)."""

    @property
    def settings(self) -> Settings:
        return get_settings()

    @contextmanager
    def connect(self, context: dg.OpExecutionContext | dg.AssetCheckExecutionContext) -> Iterator[
        duckdb.DuckDBPyConnection
    ]:
        path = _prepare_build_file(self.settings, run_id_of(context))
        con = _open_build_file(path)
        try:
            stats.register_duckdb_functions(con)
            yield con
        finally:
            con.close()

    def publish(self, context: dg.OpExecutionContext) -> Path:
        settings = self.settings
        build = _prepare_build_file(settings, context.run_id)
        con = _open_build_file(build)
        con.execute("CHECKPOINT")
        con.close()
        settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
        os.replace(build, settings.warehouse_path)
        return settings.warehouse_path


def connect_published(settings: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.warehouse_path), read_only=True)
