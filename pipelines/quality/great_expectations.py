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


@dataclass(frozen=True)
class ReferenceSets:
    """Allowed values that suites check membership against, read from the night's ref tables."""

    communes: list[str]
    professions: list[str]
    stages: list[str]
    structure_types: list[str]
    regions: list[str]

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

    @property
    def blocking_failure(self) -> bool:
        return not self.success and self.severity == "ERROR"


def run_suite(con: duckdb.DuckDBPyConnection, suite_name: str) -> list[ExpectationOutcome]:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    module = importlib.import_module(f"expectations.{suite_name}")
    frame = con.sql(f"SELECT * FROM {module.TABLE}").df()
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("staging")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("night")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=module.TABLE)
    for expectation in module.expectations(gx, ReferenceSets.read(con)):
        suite.add_expectation(expectation)
    result = batch.validate(suite, result_format="SUMMARY")
    outcomes = []
    for r in result.results:
        config = r.expectation_config
        details = r.result or {}
        kwargs = config.kwargs
        column = kwargs.get("column") or ",".join(kwargs.get("column_list", []) or []) or None
        outcomes.append(
            ExpectationOutcome(
                expectation=config.type,
                column=column,
                severity=SEVERITY[str(config.severity.value)],
                success=bool(r.success),
                observed_value=_text(details.get("observed_value")),
                unexpected_count=details.get("unexpected_count"),
                sample=[_plain(v) for v in details.get("partial_unexpected_list", [])[:10]],
            )
        )
    return outcomes


def _plain(value):
    if value is None or value != value:  # NaN from pandas
        return None
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _text(value) -> str | None:
    return None if value is None else json.dumps(_plain(value), ensure_ascii=False)
