"""Run a Great Expectations suite (expectations/<table>.py) on a staged table.

GX is imported here, inside the check, never at definitions load: it costs seconds to import
and the webserver or the CLI must not pay that (DESIGN §8). Its SQL datasource does not work on
DuckDB, so the table is handed to it as a pandas frame.
"""

import gc
import importlib
import json
import os
import threading
from dataclasses import dataclass, replace

import duckdb

SEVERITY = {"critical": "ERROR", "warning": "WARN", "info": "WARN"}
SKIPPED_EMPTY = "suite_skipped_empty_table"
SOURCE_LINE = ("_source_file", "_source_row")


@dataclass(frozen=True)
class ReferenceSets:
    """Allowed values that suites check membership against, read from the night's ref tables."""

    communes: list[str]
    professions: list[str]
    stages: list[str]
    structure_types: list[str]
    regions: list[str]
    departments: list[str]
    epci: list[str]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> "ReferenceSets":
        def column(sql: str) -> list[str]:
            return [row[0] for row in con.execute(sql).fetchall()]

        return cls(
            communes=column("SELECT commune_code FROM ref.communes"),
            professions=column("SELECT profession_code FROM ref.professions"),
            stages=column("SELECT stage_code FROM ref.stages"),
            structure_types=column("SELECT structure_type FROM ref.structure_types"),
            regions=column("SELECT region_code FROM ref.regions"),
            departments=column("SELECT department_code FROM ref.departements"),
            epci=column("SELECT epci_code FROM ref.epci"),
        )


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    sample: list
    # where the sampled values are: "file, ligne N" for staged rows
    rows: tuple[str, ...] = ()

    @property
    def blocking_failure(self) -> bool:
        return not self.success and self.severity == "ERROR"


def import_in_background(night_validates: bool) -> None:
    """Start importing GX in a daemon thread when the night will validate a table.

    The import costs about 2.5 s of Python, most of a one-month night's first check; the first
    steps of a night spend theirs in DuckDB, which lets the interpreter go, so the import mostly
    overlaps them. A check that starts before it is done waits on Python's import lock.
    """
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    if night_validates:
        threading.Thread(target=_import_and_freeze, name="gx-import", daemon=True).start()


def _import_and_freeze() -> None:
    importlib.import_module("great_expectations")
    # its 200,000 objects live until the night ends: out of the collector's way (see the CLI)
    gc.freeze()


# Rows validated at once. A suite that names a BATCH_COLUMN (every expectation holds row by row,
# or within one value of that column: the activity uniqueness key includes the month) is run on
# batches of that column's values of at most this many rows, then its outcomes are added up: at
# national scale the activity table as one pandas frame took 5 GB.
BATCH_ROWS = 2_000_000


def run_suite(con: duckdb.DuckDBPyConnection, suite_name: str,
              where: str | None = None) -> list[ExpectationOutcome]:
    """`where` restricts the suite to the rows a night changed (the activity months it
    refreshed); the rest of the table passed when it was published."""
    module = importlib.import_module(f"expectations.{suite_name}")
    subset = f" WHERE {where}" if where else ""
    rows = con.execute(f"SELECT count(*) FROM {module.TABLE}{subset}").fetchone()[0]
    if rows == 0:
        # public reference files are optional: no file, no rows (and no typed columns) to check;
        # an incremental night may also have no new activity row
        return [ExpectationOutcome(
            expectation=SKIPPED_EMPTY, column=None, severity="WARN", success=True,
            observed_value=json.dumps({"lignes": 0, "raison": (
                "aucune ligne nouvelle à contrôler cette nuit" if where
                else "aucune ligne à contrôler (aucun fichier déposé)")}, ensure_ascii=False),
            unexpected_count=0, sample=[],
        )]
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    reference = ReferenceSets.read(con)
    schema, table = module.TABLE.split(".")
    located = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
        "AND table_name = ?", [schema, table]).fetchall()} >= set(SOURCE_LINE)
    index = list(SOURCE_LINE) if located else []
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    night = (context.data_sources.add_pandas("staging").add_dataframe_asset(suite_name)
             .add_batch_definition_whole_dataframe("night"))
    merged: list[ExpectationOutcome] | None = None
    for condition in _batches(con, module, where, rows):
        # made again for each batch: membership sets are cut to the values of the batch
        expectations = module.expectations(gx, reference)
        # only the columns the suite reads: on a million activity rows the frame is most of
        # the cost
        columns = list(dict.fromkeys(c for e in expectations
                                     for c in _columns(e.configuration.kwargs)))
        frame = pandas_frame(con.sql(
            f"SELECT {', '.join(dict.fromkeys(columns + index))} FROM {module.TABLE}"
            + (f" WHERE {condition}" if condition else "")
        ))
        executed = [_for_batch(gx, expectation, frame) for expectation in expectations]
        suite = gx.ExpectationSuite(name=module.TABLE)
        for expectation in executed:
            suite.add_expectation(expectation)
        result = night.get_batch(batch_parameters={"dataframe": frame}).validate(
            suite,
            result_format={"result_format": "SUMMARY", "unexpected_index_column_names": index},
        )
        outcomes = [_declared(_outcome(r), declared, ran) for r, declared, ran
                    in zip(result.results, expectations, executed, strict=True)]
        merged = outcomes if merged is None else [
            _added(a, b) for a, b in zip(merged, outcomes, strict=True)]
    return merged


