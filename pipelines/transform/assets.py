"""Marts: wide tables (one SQL model each) and the long indicator table built from the catalogue."""

import json
import re

import dagster as dg
import duckdb
import polars as pl
import yaml

from pipelines import stats
from pipelines.ingest.plan import PLAN_TAG
from pipelines.settings import MODELS_DIR, Settings
from pipelines.sql import macros_sql, model_sql, models_in, referenced_tables
from pipelines.warehouse import WarehouseResource

CATALOGUE_PATH = MODELS_DIR / "indicators.yaml"
INDICATOR_COLUMNS = (
    "indicator_id", "geo_level", "geo_code", "geo_name", "period", "dimension", "category",
    "value", "numerator", "denominator", "ci_low", "ci_high", "reference_geo_level",
    "reference_geo_code", "reference_value", "comparison_flag", "suppressed", "unit",
)
INDICATOR_KEY = ("indicator_id", "geo_level", "geo_code", "period", "dimension", "category")


# Catalogue keys stored in their own column (or, like `suppression`, used only by the night);
# any other key of an entry (a status rule, decay bands…) lands in `details` as JSON, so that a
# new key reaches the indicator sheets without a schema change.
CATALOGUE_COLUMN_KEYS = {"id", "label", "definition", "numerator", "denominator", "unit",
                         "source", "geo_levels", "polarity", "suppression", "suppression_note",
                         "suppression_counts", "additive_levels", "seed", "theme"}


def load_catalogue() -> list[dict]:
    # libyaml's safe loader when PyYAML was built with it: the same entries in 2 ms, not 40
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(CATALOGUE_PATH.read_text(), Loader=loader)["indicators"]


def _deps(sql: str) -> list[list[str]]:
    return sorted([schema, table] for schema, table in referenced_tables(sql))


def _mart_asset(table: str) -> dg.AssetsDefinition:
    sql = model_sql("marts", table)

    @dg.asset(key=["marts", table], group_name="marts", deps=_deps(sql),
              description=sql.splitlines()[0].removeprefix("-- "))
    def _mart(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect(context) as con:
            con.execute(macros_sql())
            con.execute("CREATE SCHEMA IF NOT EXISTS marts")
            con.execute(f"CREATE OR REPLACE TABLE marts.{table} AS {sql}")
            rows = con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]
        return dg.MaterializeResult(metadata={"rows": rows})

    return _mart


mart_assets = [_mart_asset(table) for table in models_in("marts")]


