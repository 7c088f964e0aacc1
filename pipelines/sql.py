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


def define_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define models/macros.sql in `con`'s database, unless this process already did in that
    file: they are kept in it, and the night's file is open from step to step, where defining
    the 26 macros again took 30 to 40 ms in each of the eight steps that use them."""
    sql = macros_sql()
    [(path,)] = con.execute("SELECT path FROM duckdb_databases() "
                            "WHERE database_name = current_database()").fetchall()
    try:
        stat = os.stat(path) if path else None
    except OSError:
        stat = None
    key = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, hash(sql)) if stat else None
    if key is None or key not in _defined:
        con.execute(sql)
        if key is not None:
            _defined.add(key)


def models_in(schema: str) -> list[str]:
    return sorted(p.stem for p in (MODELS_DIR / schema).glob("*.sql"))
