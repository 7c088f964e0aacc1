"""Reading the SQL models: one file per table, `models/<schema>/<table>.sql`."""

import os
import re
from pathlib import Path

import duckdb

from pipelines.settings import MODELS_DIR

# A model's upstream tables are the schema-qualified names it reads; saying them in SQL once is
# enough, no separate dependency list to keep in sync.
TABLE_REFERENCE = re.compile(r"\b(ref|raw|staging|marts)\.([a-z_][a-z0-9_]*)\b")


def model_path(schema: str, table: str) -> Path:
    return MODELS_DIR / schema / f"{table}.sql"


def model_sql(schema: str, table: str) -> str:
    return model_path(schema, table).read_text()


def referenced_tables(sql: str) -> set[tuple[str, str]]:
    without_comments = re.sub(r"--[^\n]*", "", sql)
    return set(TABLE_REFERENCE.findall(without_comments))


def macros_sql() -> str:
    return (MODELS_DIR / "macros.sql").read_text()


# The database files this process defined the macros in (device, inode and modification time:
# a file made anew, even where a deleted one was, is another), with the macros defined.
_defined: set[tuple[int, int, int, int]] = set()
# The files this process holds open with the macros defined (the night's file, from its first
# step to its hand-over or publication): no other process can write them meanwhile, so the
# checkpoints that move their modification time leave the macros as they were.
_held: set[str] = set()


def define_macros(con: duckdb.DuckDBPyConnection) -> str:
    """Define models/macros.sql in `con`'s database, unless this process already did in that
    file: they are kept in it, and the night's file is open from step to step, where defining
    the 26 macros again took 30 to 40 ms in each of the eight steps that use them. Returns the
    database's path ("" in memory)."""
    path = _database_path(con)
    if path in _held:
        return path
    sql = macros_sql()
    key = _file_key(path, sql)
    if key is None or key not in _defined:
        con.execute(sql)
        if key is not None:
            _defined.add(key)
    return path


def hold_macros(con: duckdb.DuckDBPyConnection) -> str:
    """Define the macros in the file `con` has just opened, which this process keeps open until
    `release_macros`; returns its path."""
    path = define_macros(con)
    if path:
        _held.add(path)
    return path


def release_macros(path: str) -> None:
    """The file held is closed: as it is now, it has the macros (another process that writes it
    before this one opens it again moves its modification time)."""
    _held.discard(path)
    key = _file_key(path, macros_sql())
    if key is not None:
        _defined.add(key)


def _database_path(con: duckdb.DuckDBPyConnection) -> str:
    [(path,)] = con.execute("SELECT path FROM duckdb_databases() "
                            "WHERE database_name = current_database()").fetchall()
    return path or ""


def _file_key(path: str, sql: str) -> tuple[int, int, int, int] | None:
    try:
        stat = os.stat(path) if path else None
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino, stat.st_mtime_ns, hash(sql)) if stat else None


def models_in(schema: str) -> list[str]:
    return sorted(p.stem for p in (MODELS_DIR / schema).glob("*.sql"))
