"""The night's private DuckDB file, the atomic swap that publishes it, and the published versions.

A night never writes to the published file: its first step copies the last published warehouse
(which carries the raw layer and the list of files already loaded) to `build/night-<run>.duckdb`,
every asset works on that copy, and `publish` checkpoints it and `os.replace`s it over the
published path. Readers of the published file are never locked out (DESIGN §8) and a failed or
killed night leaves it byte-for-byte as it was. Each published file is also kept, as a hard
link, in `warehouse/versions/` (the last OBSERVATOIRE_KEEP_VERSIONS), for comparison and rollback.
"""

import os
import re
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import dagster as dg
import duckdb

from pipelines import nights, stats
from pipelines.settings import Settings, get_settings

# The storage format of a new night file, kept by every later night (each copies the last one).
# duckdb 2.0 writes its own format by default, which no 1.x client opens, not even the newest
# command-line client on PyPI (duckdb-cli 1.5); v1.0.0 opens in every DuckDB since 1.0 (DBeaver,
# notebooks, the CLI), comments and views included, for a file of the same size.
STORAGE_VERSION = "v1.0.0"

CRASH_ENV = "OBSERVATOIRE_CRASH_AT"
# Another process holding a DuckDB file read-write (an analyst's client opened without
# -readonly, a night inspected by hand) makes every other open fail at once: wait for it,
# 0.5 s then doubling, about 30 s in all, before giving up with a French message.
LOCK_ATTEMPTS = 7
LOCK_FIRST_DELAY = 0.5
T = TypeVar("T")
VERSION_NAME = re.compile(r"^(\d{8}-\d{6})-([0-9a-f]{8})\.duckdb$")


class WarehouseLocked(Exception):
    """A DuckDB file stayed locked by another process through every retry."""


def crash_point(name: str) -> None:
    """Kill this process (SIGKILL, no cleanup) at the point named by OBSERVATOIRE_CRASH_AT.

    tests/test_crash_safety.py sets it to prove that a night killed at any of these points
    leaves the published file intact; unset, it costs one dictionary lookup.
    """
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def is_lock_error(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and "Could not set lock" in str(error)


def retry_on_lock(action: Callable[[], T], what: str,
                  log: Callable[[str], None] | None = None) -> T:
    """`action()`, retried with exponential backoff while a DuckDB file lock is held elsewhere."""
    delay = LOCK_FIRST_DELAY
    for attempt in range(1, LOCK_ATTEMPTS + 1):
        try:
            return action()
        except duckdb.IOException as error:
            if not is_lock_error(error):
                raise
            if attempt == LOCK_ATTEMPTS:
                holder = re.search(r"held in (.+?)(?:\. See|$)", str(error))
                raise WarehouseLocked(
                    f"{what} : le fichier reste verrouillé en écriture par un autre programme"
                    f"{f' ({holder.group(1)})' if holder else ''} après {attempt} essais ; "
                    "fermez-le (ou ouvrez-le en lecture seule : duckdb -readonly) et relancez."
                ) from error
            if log:
                log(f"{what} : fichier verrouillé par un autre programme, nouvel essai "
                    f"dans {delay:g} s ({attempt}/{LOCK_ATTEMPTS - 1}).")
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


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


def _prepare_build_file(settings: Settings, night: str,
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


def _open_build_file(path: Path, settings: Settings,
                     log: Callable[[str], None] | None = None) -> duckdb.DuckDBPyConnection:
    config = {"storage_compatibility_version": STORAGE_VERSION,
              "memory_limit": settings.duckdb_memory}
    return retry_on_lock(
        lambda: duckdb.connect(str(path), config=config),
        f"fichier de la nuit {path.name}", log)


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
    """Connections to the current run's build file; one writer at a time (in-process executor)."""

    @property
    def settings(self) -> Settings:
        return get_settings()

    @contextmanager
    def connect(self, context: dg.OpExecutionContext | dg.AssetCheckExecutionContext) -> Iterator[
        duckdb.DuckDBPyConnection
    ]:
        log = _op_context(context).log.warning
        path = _prepare_build_file(self.settings, night_of(context), log)
        con = _open_build_file(path, self.settings, log)
        try:
            stats.register_duckdb_functions(con)
            yield con
            crash_point(_op_context(context).op_def.name)
        finally:
            con.close()

    def publish(self, context: dg.OpExecutionContext) -> Path:
        settings = self.settings
        build = _prepare_build_file(settings, night_of(context), context.log.warning)
        con = _open_build_file(build, settings, context.log.warning)
        published_at, night_id = con.execute(
            "SELECT published_at, night_id FROM marts.publication").fetchone()
        con.execute("CHECKPOINT")
        con.close()
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