def _batches(con: duckdb.DuckDBPyConnection, module, where: str | None,
             rows: int) -> list[str | None]:
    """Conditions that split the rows to check into batches of whole BATCH_COLUMN values."""
    column = getattr(module, "BATCH_COLUMN", None)
    if column is None or rows <= BATCH_ROWS:
        return [where]
    subset = f" WHERE {where}" if where else ""
    counts = con.execute(f"SELECT {column}::VARCHAR, count(*) FROM {module.TABLE}{subset} "
                         "GROUP BY ALL ORDER BY 1 NULLS FIRST").fetchall()
    groups: list[list] = [[]]
    size = 0
    for value, count in counts:
        if groups[-1] and size + count > BATCH_ROWS:
            groups.append([])
            size = 0
        groups[-1].append(value)
        size += count
    conditions = []
    for values in groups:
        listed = ", ".join("'" + v.replace("'", "''") + "'" for v in values if v is not None)
        parts = ([f"{column}::VARCHAR IN ({listed})"] if listed else []) + (
            [f"{column} IS NULL"] if None in values else [])
        condition = "(" + " OR ".join(parts) + ")"
        conditions.append(f"({where}) AND {condition}" if where else condition)
    return conditions


def _outcome(r) -> ExpectationOutcome:
    config = r.expectation_config
    details = r.result or {}
    return ExpectationOutcome(
        expectation=config.type,
        column=",".join(_columns(config.kwargs)) or None,
        severity=SEVERITY[str(config.severity.value)],
        success=bool(r.success),
        observed_value=_text(details.get("observed_value")),
        unexpected_count=details.get("unexpected_count"),
        sample=[_plain(v) for v in details.get("partial_unexpected_list", [])[:10]],
        rows=tuple(f"{r[SOURCE_LINE[0]]}, ligne {r[SOURCE_LINE[1]]}"
                   for r in (details.get("partial_unexpected_index_list") or [])[:10]
                   if isinstance(r, dict) and SOURCE_LINE[0] in r),
    )


def _added(a: ExpectationOutcome, b: ExpectationOutcome) -> ExpectationOutcome:
    """One expectation's outcome over two batches: failed if either failed, counts added, the
    first ten offending values (and their lines) kept."""
    if (a.expectation, a.column, a.severity) != (b.expectation, b.column, b.severity):
        raise ValueError(f"outcomes of different expectations cannot be added: {a} and {b}")
    counts = [c for c in (a.unexpected_count, b.unexpected_count) if c is not None]
    return replace(
        a, success=a.success and b.success,
        observed_value=a.observed_value if a.observed_value is not None else b.observed_value,
        unexpected_count=sum(counts) if counts else None,
        sample=(a.sample + b.sample)[:10], rows=(a.rows + b.rows)[:10],
    )


def pandas_frame(relation: duckdb.DuckDBPyRelation):
    """The relation as the pandas frame `.df()` makes, through Arrow: ten times faster on
    millions of rows (2.0 s against 0.2 s for 1.5 M activity rows). Dates and decimals are cast
    by DuckDB to what `.df()` gives them (datetime64, float64), so the values are the same."""
    def column(name: str, kind) -> str:
        quoted = '"' + name.replace('"', '""') + '"'
        if str(kind) == "DATE":
            return f"{quoted}::TIMESTAMP AS {quoted}"
        if str(kind).startswith("DECIMAL"):
            return f"{quoted}::DOUBLE AS {quoted}"
        return quoted

    import pandas as pd
    import pyarrow as pa

    cast = relation.select(", ".join(column(n, t) for n, t in
                                     zip(relation.columns, relation.types, strict=True)))
    table = cast.arrow().read_all()
    # like `.df()`, integers and booleans with nulls become pandas' nullable types, not floats
    nullable = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(),
                pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
                pa.bool_(): pd.BooleanDtype()}
    return pd.DataFrame({
        name: column.to_pandas(types_mapper=nullable.get if column.null_count else None)
        for name, column in zip(table.column_names, table.columns, strict=True)})


def _for_batch(gx, expectation, frame):
    """The expectation GX runs on this batch: a membership rule becomes its complement, "no
    value among the batch's values missing from the allowed set".

    The verdict, the unexpected count, the offending values and their rows are those of the
    rule itself, but GX copies an expectation's configuration hundreds of times while it plans
    the metrics: with the 35,000 commune codes of the reference in it, those copies were half
    of the national activity check. The complement's set is empty on a clean night.
    """
    if expectation.expectation_type != "expect_column_values_to_be_in_set":
        return expectation
    column = expectation.column
    allowed = set(expectation.value_set)
    present = frame[column].dropna().unique().tolist() if column in frame.columns else []
    return gx.expectations.ExpectColumnValuesToNotBeInSet(
        column=column, value_set=sorted(v for v in present if v not in allowed),
        mostly=expectation.mostly, severity=expectation.severity)


def _declared(outcome: ExpectationOutcome, declared, ran) -> ExpectationOutcome:
    """An outcome under the rule the suite declares, when it ran as an equivalent one."""
    if outcome.expectation != ran.expectation_type:
        raise ValueError(f"GX returned {outcome.expectation} where {ran.expectation_type} ran")
    return replace(outcome, expectation=declared.expectation_type)


def _columns(kwargs) -> list[str]:
    if kwargs.get("column"):
        return [kwargs["column"]]
    return list(kwargs.get("column_list") or [])


def _plain(value):
    import pandas as pd

    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):  # NaN, NA, NaT
        return None
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):  # numpy scalars
        value = value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _text(value) -> str | None:
    return None if value is None else json.dumps(_plain(value), ensure_ascii=False)
