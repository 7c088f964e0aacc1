"""Marts: wide tables (one SQL model each) and the long indicator table built from the catalogue."""

import hashlib
import hmac
import json
import re
from dataclasses import dataclass

import dagster as dg
import duckdb
import polars as pl
import yaml

from pipelines import stats
from pipelines.ingest.plan import PLAN_TAG, night_months
from pipelines.settings import MODELS_DIR, Settings
from pipelines.sql import define_macros, model_sql, models_in, referenced_tables
from pipelines.warehouse import WarehouseResource

CATALOGUE_PATH = MODELS_DIR / "indicators.yaml"
INDICATOR_COLUMNS = (
    "indicator_id", "geo_level", "geo_code", "geo_name", "period", "dimension", "category",
    "value", "numerator", "denominator", "ci_low", "ci_high", "reference_geo_level",
    "reference_geo_code", "reference_value", "comparison_flag", "suppressed", "unit",
)
INDICATOR_KEY = ("indicator_id", "geo_level", "geo_code", "period", "dimension", "category")
ACTIVITY_TABLES = {("staging", "activity"), ("staging", "activity_years")}


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
            define_macros(con)
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
    inputs = indicator_inputs()
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
            # what marts.indicator_status blames when the activity panel is missing or short
            "activity_based": [bool(inputs[e["id"]] & ACTIVITY_TABLES) for e in catalogue],
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


