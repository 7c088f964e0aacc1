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

INDICATORS_SQL = """
WITH geo_names AS (
    SELECT geo_level, geo_code, any_value(geo_name) AS geo_name
    FROM marts.indicator_values
    GROUP BY geo_level, geo_code
)
SELECT
    v.indicator_id, v.geo_level, v.geo_code, v.geo_name, v.period, v.dimension, v.category,
    coalesce(l.label, CASE WHEN v.category = 'ensemble' THEN 'Ensemble' END, v.category)
        AS category_label,
    coalesce(l.sort_order, 999) AS category_order,
    v.value, v.numerator, v.denominator, v.ci_low, v.ci_high,
    v.reference_geo_level, v.reference_geo_code, v.reference_value,
    coalesce(r.geo_name, CASE WHEN v.reference_geo_level = 'france' THEN 'France' END,
             v.reference_geo_code) AS reference_geo_name,
    v.comparison_flag, coalesce(v.suppressed, false) AS suppressed, v.unit
FROM marts.indicator_values AS v
LEFT JOIN marts.category_labels AS l
    ON l.dimension = v.dimension AND l.category = v.category
LEFT JOIN geo_names AS r
    ON r.geo_level = v.reference_geo_level AND r.geo_code = v.reference_geo_code
ORDER BY v.indicator_id, v.geo_level, v.geo_name, v.period, category_order
"""

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
    dictionary_tables: pl.DataFrame
    dictionary_columns: pl.DataFrame


def read_snapshot(warehouse_path: Path) -> Snapshot:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        optional = {name: _optional(con, sql, schema) for name, (sql, schema) in OPTIONAL.items()}
        return Snapshot(
            indicators=con.sql(INDICATORS_SQL).pl(),
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


def _catalogue(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The catalogue in its file's order; a warehouse of an older night may lack its theme."""
    catalogue = con.sql("SELECT * FROM marts.indicator_catalogue ORDER BY rowid").pl()
    return catalogue.with_columns(pl.lit(None, pl.String).alias(column)
                                  for column in ("theme", "details")
                                  if column not in catalogue.columns)


def _optional(con: duckdb.DuckDBPyConnection, sql: str, schema: dict) -> pl.DataFrame:
    try:
        return con.sql(sql).pl().cast(schema)
    except duckdb.CatalogException:
        return pl.DataFrame(schema=schema)


def _publication(con: duckdb.DuckDBPyConnection) -> Publication:
    rows = con.sql("SELECT published_at, night_id, demo_activity FROM marts.publication "
                   "ORDER BY published_at DESC LIMIT 1").fetchall()
    if not rows:
        raise ValueError("L'entrepôt publié n'a pas de ligne dans marts.publication : "
                         "la nuit n'a pas été publiée jusqu'au bout.")
    published_at, night_id, demo_activity = rows[0]
    return Publication(published_at, night_id, bool(demo_activity))
