"""The night's private DuckDB file, the atomic swap that publishes it, and the published versions.

A night never writes to the published file: it copies the last published warehouse (which
carries the raw layer and the list of files already loaded) to `build/night-<run>.duckdb` (from
`observatoire run`, while Dagster creates the run; otherwise in its first step), every asset
works on that copy, and `publish` checkpoints it and `os.replace`s it over the
published path. Readers of the published file are never locked out (DESIGN §8) and a failed or
killed night leaves it byte-for-byte as it was. Each published file is also kept, as a hard
link, in `warehouse/versions/` (the last OBSERVATOIRE_KEEP_VERSIONS), for comparison and rollback.
"""

import os
import re
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb

from pipelines import nights, stats
from pipelines.locks import retry_on_lock
from pipelines.settings import Settings, get_settings
from pipelines.sql import hold_macros, release_macros

# The storage format of a new night file, kept by every later night (each copies the last one).
# duckdb 2.0 writes its own format by default, which no 1.x client opens, not even the newest
# command-line client on PyPI (duckdb-cli 1.5); v1.0.0 opens in every DuckDB since 1.0 (DBeaver,
# notebooks, the CLI), comments and views included, for a file of the same size.
STORAGE_VERSION = "v1.0.0"

CRASH_ENV = "OBSERVATOIRE_CRASH_AT"
VERSION_NAME = re.compile(r"^(\d{8}-\d{6})-([0-9a-f]{8})\.duckdb$")


def crash_point(name: str) -> None:
    """Kill this process (SIGKILL, no cleanup) at the point named by OBSERVATOIRE_CRASH_AT.

    tests/test_crash_safety.py sets it to prove that a night killed at any of these points
    leaves the published file intact; unset, it costs one dictionary lookup.
    """
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _sync_directory(path: Path) -> None:
    """Make a rename in `path` durable (a power cut, not only a killed process)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_consistent(source: Path, target: Path, what: str,
                     log: Callable[[str], None] | None = None) -> None:
    """Copy a DuckDB file while holding a read-only connection to it: the shared lock keeps any
    writer out until the copy is complete. The copy appears under `target` whole or not at all."""
    partial = target.with_name(f".{target.name}.partial")
    reader = retry_on_lock(lambda: duckdb.connect(str(source), read_only=True), what, log)
    try:
        shutil.copyfile(source, partial)
    finally:
        reader.close()
    crash_point("copy:partial")
    os.replace(partial, target)


def run_id_of(context: dg.OpExecutionContext | dg.AssetCheckExecutionContext) -> str:
    if isinstance(context, dg.AssetCheckExecutionContext):
        return context.op_execution_context.run_id
    return context.run_id


def _op_context(context) -> dg.OpExecutionContext:
    return getattr(context, "op_execution_context", context)


def night_of(context) -> str:
    """The run whose build file this step works on: a run re-executed from failure in the
    Dagster UI carries on in its original run's file, where the steps it skips left their work."""
    run = _op_context(context).run
    return run.root_run_id or run.run_id


# Nights whose build file is being copied ahead of their first step (start_build_file).
_copies: dict[str, Future] = {}


def start_build_file(settings: Settings, night: str) -> None:
    """Start copying the published warehouse to `night`'s build file now, in a thread, while
    Dagster creates the run (its planned events alone took 0.7 s at region scale); the first
    step then finds the copy made, or waits for its end, rather than make it: 0.5 to 1.1 s of a
    national night with one new month, for a 0.5 GB warehouse. Its errors (a lock held past
    its retries) are raised in that step, as if it had copied."""
    copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copie-entrepot")
    _copies[night] = copier.submit(_copy_build_file, settings, night,
                                   lambda message: print(message, file=sys.stderr, flush=True))
    copier.shutdown(wait=False)  # its thread ends with the copy


def _prepare_build_file(settings: Settings, night: str,
                        log: Callable[[str], None] | None = None) -> Path:
    copying = _copies.pop(night, None)
    return copying.result() if copying is not None else _copy_build_file(settings, night, log)