def refresh_activity_years(con: duckdb.DuckDBPyConnection, years: list[int] | None = None
                           ) -> int:
    """Sum the months of `years` (None: every year) into staging.activity_years again, and
    return its rows. The years must be all those whose months changed since it was last
    refreshed: the night's plan says which (activity_years)."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'staging' "
                         "AND table_name = 'activity_years'").fetchone()[0]
    if years is None or not exists:
        con.execute("SET VARIABLE activity_years = NULL")
        con.execute("CREATE OR REPLACE TABLE staging.activity_years AS "
                    + model_sql("staging", "activity_years"))
    else:
        con.execute("SET VARIABLE activity_years = "
                    f"[{', '.join(str(int(y)) for y in years)}]::INTEGER[]")
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM staging.activity_years "
                    "WHERE list_contains(getvariable('activity_years'), year)")
        con.execute("INSERT INTO staging.activity_years BY NAME "
                    + model_sql("staging", "activity_years"))
        con.execute("COMMIT")
        con.execute("SET VARIABLE activity_years = NULL")
    [(rows,)] = con.execute("SELECT count(*) FROM staging.activity_years").fetchall()
    return rows


@dg.asset(
    key=["staging", "activity_years"],
    group_name="staging",
    deps=[["staging", "activity"]],
    description="Une ligne par professionnel × profession × commune × année : les sommes "
    "annuelles que les indicateurs d'activité additionnent. Une nuit incrémentale ne recalcule "
    "que les années des mois qu'elle a chargés.",
)
def staging_activity_years(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(context) as con:
        # a planned incremental night refreshes the years of its months; any other run, all
        months = night_months(con, context.run) if rebuilt_tonight(context) is not None else None
        years = None if months is None else sorted({m.year for m in months})
        rows = refresh_activity_years(con, years)
    return dg.MaterializeResult(metadata={
        "rows": rows,
        "years_refreshed": dg.MetadataValue.json("toutes" if years is None else years)})


def build_indicator_values(
    con: duckdb.DuckDBPyConnection, settings: Settings, catalogue: list[dict] | None = None
) -> pl.DataFrame:
    """Run every indicator model, then apply suppression and comparison flags per the catalogue.

    `catalogue` (default: the whole catalogue) lets a test run one indicator exactly as the
    night does, staging.activity_years refreshed from staging.activity first as its step does.
    """
    refresh_activity_years(con)
    return build_indicators(con, settings, catalogue).frame


@dataclass(frozen=True)
class IndicatorBuild:
    frame: pl.DataFrame  # the rows of the indicators recomputed
    digests: dict[str, str]  # indicator → keyed digest of its model's output
    unchanged: set[str]  # indicators whose model gave what `previous` says: rows not recomputed


def build_indicators(
    con: duckdb.DuckDBPyConnection, settings: Settings, catalogue: list[dict] | None = None,
    previous: dict[str, str] | None = None,
) -> IndicatorBuild:
    """Run the indicator models of `catalogue` (default: all), then apply suppression and
    comparison flags per the catalogue to those whose output's digest is not the one `previous`
    gives.

    Suppression happens before the flags and before reference values are attached, so a hidden
    cell can never leak through another row's reference_value. A model whose numerator is not a
    headcount (FTE, acts) says which count decides suppression in a `suppression_count` column,
    used here and not published. A share whose denominator counts people too names it in the
    catalogue's `suppression_counts`: a cell is hidden when either count is under the threshold.
    An indicator whose counts add up from one geographic level to the next (`additive_levels`)
    is also protected across levels: a published parent never has exactly one hidden child.

    An indicator's rows depend only on its model's output, the catalogue, the thresholds and the
    territories: a caller that knows the last three unchanged since `previous` was digested can
    take the rows it published then for the indicators in `unchanged`.
    """
    define_macros(con)
    for sql in _shared_indicator_sql():
        con.execute(sql)
    thresholds = {
        "none": None,
        "count": settings.count_threshold,
        "activity": settings.activity_threshold,
    }
    entries = load_catalogue() if catalogue is None else catalogue
    outputs = {}
    for entry in entries:
        # in key order: which cell the secondary suppression hides among equal counts follows
        # the order of the rows, and DuckDB's order changes with its plan and threads
        outputs[entry["id"]] = con.sql(model_sql("indicators", entry["id"])).pl().sort(
            INDICATOR_KEY[1:], nulls_last=True)
    key = settings.hmac_key()
    digests = {indicator: model_digest(key, part) for indicator, part in outputs.items()}
    unchanged = {indicator for indicator, digest in digests.items()
                 if (previous or {}).get(indicator) == digest}
    changed = [e for e in entries if e["id"] not in unchanged]
    additive = [e for e in changed if e.get("additive_levels")]
    partitions = stats.territory_partitions(con.sql(
        "SELECT commune_code, epci_code, department_code, region_code FROM ref.communes"
    ).pl(), {level for e in additive for level in e["geo_levels"]}) if additive else []
    parts = []
    for entry in changed:
        part = outputs[entry["id"]]
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
    if not parts:
        return IndicatorBuild(_empty_values(), digests, unchanged)
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
    frame = frame.with_columns(pl.Series("comparison_flag", flags, dtype=pl.String)).select(
        INDICATOR_COLUMNS
    ).sort(INDICATOR_KEY)
    return IndicatorBuild(frame, digests, unchanged)


def model_digest(key: bytes, output: pl.DataFrame) -> str:
    """A digest of a model's output, keyed: it covers counts under the suppression threshold,
    which an unkeyed digest would let anyone find again by trying the few possible values."""
    digest = hmac.new(key, str(output.schema).encode(), hashlib.sha256)
    # polars' row hashes are stable within one polars version; another version only makes the
    # digests differ, and the indicators be recomputed
    digest.update(output.hash_rows(seed=0).to_numpy().tobytes())
    return digest.hexdigest()


def _empty_values() -> pl.DataFrame:
    return pl.DataFrame(schema={
        **dict.fromkeys(INDICATOR_COLUMNS, pl.String),
        **dict.fromkeys(("value", "numerator", "denominator", "ci_low", "ci_high",
                         "reference_value"), pl.Float64),
        "suppressed": pl.Boolean})


def _indicator_deps() -> list[list[str]]:
    tables = set()
    for sql in [*_indicator_sql().values(), *_shared_indicator_sql()]:
        tables |= referenced_tables(sql)
    return sorted([s, t] for s, t in tables)


def _shared_inputs() -> dict[str, set[tuple[str, str]]]:
    """Each shared macro and temporary table → the tables it reads, itself or through the shared
    names defined before it."""
    inputs: dict[str, set[tuple[str, str]]] = {}
    for sql in _shared_indicator_sql():
        for statement in re.split(r"(?=CREATE OR REPLACE TEMP (?:MACRO|TABLE) )",
                                  re.sub(r"--[^\n]*", "", sql)):
            name = re.match(r"CREATE OR REPLACE TEMP (?:MACRO|TABLE) (\w+)", statement)
            if name:
                inputs[name[1]] = referenced_tables(statement).union(
                    *(tables for used, tables in inputs.items()
                      if re.search(rf"\b{used}\b", statement)))
    return inputs


def indicator_inputs() -> dict[str, set[tuple[str, str]]]:
    """The tables each indicator reads, through the shared macros and temporary tables too
    (those it names: the territories' macros read the reference alone, the activity tables the
    activity)."""
    shared = _shared_inputs()
    inputs = {}
    for indicator, sql in _indicator_sql().items():
        code = re.sub(r"--[^\n]*", "", sql)
        inputs[indicator] = referenced_tables(code).union(
            *(tables for name, tables in shared.items() if re.search(rf"\b{name}\b", code)))
    return inputs


def rebuilt_tonight(context: dg.AssetExecutionContext) -> set[tuple[str, ...]] | None:
    """The assets tonight's plan rebuilds, or None when it is not a planned incremental night.

    Only a planned incremental night says: its plan checked that code, models and suppression
    thresholds are those of the published warehouse. The selection is the night's (its first
    run's), not that of a re-execution from failure, which skips the steps the first run
    completed but whose tables still changed tonight.
    """
    run = context.run
    night = context.instance.get_run_by_id(run.root_run_id) if run.root_run_id else run
    plan = json.loads(night.tags.get(PLAN_TAG, "{}"))
    if plan.get("kind") != "incrémentale" or night.asset_selection is None:
        return None
    return {tuple(key.path) for key in night.asset_selection}


def untouched_indicators(rebuilt: set[tuple[str, ...]]) -> set[str]:
    """Indicators whose input tables are not in `rebuilt`: an activity month leaves the project
    and follow-up indicators as the previous night published them."""
    return {indicator for indicator, tables in indicator_inputs().items()
            if not tables & rebuilt}


def _published_digests(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The previous night's digests of the models' outputs (empty before the first night that
    kept them)."""
    if not con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'audit' "
                       "AND table_name = 'indicator_digests'").fetchone()[0]:
        return {}
    return dict(con.execute("SELECT indicator_id, digest FROM audit.indicator_digests"
                            ).fetchall())


