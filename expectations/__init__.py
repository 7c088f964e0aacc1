"""Great Expectations suites, one module per table they check (pipelines/quality/)."""

import importlib
import pkgutil
from functools import cache


@cache
def file_columns(table: str) -> dict[str, str]:
    """How messages name the columns of `table`: as the analyst's landing file does, for a table
    typed from one (its suite's FILE_COLUMNS); a column not in it keeps its own name."""
    for module in pkgutil.iter_modules(__path__):
        suite = importlib.import_module(f"{__name__}.{module.name}")
        if suite.TABLE == table:
            return getattr(suite, "FILE_COLUMNS", {})
    return {}


def named_columns(table: str, columns: str | None) -> str | None:
    """The columns of a check on `table`, comma-separated as audit.validation_results keeps
    them, as messages name them."""
    if not columns:
        return None
    names = file_columns(table)
    return ", ".join(names.get(c, c) for c in columns.split(","))