def _copy_build_file(settings: Settings, night: str,
                     log: Callable[[str], None] | None = None) -> Path:
    build = settings.build_path(night)
    if build.exists():
        return build
    settings.build_dir.mkdir(parents=True, exist_ok=True)
    # anything else here is left by an earlier night: blocked (kept until now for inspection),
    # killed mid-copy (.partial) or mid-step (.wal)
    for stale in settings.build_dir.glob("*night-*"):
        stale.unlink()
    nights.log_start(settings, night)
    if settings.warehouse_path.exists():
        _copy_consistent(settings.warehouse_path, build, "copie de l'entrepôt publié", log)
    return build


def connection_config(settings: Settings) -> dict:
    return {"storage_compatibility_version": STORAGE_VERSION,
            "memory_limit": settings.duckdb_memory}


# The build files this process has open: one per run, opened by its first step and closed by
# publication, before a Great Expectations worker opens it, and when the run ends. Each step
# works on a cursor of it: opening the file and checkpointing it at every step's end cost a
# fixed 40 ms a step, most of the work of a small step (a check) and a tenth of a night with
# one new month.
_open_files: dict[Path, duckdb.DuckDBPyConnection] = {}
_macros_of: dict[Path, str] = {}  # each open file's path as DuckDB names it


def _open_build_file(path: Path, settings: Settings,
                     log: Callable[[str], None] | None = None) -> duckdb.DuckDBPyConnection:
    if path not in _open_files:
        database = retry_on_lock(
            lambda: duckdb.connect(str(path), config=connection_config(settings)),
            f"fichier de la nuit {path.name}", log)
        # the interval and flag functions, for every cursor of the file
        stats.register_duckdb_functions(database)
        # and the models' macros, kept in the file: defined here, outside any step's
        # transaction, the steps find them defined (define_macros) until the file is closed
        _macros_of[path] = hold_macros(database)
        _open_files[path] = database
    return _open_files[path]


def _close_build_file(path: Path) -> None:
    """Checkpoint and close the build file, when this process has it open."""
    database = _open_files.pop(path, None)
    if database is not None:
        database.close()
        release_macros(_macros_of.pop(path))


@dataclass(frozen=True)
class Version:
    path: Path
    published_at: datetime
    night_prefix: str

    @property
    def name(self) -> str:
        return self.path.stem


def version_name(published_at: datetime, night_id: str) -> str:
    return f"{published_at:%Y%m%d-%H%M%S}-{night_id[:8]}.duckdb"


def list_versions(settings: Settings) -> list[Version]:
    """The kept versions, oldest first."""
    versions = []
    for path in sorted(settings.versions_dir.glob("*.duckdb")):
        match = VERSION_NAME.match(path.name)
        if match:
            versions.append(Version(path, datetime.strptime(match.group(1), "%Y%m%d-%H%M%S"),
                                    match.group(2)))
    return versions


def publication_of(path: Path) -> tuple[datetime, str]:
    """(published_at, night_id) that a published file's marts.publication records."""
    con = retry_on_lock(lambda: duckdb.connect(str(path), read_only=True), str(path))
    try:
        return con.execute("SELECT published_at, night_id FROM marts.publication").fetchone()
    finally:
        con.close()


def keep_version(settings: Settings, published_at: datetime, night_id: str) -> Path | None:
    """Link the published file into versions/ under its night's name, then prune the oldest."""
    if settings.keep_versions <= 0:
        return None
    settings.versions_dir.mkdir(parents=True, exist_ok=True)
    target = settings.versions_dir / version_name(published_at, night_id)
    if not target.exists():
        pending = target.with_name(f".{target.name}.pending")
        pending.unlink(missing_ok=True)
        try:
            os.link(settings.warehouse_path, pending)
        except OSError:  # a file system without hard links
            shutil.copyfile(settings.warehouse_path, pending)
        os.replace(pending, target)
    for stale in settings.versions_dir.glob(".*.pending"):
        stale.unlink()
    for old in list_versions(settings)[: -settings.keep_versions]:
        old.path.unlink()
    return target


