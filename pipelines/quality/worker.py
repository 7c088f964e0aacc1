"""Great Expectations in a process of its own, started when the night starts.

Importing GX costs about 2.5 s of Python. Imported in a thread of the night's process, it held
the interpreter lock while the first steps ran and made them twice as slow; imported in a
second process it runs on the machine's other core while the night imports Dagster, plans and
loads its files. When a suite runs, the night closes its connection to its file and the worker
opens it, runs the suite and closes it again, so that nothing but the outcomes crosses between
the processes.

`observatoire run` starts the worker; a run without one (started from `dagster dev`, or a test
that runs a suite directly) runs its suites in its own process.
"""

import gc
import importlib
import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

_worker: tuple[BaseProcess, Connection] | None = None


def start() -> None:
    """Start the worker and its imports now, in the background."""
    global _worker
    if _worker is None:
        os.environ["GX_ANALYTICS_ENABLED"] = "false"
        # spawn: a fork would copy a process whose DuckDB and import threads may be running
        context = multiprocessing.get_context("spawn")
        ours, its = context.Pipe()
        process = context.Process(target=_serve, args=(its,), name="great-expectations",
                                  daemon=True)
        process.start()
        its.close()
        _worker = (process, ours)


def stop() -> None:
    """End the worker, at once even if it is still importing (a night with nothing to
    validate)."""
    global _worker
    if _worker is not None:
        process, connection = _worker
        _worker = None
        # SIGKILL, not SIGTERM: a process started where SIGINT is ignored (`nohup … &` from a
        # script) ignores SIGTERM too once Dagster has run in it (Dagster gives SIGTERM the
        # handler of SIGINT), its workers inherit that, and a night waited for one forever.
        # Between suites the worker holds nothing that a kill could leave half done.
        process.kill()
        process.join()
        connection.close()


def run_suite(path: Path, config: dict, suite: str, where: str | None,
              log: Callable[[str], None] | None = None) -> list:
    """The outcomes of `suite` on the night's file at `path`, which the caller must not hold
    open: in the worker when there is one, here otherwise (`log` says when another program
    holds the file and the suite waits for it; the worker says it on its standard error)."""
    if _worker is None:
        return _run(str(path), config, suite, where, log)
    process, connection = _worker
    connection.send((str(path), config, suite, where))
    try:
        done, value = connection.recv()
    except EOFError as error:
        raise RuntimeError(f"le processus de validation s'est arrêté (code "
                           f"{process.exitcode}) pendant la suite {suite}") from error
    if done:
        return value
    raise value


def _serve(connection: Connection) -> None:
    import threading

    from tqdm import tqdm

    # GX's progress bars, hidden or not, take tqdm's lock, by default a multiprocessing
    # semaphore: the worker, killed when the night ends, left it registered, and every night
    # ended with the resource tracker's "leaked semaphore objects" warning
    tqdm.set_lock(threading.RLock())
    for module in ("great_expectations", "pipelines.quality.great_expectations",
                   "pipelines.stats", "pipelines.locks"):
        importlib.import_module(module)
    importlib.import_module("pipelines.quality.great_expectations").warm_up()
    # its objects live until the night ends: out of the collector's way
    gc.freeze()
    while True:
        try:
            job = connection.recv()
        except EOFError:  # the night is gone
            break
        try:
            answer = (True, _run(*job))
        except Exception as error:  # raised again in the night, as if it ran there
            answer = (False, error)
        try:
            connection.send(answer)
        except Exception:  # an exception that does not pickle: its text does
            connection.send((False, RuntimeError(traceback.format_exc())))
    # leave without tearing GX's modules down, as `observatoire` does
    os._exit(0)


def _run(path: str, config: dict, suite: str, where: str | None,
         log: Callable[[str], None] | None = None) -> list:
    import duckdb

    from pipelines import stats
    from pipelines.locks import retry_on_lock
    from pipelines.quality.great_expectations import run_suite as run

    con = retry_on_lock(lambda: duckdb.connect(path, config=config),
                        f"fichier de la nuit {Path(path).name}",
                        log or (lambda message: print(message, file=sys.stderr, flush=True)))
    try:
        stats.register_duckdb_functions(con)
        return run(con, suite, where)
    finally:
        con.close()
