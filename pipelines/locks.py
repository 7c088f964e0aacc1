"""Waiting for a DuckDB file that another program holds read-write.

Another process holding a DuckDB file read-write (an analyst's client opened without -readonly,
a night inspected by hand) makes every other open fail at once: wait for it, 0.5 s then
doubling, about 30 s in all, before giving up with a French message. Its own module, without
Dagster, for the Great Expectations worker (pipelines/quality/worker.py) too.
"""

import re
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb

LOCK_ATTEMPTS = 7
LOCK_FIRST_DELAY = 0.5
T = TypeVar("T")


class WarehouseLocked(Exception):
    """A DuckDB file stayed locked by another process through every retry."""


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