def _keep_published_version(settings: Settings) -> None:
    """A night killed between its swap and its version left the published file without one."""
    if settings.keep_versions > 0 and settings.warehouse_path.exists():
        try:
            published_at, night_id = publication_of(settings.warehouse_path)
        except duckdb.CatalogException:  # published before marts.publication existed
            return
        if not (settings.versions_dir / version_name(published_at, night_id)).exists():
            keep_version(settings, published_at, night_id)


def find_version(settings: Settings, wanted: str) -> Version:
    """The version named `wanted`: its file name, with or without .duckdb, or a night id prefix."""
    wanted = wanted.strip().removesuffix(".duckdb")
    versions = list_versions(settings)
    matches = [v for v in versions if v.name == wanted] or [
        v for v in versions if len(wanted) >= 4
        and (wanted.startswith(v.night_prefix) or v.night_prefix.startswith(wanted))
    ]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(v.name for v in versions) or "aucune"
    if matches:
        raise LookupError(f"« {wanted} » désigne plusieurs versions : "
                          + ", ".join(v.name for v in matches) + ".")
    raise LookupError(f"aucune version « {wanted} » dans {settings.versions_dir} "
                      f"(versions gardées : {names}).")


def rollback(settings: Settings, version: Version) -> Path:
    """Publish a kept version again: copy it beside the published file, then swap it in."""
    settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
    for stale in settings.warehouse_dir.glob("*.rollback-*"):  # a rollback killed mid-copy
        stale.unlink()
    incoming = settings.warehouse_dir / f".rollback-{version.path.name}"
    _copy_consistent(version.path, incoming, f"version {version.name}")
    os.replace(incoming, settings.warehouse_path)
    _sync_directory(settings.warehouse_dir)
    return settings.warehouse_path


class WarehouseResource(dg.ConfigurableResource):
    """Connections to the current run's build file; one writer at a time (in-process executor).

    A step's connection is a cursor of the build file, which stays open from step to step
    (`_open_files`): what a step leaves on its connection (temporary tables and macros, a
    variable) goes with it, what it commits stays."""

    @property
    def settings(self) -> Settings:
        return get_settings()

    @contextmanager
    def connect(self, context: dg.OpExecutionContext | dg.AssetCheckExecutionContext) -> Iterator[
        duckdb.DuckDBPyConnection
    ]:
        log = _op_context(context).log.warning
        path = _prepare_build_file(self.settings, night_of(context), log)
        con = _open_build_file(path, self.settings, log).cursor()
        try:
            yield con
            crash_point(_op_context(context).op_def.name)
        finally:
            con.close()

    def build_file(self, context: dg.OpExecutionContext | dg.AssetCheckExecutionContext
                   ) -> tuple[Path, dict]:
        """The run's build file and the configuration to open it with, closed here, for another
        process (pipelines/quality/worker.py)."""
        path = _prepare_build_file(self.settings, night_of(context),
                                   _op_context(context).log.warning)
        _close_build_file(path)
        return path, connection_config(self.settings)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        for path in list(_open_files):
            _close_build_file(path)

    def publish(self, context: dg.OpExecutionContext) -> Path:
        settings = self.settings
        build = _prepare_build_file(settings, night_of(context), context.log.warning)
        con = _open_build_file(build, settings, context.log.warning)
        published_at, night_id = con.execute(
            "SELECT published_at, night_id FROM marts.publication").fetchone()
        con.execute("CHECKPOINT")
        _close_build_file(build)
        crash_point("publish:checkpointed")
        settings.warehouse_dir.mkdir(parents=True, exist_ok=True)
        _keep_published_version(settings)
        os.replace(build, settings.warehouse_path)
        _sync_directory(settings.warehouse_dir)
        crash_point("publish:replaced")
        keep_version(settings, published_at, night_id)
        crash_point("publish:versioned")
        return settings.warehouse_path


def connect_published(settings: Settings) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(settings.warehouse_path), read_only=True)
