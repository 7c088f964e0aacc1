"""Everything the pages need from the published warehouse, read in one short read-only visit.

The connection is closed before any page is written, so a night that swaps the warehouse while
the dashboards render is never blocked by us (DESIGN §8, DuckDB locks). Audit and reference
tables are read when the file has them: a page says "nothing published" rather than fail.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

# The rows of a few indicators at a time, a few tens of thousands of rows a query: each reads
# its indicators' row groups only (the table is written in indicator order), a few milliseconds
# even at national scale, where one query of every row, joined and sorted, took 120 ms; a region
# reads all its indicators in one query. The labels and the names of reference territories are
# small tables, joined here.
INDICATOR_SQL = """
SELECT indicator_id, geo_level, geo_code, geo_name, period, dimension, category, value,
       numerator, denominator, ci_low, ci_high, reference_geo_level, reference_geo_code,
       reference_value, comparison_flag, coalesce(suppressed, false) AS suppressed, unit
FROM marts.indicator_values
WHERE list_contains({indicators}, indicator_id)
"""
INDICATOR_ROWS_SQL = """
SELECT indicator_id, count(*) FROM marts.indicator_values GROUP BY 1 ORDER BY 1
"""
ROWS_PER_QUERY = 40_000
GEO_NAMES_SQL = """
SELECT geo_level AS reference_geo_level, geo_code AS reference_geo_code,
       any_value(geo_name) AS name
FROM marts.indicator_values
GROUP BY geo_level, geo_code
"""
LABELS_SQL = "SELECT dimension, category, label, sort_order FROM marts.category_labels"
INDICATOR_ORDER = ["indicator_id", "geo_level", "geo_name", "period", "category_order"]

COVERAGE_SQL = """
SELECT indicator_id,
       min(period) AS first_period,
       max(period) AS last_period,
       string_agg(DISTINCT geo_level, ', ' ORDER BY geo_level) AS published_levels,
       count(*) AS rows,
       count(*) FILTER (WHERE suppressed) AS suppressed_rows
FROM marts.indicator_values
GROUP BY indicator_id
"""

# Optional tables: (SQL, the columns of the empty frame used when the table is absent).
OPTIONAL = {
    "communes": ("SELECT commune_code, commune_name, department_code, region_code, epci_code, "
                 "population FROM ref.communes",
                 {"commune_code": pl.String, "commune_name": pl.String,
                  "department_code": pl.String, "region_code": pl.String,
                  "epci_code": pl.String, "population": pl.Int64}),
    "epci": ("SELECT epci_code, epci_name FROM ref.epci",
             {"epci_code": pl.String, "epci_name": pl.String}),
    "departements": ("SELECT department_code, department_name, region_code "
                     "FROM ref.departements",
                     {"department_code": pl.String, "department_name": pl.String,
                      "region_code": pl.String}),
    "regions": ("SELECT region_code, region_name FROM ref.regions",
                {"region_code": pl.String, "region_name": pl.String}),
    "validation_results": (
        "SELECT night_id, checked_at, table_name, check_name, expectation, column_name, "
        "severity, success, observed_value, unexpected_count, unexpected_sample "
        "FROM audit.validation_results ORDER BY checked_at",
        {"night_id": pl.String, "checked_at": pl.Datetime, "table_name": pl.String,
         "check_name": pl.String, "expectation": pl.String, "column_name": pl.String,
         "severity": pl.String, "success": pl.Boolean, "observed_value": pl.String,
         "unexpected_count": pl.Int64, "unexpected_sample": pl.String}),
    "rejected_rows": (
        "SELECT table_name, source_file, source_row, column_name, value, reason, load_id "
        "FROM audit.rejected_rows ORDER BY table_name, source_file, source_row",
        {"table_name": pl.String, "source_file": pl.String, "source_row": pl.Int64,
         "column_name": pl.String, "value": pl.String, "reason": pl.String,
         "load_id": pl.String}),
    "unresolved_communes": (
        "SELECT table_name, source_file, source_row, column_name, value, region_code, status, "
        "candidates, fix FROM audit.unresolved_communes "
        "ORDER BY table_name, source_file, source_row",
        {"table_name": pl.String, "source_file": pl.String, "source_row": pl.Int64,
         "column_name": pl.String, "value": pl.String, "region_code": pl.String,
         "status": pl.String, "candidates": pl.String, "fix": pl.String}),
    "loaded_files": (
        "SELECT family, source_file, load_id, loaded_at, row_count, status, message "
        "FROM raw.loaded_files ORDER BY loaded_at, source_file",
        {"family": pl.String, "source_file": pl.String, "load_id": pl.String,
         "loaded_at": pl.Datetime, "row_count": pl.Int64, "status": pl.String,
         "message": pl.String}),
    # the landing's files no night reads, as each night's plan found them (a warehouse
    # published before they were recorded has no such column)
    "unread_files": (
        "SELECT night_id, unread_files FROM raw.night_plans",
        {"night_id": pl.String, "unread_files": pl.String}),
}

DICTIONARY_TABLES_SQL = """
SELECT schema_name, table_name, 'table' AS kind, comment, estimated_size AS rows
FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary
UNION ALL
SELECT schema_name, view_name, 'vue', comment, NULL
FROM duckdb_views() WHERE database_name = current_database() AND NOT internal AND NOT temporary
ORDER BY schema_name, table_name
"""

DICTIONARY_COLUMNS_SQL = """
SELECT schema_name, table_name, column_name, data_type, comment, column_index
FROM duckdb_columns() WHERE database_name = current_database() AND NOT internal
ORDER BY schema_name, table_name, column_index
"""


@dataclass(frozen=True)
class Publication:
    published_at: datetime
    night_id: str
    demo_activity: bool


@dataclass(frozen=True)
class Snapshot:
    indicators: pl.DataFrame
    coverage: pl.DataFrame
    catalogue: pl.DataFrame
    census_projects: pl.DataFrame
    followup: pl.DataFrame
    publication: Publication
    communes: pl.DataFrame
    epci: pl.DataFrame
    departements: pl.DataFrame
    regions: pl.DataFrame
    validation_results: pl.DataFrame
    rejected_rows: pl.DataFrame
    unresolved_communes: pl.DataFrame
    loaded_files: pl.DataFrame
    unread_files: pl.DataFrame
    dictionary_tables: pl.DataFrame
    dictionary_columns: pl.DataFrame


def read_snapshot(warehouse_path: Path) -> Snapshot:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        optional = {name: _optional(con, sql, schema) for name, (sql, schema) in OPTIONAL.items()}
        return Snapshot(
            indicators=_indicators(con, _reference_names(optional)),
            coverage=con.sql(COVERAGE_SQL).pl(),
            catalogue=_catalogue(con),
            census_projects=con.sql("SELECT * FROM marts.census_projects "
                                    "ORDER BY census_date, territory, stage_order, "
                                    "project_name").pl(),
            followup=con.sql("SELECT * FROM marts.followup_criteria "
                             "ORDER BY programme, axis, action, criterion, period").pl(),
            publication=_publication(con),
            dictionary_tables=con.sql(DICTIONARY_TABLES_SQL).pl(),
            dictionary_columns=con.sql(DICTIONARY_COLUMNS_SQL).pl(),
            **optional,
        )
    finally:
        con.close()


def _reference_names(optional: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The names of the reference geography's territories: a région the landing files cover in
    part publishes no row, and its départements still name it as their reference."""
    return pl.concat([
        optional[table].select(pl.lit(level).alias("reference_geo_level"),
                               pl.col(f"{prefix}_code").alias("reference_geo_code"),
                               pl.col(f"{prefix}_name").alias("name"))
        for table, level, prefix in (("epci", "epci", "epci"),
                                     ("departements", "departement", "department"),
                                     ("regions", "region", "region"))])