@dg.asset(
    key=["staging", "followup_communes"],
    group_name="staging",
    deps=[["staging", "followup"], ["ref", "communes"], ["ref", "epci"]],
    description="Communes du territoire de chaque programme suivi, résolues depuis le nom écrit.",
)
def followup_communes(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """The follow-up cross-check compares a programme with the activity of its communes; a
    territory the resolver cannot answer keeps one row with no commune, so the indicator can
    say why it is missing instead of showing nothing."""
    from pipelines.geography.resolve import CommuneResolver

    with warehouse.connect(context) as con:
        resolver = CommuneResolver(con)
        rows = []
        territories = con.execute(
            "SELECT DISTINCT programme, territory FROM staging.followup ORDER BY ALL"
        ).fetchall()
        for programme, territory in territories:
            resolution = resolver.resolve(territory)
            codes = resolution.commune_codes if resolution.status in ("resolved", "epci") else ()
            for code in codes or (None,):
                rows.append((programme, territory, code, resolution.status, resolution.method))
        frame = pl.DataFrame(
            rows, orient="row",
            schema={c: pl.String for c in ("programme", "territory", "commune_code",
                                          "resolution_status", "resolution_method")},
        )
        con.register("incoming", frame.to_arrow())
        con.execute("CREATE OR REPLACE TABLE staging.followup_communes AS SELECT * FROM incoming")
        con.unregister("incoming")
    unresolved = frame.filter(pl.col("commune_code").is_null()).height
    return dg.MaterializeResult(metadata={"territories": len(territories),
                                          "unresolved_territories": unresolved})


@dg.asset(key=["marts", "indicator_catalogue"], group_name="marts",
          description="Le catalogue des indicateurs (models/indicators.yaml).")
def indicator_catalogue(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    catalogue = load_catalogue()
    frame = pl.DataFrame(
        {
            "indicator_id": [e["id"] for e in catalogue],
            "label": [e["label"] for e in catalogue],
            "definition": [e["definition"] for e in catalogue],
            "numerator": [e["numerator"] for e in catalogue],
            "denominator": [e["denominator"] for e in catalogue],
            "unit": [e["unit"] for e in catalogue],
            "source": [e["source"] for e in catalogue],
            "geo_levels": [", ".join(e["geo_levels"]) for e in catalogue],
            "polarity": [e["polarity"] for e in catalogue],
            "suppression_rule": [e["suppression_note"] for e in catalogue],
            "seed_reference": [e["seed"] for e in catalogue],
            "theme": [e.get("theme") for e in catalogue],
            "details": [json.dumps({k: v for k, v in e.items() if k not in CATALOGUE_COLUMN_KEYS},
                                   ensure_ascii=False, default=str) for e in catalogue],
        }
    )
    with warehouse.connect(context) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.register("incoming", frame.to_arrow())
        con.execute("CREATE OR REPLACE TABLE marts.indicator_catalogue AS SELECT * FROM incoming")
    return dg.MaterializeResult(metadata={"indicators": frame.height})


def _indicator_sql() -> dict[str, str]:
    return {entry["id"]: model_sql("indicators", entry["id"]) for entry in load_catalogue()}


def _shared_indicator_sql() -> list[str]:
    """Temporary macros and tables that several indicator models read, in the order they build
    on each other (models/indicators/shared/, in name order)."""
    return [p.read_text() for p in sorted((MODELS_DIR / "indicators" / "shared").glob("*.sql"))]


def build_indicator_values(
    con: duckdb.DuckDBPyConnection, settings: Settings, catalogue: list[dict] | None = None
) -> pl.DataFrame:
    """Run every indicator model, then apply suppression and comparison flags per the catalogue.

    Suppression happens before the flags and before reference values are attached, so a hidden
    cell can never leak through another row's reference_value. A model whose numerator is not a
    headcount (FTE, acts) says which count decides suppression in a `suppression_count` column,
    used here and not published. A share whose denominator counts people too names it in the
    catalogue's `suppression_counts`: a cell is hidden when either count is under the threshold.
    An indicator whose counts add up from one geographic level to the next (`additive_levels`)
    is also protected across levels: a published parent never has exactly one hidden child.
    `catalogue` (default: the whole catalogue) lets a test run one indicator exactly as the
    night does.
    """
    con.execute(macros_sql())
    for sql in _shared_indicator_sql():
        con.execute(sql)
    thresholds = {
        "none": None,
        "count": settings.count_threshold,
        "activity": settings.activity_threshold,
    }
    entries = load_catalogue() if catalogue is None else catalogue
    partitions = stats.territory_partitions(con.execute(
        "SELECT commune_code, epci_code, department_code, region_code FROM ref.communes"
    ).fetchall()) if any(e.get("additive_levels") for e in entries) else []
    parts = []
    for entry in entries:
        # in key order: which cell the secondary suppression hides among equal counts follows
        # the order of the rows, and DuckDB's order changes with its plan and threads
        part = con.sql(model_sql("indicators", entry["id"])).pl().sort(
            INDICATOR_KEY[1:], nulls_last=True)
        count_col = "suppression_count" if "suppression_count" in part.columns else "numerator"
        count_cols = [count_col, *entry.get("suppression_counts", [])]
        part = part.with_columns(
            pl.col("value", "numerator", "denominator", "ci_low", "ci_high", "reference_value",
                   count_col).cast(pl.Float64),
            pl.col("geo_level", "geo_code", "geo_name", "period", "dimension", "category",
                   "reference_geo_level", "reference_geo_code").cast(pl.String),
            pl.lit(entry["unit"]).alias("unit"),
            pl.lit(entry["polarity"]).alias("polarity"),
        )
        threshold = thresholds[entry["suppression"]]
        if threshold is None:
            part = part.with_columns(pl.lit(False).alias("suppressed"))
        else:
            # the margin (dimension 'ensemble') shares the group of its breakdown
            part = stats.suppress(
                part, threshold, count_col=count_cols,
                group_cols=("indicator_id", "geo_level", "geo_code", "period"),
                partitions=partitions if entry.get("additive_levels") else (),
            )
        parts.append(part.drop("suppression_count", strict=False))
    frame = pl.concat(parts, how="diagonal_relaxed")
    hidden = frame.filter(pl.col("suppressed")).select(
        "indicator_id",
        pl.col("geo_level").alias("reference_geo_level"),
        pl.col("geo_code").alias("reference_geo_code"),
        "period", "category", pl.lit(True).alias("_reference_hidden"),
    )
    frame = frame.join(
        hidden,
        on=["indicator_id", "reference_geo_level", "reference_geo_code", "period", "category"],
        how="left", nulls_equal=False,
    ).with_columns(
        pl.when(pl.col("_reference_hidden")).then(None).otherwise(pl.col("reference_value"))
        .alias("reference_value")
    )
    flags = stats.comparison_flags(
        frame["value"].to_numpy(), frame["ci_low"].to_numpy(), frame["ci_high"].to_numpy(),
        frame["reference_value"].to_numpy(), frame["polarity"].to_numpy(),
    )
    return frame.with_columns(pl.Series("comparison_flag", flags, dtype=pl.String)).select(
        INDICATOR_COLUMNS
    ).sort(INDICATOR_KEY)


def _indicator_deps() -> list[list[str]]:
    tables = set()
    for sql in [*_indicator_sql().values(), *_shared_indicator_sql()]:
        tables |= referenced_tables(sql)
    return sorted([s, t] for s, t in tables)


def indicator_inputs() -> dict[str, set[tuple[str, str]]]:
    """The tables each indicator reads, through the shared macros and temporary tables too."""
    shared = _shared_indicator_sql()
    names = {name for sql in shared
             for name in re.findall(r"CREATE OR REPLACE TEMP (?:MACRO|TABLE) (\w+)", sql)}
    shared_tables = set().union(*(referenced_tables(sql) for sql in shared))
    inputs = {}
    for indicator, sql in _indicator_sql().items():
        uses_shared = any(re.search(rf"\b{name}\b", sql) for name in names)
        inputs[indicator] = referenced_tables(sql) | (shared_tables if uses_shared else set())
    return inputs


def untouched_indicators(context: dg.AssetExecutionContext) -> set[str]:
    """Indicators whose input tables tonight's plan does not rebuild: an activity month leaves
    the project and follow-up indicators as the previous night published them.

    Only a planned incremental night qualifies: its plan checked that code, models and
    suppression thresholds are those of the published warehouse. The selection is the night's
    (its first run's), not that of a re-execution from failure, which skips the steps the
    first run completed but whose tables still changed tonight.
    """
    run = context.run
    night = context.instance.get_run_by_id(run.root_run_id) if run.root_run_id else run
    plan = json.loads(night.tags.get(PLAN_TAG, "{}"))
    if plan.get("kind") != "incrémentale" or night.asset_selection is None:
        return set()
    rebuilt = {tuple(key.path) for key in night.asset_selection}
    return {indicator for indicator, tables in indicator_inputs().items()
            if not tables & rebuilt}


def _published_values(con: duckdb.DuckDBPyConnection, indicators: set[str]) -> pl.DataFrame:
    """The previous night's rows of `indicators`, from the night's copy of the warehouse."""
    return con.sql(
        f"SELECT {', '.join(INDICATOR_COLUMNS)} FROM marts.indicator_values "
        "WHERE list_contains(?, indicator_id)", params=[sorted(indicators)]).pl()


@dg.asset(
    key=["marts", "indicator_values"],
    group_name="marts",
    deps=[["marts", "indicator_catalogue"], *_indicator_deps()],
    description="Tous les indicateurs en format long, avec IC, comparaison et secret statistique.",
)
def indicator_values(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    catalogue = load_catalogue()
    with warehouse.connect(context) as con:
        kept = untouched_indicators(context) if con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
            "AND table_name = 'indicator_values'").fetchone()[0] else set()
        frame = build_indicator_values(
            con, warehouse.settings, [e for e in catalogue if e["id"] not in kept])
        if kept:
            frame = pl.concat([frame, _published_values(con, kept).cast(frame.schema)]).sort(
                INDICATOR_KEY)
        con.register("incoming", frame.to_arrow())
        con.execute("CREATE OR REPLACE TABLE marts.indicator_values AS SELECT * FROM incoming")
        con.unregister("incoming")
    counts = frame.group_by("indicator_id").len().sort("indicator_id")
    return dg.MaterializeResult(
        metadata={
            "rows": frame.height,
            "suppressed": int(frame["suppressed"].sum()),
            "recomputed": len(catalogue) - len(kept),
            "kept_from_previous_night": dg.MetadataValue.json(sorted(kept)),
            "rows_by_indicator": dg.MetadataValue.json(dict(counts.iter_rows())),
        }
    )
