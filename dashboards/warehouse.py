"""Everything the pages need from the published warehouse, read in one short read-only visit.

The connection is closed before any page is written, so a night that swaps the warehouse while
the dashboards render is never blocked by us (DESIGN §8, DuckDB locks).
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

PAGE_INDICATORS = (
    "projets_nombre",
    "projets_part_stade",
    "projets_part_territoire",
    "densite_professionnels",
)

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
    v.comparison_flag, v.suppressed, v.unit
FROM marts.indicator_values AS v
LEFT JOIN marts.category_labels AS l
    ON l.dimension = v.dimension AND l.category = v.category
LEFT JOIN geo_names AS r
    ON r.geo_level = v.reference_geo_level AND r.geo_code = v.reference_geo_code
WHERE v.indicator_id IN ({placeholders})
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


def read_snapshot(warehouse_path: Path) -> Snapshot:
    con = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        placeholders = ", ".join("?" for _ in PAGE_INDICATORS)
        indicators_sql = INDICATORS_SQL.format(placeholders=placeholders)
        return Snapshot(
            indicators=con.sql(indicators_sql, params=list(PAGE_INDICATORS)).pl(),
            coverage=con.sql(COVERAGE_SQL).pl(),
            catalogue=con.sql("SELECT * FROM marts.indicator_catalogue "
                              "ORDER BY indicator_id").pl(),
            census_projects=con.sql("SELECT * FROM marts.census_projects "
                                    "ORDER BY census_date, territory, stage_order, "
                                    "project_name").pl(),
            followup=con.sql("SELECT * FROM marts.followup_criteria "
                             "ORDER BY programme, axis, action, criterion, period").pl(),
            publication=_publication(con),
        )
    finally:
        con.close()


def _publication(con: duckdb.DuckDBPyConnection) -> Publication:
    rows = con.sql("SELECT published_at, night_id, demo_activity FROM marts.publication "
                   "ORDER BY published_at DESC LIMIT 1").fetchall()
    if not rows:
        raise ValueError("L'entrepôt publié n'a pas de ligne dans marts.publication : "
                         "la nuit n'a pas été publiée jusqu'au bout.")
    published_at, night_id, demo_activity = rows[0]
    return Publication(published_at, night_id, bool(demo_activity))