def _indicators(con: duckdb.DuckDBPyConnection, reference_names: pl.DataFrame) -> pl.DataFrame:
    """Every indicator's rows with their category label and order and the name of their
    reference territory, in indicator, level, territory name, period and category order."""
    chunks: list[list[str]] = [[]]
    size = 0
    for indicator, count in con.sql(INDICATOR_ROWS_SQL).fetchall():
        if chunks[-1] and size + count > ROWS_PER_QUERY:
            chunks.append([])
            size = 0
        chunks[-1].append(indicator)
        size += count
    rows = pl.concat([con.sql(INDICATOR_SQL.format(
        indicators="[" + ", ".join(map(_literal, chunk)) + "]::VARCHAR[]")).pl()
        for chunk in chunks])
    labels = con.sql(LABELS_SQL).pl()
    # a territory's name as its rows give it, else as the reference geography gives it
    names = pl.concat([con.sql(GEO_NAMES_SQL).pl(), reference_names]).unique(
        ["reference_geo_level", "reference_geo_code"], keep="first", maintain_order=True)
    category = pl.col("category")
    return (
        rows.join(labels, on=["dimension", "category"], how="left", maintain_order="left")
        .join(names, on=["reference_geo_level", "reference_geo_code"], how="left",
              maintain_order="left")
        .with_columns(
            category_label=pl.coalesce(
                "label", pl.when(category == "ensemble").then(pl.lit("Ensemble")), category),
            category_order=pl.coalesce("sort_order", pl.lit(999, pl.Int32)),
            reference_geo_name=pl.coalesce(
                "name", pl.when(pl.col("reference_geo_level") == "france")
                .then(pl.lit("France")), "reference_geo_code"))
        .sort(INDICATOR_ORDER, nulls_last=True, maintain_order=True)
        .select(*rows.columns[:7], "category_label", "category_order", *rows.columns[7:15],
                "reference_geo_name", *rows.columns[15:])
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _catalogue(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The catalogue in its file's order, with why each indicator without rows has none
    (marts.indicator_status); a warehouse of an older night may lack its theme."""
    catalogue = con.sql("SELECT * FROM marts.indicator_catalogue ORDER BY rowid").pl()
    reasons = _optional(con, "SELECT indicator_id, reason AS status_reason "
                        "FROM marts.indicator_status",
                        {"indicator_id": pl.String, "status_reason": pl.String})
    return catalogue.with_columns(pl.lit(None, dtype).alias(column)
                                  for column, dtype in (("theme", pl.String),
                                                        ("details", pl.String),
                                                        ("activity_based", pl.Boolean))
                                  if column not in catalogue.columns
                                  ).join(reasons, on="indicator_id", how="left",
                                         maintain_order="left")


def _optional(con: duckdb.DuckDBPyConnection, sql: str, schema: dict) -> pl.DataFrame:
    try:
        return con.sql(sql).pl().cast(schema)
    except (duckdb.CatalogException, duckdb.BinderException):  # no such table, or column
        return pl.DataFrame(schema=schema)


def _publication(con: duckdb.DuckDBPyConnection) -> Publication:
    rows = con.sql("SELECT published_at, night_id, demo_activity FROM marts.publication "
                   "ORDER BY published_at DESC LIMIT 1").fetchall()
    if not rows:
        raise ValueError("L'entrepôt publié n'a pas de ligne dans marts.publication : "
                         "la nuit n'a pas été publiée jusqu'au bout.")
    published_at, night_id, demo_activity = rows[0]
    return Publication(published_at, night_id, bool(demo_activity))
