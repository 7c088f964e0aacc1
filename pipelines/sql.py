"""Reading the SQL models: one file per table, `models/<schema>/<table>.sql`."""

import re
from pathlib import Path

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


def models_in(schema: str) -> list[str]:
    return sorted(p.stem for p in (MODELS_DIR / schema).glob("*.sql"))