@dg.asset(
    key=["marts", "indicator_values"],
    group_name="marts",
    deps=[["marts", "indicator_catalogue"], *_indicator_deps()],
    description="Tous les indicateurs en format long, avec IC, comparaison et secret statistique.",
)
def indicator_values(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    catalogue = load_catalogue()
    with warehouse.connect(context) as con:
        published = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
            "AND table_name = 'indicator_values'").fetchone()[0]
        rebuilt = rebuilt_tonight(context) if published else None
        kept = untouched_indicators(rebuilt) if rebuilt is not None else set()
        previous = _published_digests(con) if rebuilt is not None else {}
        # the territories' tilings decide what the cross-level suppression hides
        trusted = previous if ("ref", "communes") not in (rebuilt or set()) else {}
        built = build_indicators(con, warehouse.settings,
                                 [e for e in catalogue if e["id"] not in kept], trusted)
        con.register("incoming", built.frame.to_arrow())
        if rebuilt is None:
            con.execute("CREATE OR REPLACE TABLE marts.indicator_values AS "
                        "SELECT * FROM incoming")
        else:
            # the night's file holds the previous night's rows: those of the indicators kept or
            # whose model gave the same output stay as they are (rewriting the whole table took
            # a third of the national incremental night's indicators)
            recomputed = sorted(e["id"] for e in catalogue
                                if e["id"] not in kept | built.unchanged)
            con.execute("BEGIN TRANSACTION")
            con.execute("DELETE FROM marts.indicator_values "
                        "WHERE list_contains(?, indicator_id)", [recomputed])
            con.execute("INSERT INTO marts.indicator_values BY NAME SELECT * FROM incoming")
            con.execute("COMMIT")
        con.unregister("incoming")
        digests = {i: d for i, d in previous.items() if i in kept} | built.digests
        con.execute("CREATE SCHEMA IF NOT EXISTS audit")
        con.execute("CREATE OR REPLACE TABLE audit.indicator_digests "
                    "(indicator_id VARCHAR PRIMARY KEY, digest VARCHAR NOT NULL)")
        con.executemany("INSERT INTO audit.indicator_digests VALUES (?, ?)",
                        sorted(digests.items()))
        counts = con.execute(
            "SELECT indicator_id, count(*), count(*) FILTER (WHERE suppressed) "
            "FROM marts.indicator_values GROUP BY 1 ORDER BY 1").fetchall()
    return dg.MaterializeResult(
        metadata={
            "rows": sum(rows for _, rows, _ in counts),
            "suppressed": sum(hidden for _, _, hidden in counts),
            "recomputed": len(catalogue) - len(kept) - len(built.unchanged),
            "kept_from_previous_night": dg.MetadataValue.json(sorted(kept)),
            "model_output_unchanged": dg.MetadataValue.json(sorted(built.unchanged)),
            "rows_by_indicator": dg.MetadataValue.json(
                {indicator: rows for indicator, rows, _ in counts}),
        }
    )
