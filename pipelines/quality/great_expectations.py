"""Run a Great Expectations suite (expectations/<table>.py) on a staged table.

GX is imported here, inside the check, never at definitions load: it costs seconds to import
and the webserver or the CLI must not pay that (DESIGN §8). Its SQL datasource does not work on
DuckDB, so the table is handed to it as a pandas frame.
"""

import importlib
import json
import os
from dataclasses import dataclass

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

    expectations = module.expectations(gx, ReferenceSets.read(con))
    # only the columns the suite reads: on a million activity rows the frame is most of the cost
    columns = list(dict.fromkeys(c for e in expectations for c in _columns(e.configuration.kwargs)))
    schema, table = module.TABLE.split(".")
    located = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
        "AND table_name = ?", [schema, table]).fetchall()} >= set(SOURCE_LINE)
    index = list(SOURCE_LINE) if located else []
    frame = con.sql(
        f"SELECT {', '.join(dict.fromkeys(columns + index))} FROM {module.TABLE}{subset}"
    ).df()
    for expectation in expectations:
        _keep_values_present(expectation, frame)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("staging")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("night")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=module.TABLE)
    for expectation in expectations:
        suite.add_expectation(expectation)
    result = batch.validate(
        suite, result_format={"result_format": "SUMMARY", "unexpected_index_column_names": index}
    )
    outcomes = []
    for r in result.results:
        config = r.expectation_config
        details = r.result or {}
        column = ",".join(_columns(config.kwargs)) or None
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=column,
                severity=SEVERITY[str(config.severity.value)],
                success=bool(r.success),
                observed_value=_text(details.get("observed_value")),
                unexpected_count=details.get("unexpected_count"),
                sample=[_plain(v) for v in details.get("partial_unexpected_list", [])[:10]],
                rows=tuple(f"{r[SOURCE_LINE[0]]}, ligne {r[SOURCE_LINE[1]]}"
                           for r in (details.get("partial_unexpected_index_list") or [])[:10]
                           if isinstance(r, dict) and SOURCE_LINE[0] in r),
            )
        )
    return outcomes


def _keep_values_present(expectation, frame) -> None:
    """Reduce a membership expectation's allowed values to those found in its column.

    GX copies an expectation's configuration hundreds of times while it plans the metrics, so
    the 35,000 commune codes of a value set made 80 % of the activity check. A value of the
    column is in the full set exactly when it is in its intersection with the column's values:
    the verdict, the unexpected count and the sample are the same.
    """
    allowed = getattr(expectation, "value_set", None)
    column = getattr(expectation, "column", None)
    if not isinstance(allowed, list) or column not in frame.columns:
        return
    present = set(frame[column].dropna().unique().tolist())
    expectation.value_set = [value for value in allowed if value in present]


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
