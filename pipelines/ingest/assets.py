"""Landing → raw → staging, and the reference tables staging joins to."""

import csv
import json
import warnings
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from pipelines.geography.reference import load_reference
from pipelines.geography.resolve import CommuneResolver
from pipelines.ingest.plan import (
    ACTIVITY_MONTHS,
    PLAN_TAG,
    file_months,
    months_in_range,
    night_months,
    settle_seconds,
    still_being_written,
)
from pipelines.ingest.public_files import PUBLIC_FORMATS, load_public_format
from pipelines.ingest.raw import landing_files, load_family
from pipelines.ingest.vocabularies import load_vocabularies, read_profession_spellings
from pipelines.settings import SOURCE_FAMILIES
from pipelines.sources.contracts import normalize_label
from pipelines.sql import define_macros, model_sql
from pipelines.warehouse import WarehouseResource

REFERENCE_TABLES = (
    "communes", "attached_communes", "former_communes", "epci", "departements", "regions",
    "commune_code_lookup", "professions", "profession_synonyms", "other_professions",
    "other_profession_synonyms", "stages", "stage_synonyms", "structure_types",
    "structure_type_synonyms", "region_synonyms",
)
# single-run backfills are what a month range needs; Dagster still calls the parameter beta
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
# what a staging model says of a row it rejects; not columns of the staged table
REJECT_COLUMNS = ("_reject_column", "_reject_value", "_reject_reason")
# A landing folder on a network share, or a file lock held by an antivirus, fails for a moment.
TRANSIENT_IO = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL)


@dg.multi_asset(
    specs=[dg.AssetSpec(["ref", t], group_name="ref") for t in REFERENCE_TABLES],
    description="Géographie de référence (COG 2026) et vocabulaires contrôlés.",
    retry_policy=TRANSIENT_IO,
)
def reference(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(context) as con:
        counts = load_reference(con)
        con.execute(
            "CREATE OR REPLACE TABLE ref.commune_code_lookup AS "
            + model_sql("ref", "commune_code_lookup")
        )
        counts |= load_vocabularies(
            con, read_profession_spellings(warehouse.settings.landing))
        counts["ref.commune_code_lookup"] = con.execute(
            "SELECT count(*) FROM ref.commune_code_lookup"
        ).fetchone()[0]
    for table in REFERENCE_TABLES:
        rows = counts.get(f"ref.{table}", counts.get(table))
        yield dg.MaterializeResult(asset_key=["ref", table], metadata={"rows": rows})


def _raw_asset(family: str) -> dg.AssetsDefinition:
    monthly = family == "activity"

    @dg.asset(
        key=["raw", family],
        group_name="raw",
        description=f"Fichiers {family} du dossier de dépôt, tels que lus (texte), avec leur "
        "traçabilité ; un fichier déjà chargé (même sha256) n'est pas rechargé, un fichier en "
        "cours d'écriture attend la nuit suivante"
        + (" ; partitionné par mois : une nuit ne charge que les fichiers de ses mois."
           if monthly else "."),
        partitions_def=ACTIVITY_MONTHS if monthly else None,
        backfill_policy=dg.BackfillPolicy.single_run() if monthly else None,
        retry_policy=TRANSIENT_IO,
    )
    def _raw(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        settings = warehouse.settings
        settle = settle_seconds(settings)
        months = set(months_in_range(context.run.tags) or []) if monthly else set()
        waiting = still_being_written(landing_files(settings.landing, family), settle)

        def defer(path: Path) -> str | None:
            reason = waiting.get(path)
            if reason or not months:
                return reason
            outside = sorted(set(file_months(path, family)) - months)
            if outside:
                return (f"mois {', '.join(outside)} hors de cette nuit (arrivé après son "
                        "lancement ?) : chargé par la nuit suivante")
            return None

        with warehouse.connect(context) as con:
            load = load_family(con, settings.landing, family, context.run_id,
                               settings.hmac_key(), defer)
            total = con.execute(f"SELECT count(*) FROM raw.{family}").fetchone()[0]
            # the file stays open from step to step: written here, the rows are written to
            # disk here, and this step's time is its own
            con.execute("CHECKPOINT")
        for message in load.refused.values():
            context.log.error(message)
        for name, reason in load.deferred.items():
            context.log.warning(f"{name} : {reason}")
        return dg.MaterializeResult(
            metadata={
                "files_loaded": len(load.loaded),
                "files_skipped": len(load.skipped),
                "files_superseded": len(load.superseded),
                "files_refused": dg.MetadataValue.json(load.refused),
                "files_deferred": dg.MetadataValue.json(load.deferred),
                "rows_loaded": load.rows,
                "lines_loaded": load.lines,
                "malformed_lines": load.bad_rows,
                "rows_total": total,
            }
        )

    return _raw


raw_assets = [_raw_asset(family) for family in SOURCE_FAMILIES]


def build_staging(con: duckdb.DuckDBPyConnection, family: str,
                  months: list[date] | None = None) -> dict[str, int]:
    """Type raw.<family> with its SQL model; rows that fail go to audit.rejected_rows.

    With `months` (activity only), only those months are replaced: their staged rows are
    deleted and typed again, and so are the rejected rows that have no other month (their raw
    line is in those months, has no readable month, is malformed, or is gone).
    """
    table = f"staging.{family}"
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'staging' "
        "AND table_name = ?", [family]).fetchone()[0]
    define_macros(con)
    # a night of new code whose model makes other columns (an added one, another type) types
    # every month again: the months it refreshes would not fit in the table the old code made
    if months is not None and exists and _model_columns(con, family) == _columns(con, table):
        return _refresh_months(con, family, months)
    con.execute("SET VARIABLE staging_periodes = NULL")
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    con.execute(
        """CREATE TABLE IF NOT EXISTS audit.rejected_rows (
            table_name VARCHAR, source_file VARCHAR, source_row BIGINT, column_name VARCHAR,
            value VARCHAR, reason VARCHAR, load_id VARCHAR)"""
    )
    # typed once, straight into the table, whose rejected rows are then moved to the audit and
    # their columns dropped: typing into a temporary table and copying its rows into the table
    # took 8.8-9.4 s at national scale, against 7.6-7.7 s; the blocks the dropped columns
    # shared with others leave the published file 5 % larger (490 MB → 513 MB)
    con.execute("BEGIN TRANSACTION")
    con.execute(f"CREATE OR REPLACE TABLE {table} AS {model_sql('staging', family)}")
    con.execute("DELETE FROM audit.rejected_rows WHERE table_name = ?", [table])
    con.execute(
        f"""INSERT INTO audit.rejected_rows
            SELECT ?, _source_file, _source_row, _reject_column, _reject_value, _reject_reason,
                   _load_id
            FROM {table} WHERE _reject_reason IS NOT NULL""",
        [table],
    )
    con.execute(f"DELETE FROM {table} WHERE _reject_reason IS NOT NULL")
    for column in REJECT_COLUMNS:
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    con.execute(
        """INSERT INTO audit.rejected_rows
           SELECT ?, source_file, source_row, NULL, NULL, reason, load_id
           FROM raw.malformed_lines m
           WHERE family = ? AND EXISTS (SELECT 1 FROM raw.loaded_files f
               WHERE f.source_file = m.source_file AND f.sha256 = m.sha256
                 AND f.status = 'chargé')""",
        [table, family],
    )
    con.execute("COMMIT")
    staged = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    rejected = con.execute(
        "SELECT count(*) FROM audit.rejected_rows WHERE table_name = ?", [table]
    ).fetchone()[0]
    return {"rows": staged, "rejected_rows": rejected}


def _model_columns(con: duckdb.DuckDBPyConnection, family: str) -> list[tuple[str, str]]:
    """The names and types of the rows the staging model keeps, from its plan alone."""
    return con.execute(
        f"""SELECT column_name, column_type FROM (DESCRIBE SELECT * EXCLUDE
                ({', '.join(REJECT_COLUMNS)}) FROM ({model_sql('staging', family)}))"""
    ).fetchall()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    schema, name = table.split(".")
    return con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
        "AND table_name = ? ORDER BY ordinal_position", [schema, name]).fetchall()


def _refresh_months(con: duckdb.DuckDBPyConnection, family: str,
                    months: list[date]) -> dict[str, int]:
    table = f"staging.{family}"
    month_list = "[" + ", ".join(f"DATE '{m.isoformat()}'" for m in months) + "]::DATE[]"
    # the spellings of the months' periode, and those no month can be read from: the model
    # types their rows (models/staging/activity.sql). A list filtered, not a WHERE, which
    # DuckDB would push below the DISTINCT to parse every raw row's month (5 s nationally)
    con.execute(
        f"""SET VARIABLE staging_periodes = (
                SELECT coalesce(list_filter(list(DISTINCT periode), lambda p:
                           parse_month(p) IS NULL OR list_contains({month_list}, parse_month(p))),
                       []::VARCHAR[])
                FROM raw.{family})""")
    con.execute(f"CREATE OR REPLACE TEMP TABLE typed AS {model_sql('staging', family)}")
    con.execute("BEGIN TRANSACTION")
    con.execute(f"DELETE FROM {table} WHERE list_contains({month_list}, period_month)")
    con.execute(
        f"""INSERT INTO {table} BY NAME
            SELECT * EXCLUDE ({', '.join(REJECT_COLUMNS)}) FROM typed
            WHERE _reject_reason IS NULL"""
    )
    # a rejected row stays when its raw line is in a month not refreshed; a clean table has
    # nothing to look up. By the spellings typed again rather than by each line's month parsed:
    # DuckDB parsed every raw row's (5.5 s nationally, each night with a rejected row)
    if con.execute("SELECT count(*) FROM audit.rejected_rows WHERE table_name = ?",
                   [table]).fetchone()[0]:
        con.execute(
            f"""DELETE FROM audit.rejected_rows r WHERE table_name = ? AND NOT EXISTS (
                    SELECT 1 FROM raw.{family} a
                    WHERE a._source_file = r.source_file AND a._source_row = r.source_row
                      AND a.periode IS NOT NULL
                      AND NOT list_contains(getvariable('staging_periodes'), a.periode))""",
            [table],
        )
    con.execute(
        """INSERT INTO audit.rejected_rows
           SELECT ?, _source_file, _source_row, _reject_column, _reject_value, _reject_reason,
                  _load_id
           FROM typed WHERE _reject_reason IS NOT NULL""",
        [table],
    )
    con.execute(
        """INSERT INTO audit.rejected_rows
           SELECT ?, source_file, source_row, NULL, NULL, reason, load_id
           FROM raw.malformed_lines m
           WHERE family = ? AND EXISTS (SELECT 1 FROM raw.loaded_files f
               WHERE f.source_file = m.source_file AND f.sha256 = m.sha256
                 AND f.status = 'chargé')""",
        [table, family],
    )
    con.execute("COMMIT")
    con.execute("SET VARIABLE staging_periodes = NULL")
    refreshed = con.execute("SELECT count(*) FROM typed WHERE _reject_reason IS NULL"
                            ).fetchone()[0]
    staged = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    rejected = con.execute(
        "SELECT count(*) FROM audit.rejected_rows WHERE table_name = ?", [table]
    ).fetchone()[0]
    con.execute("DROP TABLE typed")
    return {"rows": staged, "rejected_rows": rejected, "rows_refreshed": refreshed,
            "months_refreshed": len(months)}


@dg.asset(
    key=["staging", "activity"],
    group_name="staging",
    deps=[["raw", "activity"], ["ref", "commune_code_lookup"], ["ref", "profession_synonyms"],
          ["ref", "other_profession_synonyms"]],
    description="Statistiques d'activité typées : un professionnel (pseudonymisé) × mois ; "
    "partitionné par mois : une nuit remplace seulement les mois nouveaux ou corrigés.",
    partitions_def=ACTIVITY_MONTHS,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def staging_activity(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(context) as con:
        months = night_months(con, context.run)
        metadata = build_staging(con, "activity", months)
        con.execute("CHECKPOINT")  # as the raw step does
    if months is not None:
        metadata["months"] = dg.MetadataValue.json([m.strftime("%Y-%m") for m in months])
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    key=["raw", "night_plans"],
    group_name="raw",
    description="Ce que chaque nuit avait à refaire et pourquoi : mois d'activité nouveaux ou "
    "corrigés, fichiers en attente, actifs recalculés (pipelines/ingest/plan.py).",
)
def night_plans(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    plan = json.loads(context.run.tags.get(PLAN_TAG, "null")) or {}
    with warehouse.connect(context) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(
            """CREATE TABLE IF NOT EXISTS raw.night_plans (
                night_id VARCHAR, planned_at TIMESTAMP, kind VARCHAR, months VARCHAR,
                pending_files VARCHAR, deferred_files VARCHAR, fingerprints VARCHAR,
                unread_files VARCHAR)"""
        )
        # a warehouse published before the landing's unread files were recorded
        con.execute("ALTER TABLE raw.night_plans ADD COLUMN IF NOT EXISTS unread_files VARCHAR")
        con.execute("DELETE FROM raw.night_plans WHERE night_id = ?", [context.run_id])
        con.execute(
            "INSERT INTO raw.night_plans VALUES (?, current_timestamp, ?, ?, ?, ?, ?, ?)",
            [context.run_id, plan.get("kind", "manuelle"),
             json.dumps(plan.get("months", months_in_range(context.run.tags))),
             json.dumps(plan.get("pending", {}), ensure_ascii=False),
             json.dumps(plan.get("deferred", {}), ensure_ascii=False),
             # a run launched by hand may cover part of the graph: it sets no reference
             json.dumps(plan["fingerprints"]) if plan.get("fingerprints") else None,
             json.dumps(plan.get("unread", {}) | plan.get("gone", {}), ensure_ascii=False)],
        )
    return dg.MaterializeResult(metadata={"kind": plan.get("kind", "manuelle"),
                                          "months": dg.MetadataValue.json(plan.get("months"))})


@dg.asset(
    key=["staging", "followup"],
    group_name="staging",
    deps=[["raw", "followup"]],
    description="Critères de suivi typés : programme × action × critère × période.",
)
def staging_followup(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(context) as con:
        return dg.MaterializeResult(metadata=build_staging(con, "followup"))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["staging", "census"],
            group_name="staging",
            deps=[["raw", "census"], ["ref", "stage_synonyms"], ["ref", "region_synonyms"],
                  ["ref", "structure_type_synonyms"]],
            description="Recensement typé : un projet × date de recensement.",
        ),
        dg.AssetSpec(
            ["staging", "census_communes"],
            group_name="staging",
            deps=[["ref", "communes"], ["ref", "epci"]],
            description="Communes couvertes par chaque projet, résolues depuis les noms écrits.",
        ),
    ]
)
def staging_census(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(context) as con:
        counts = build_staging(con, "census")
        resolution = resolve_census_communes(con, read_corrections(warehouse.settings.landing))
    yield dg.MaterializeResult(asset_key=["staging", "census"], metadata=counts)
    yield dg.MaterializeResult(asset_key=["staging", "census_communes"], metadata=resolution)


CORRECTIONS_FILE = "reference/corrections_communes.csv"
# audit.unresolved_communes.status of a typo read as the nearest commune (beside the resolver's
# "unresolved" and "ambiguous", and "correction invalide")
APPROXIMATE = "approximate"


def read_corrections(landing: Path) -> dict[str, tuple[str, ...]]:
    """Place names an analyst resolved by hand: `nom_ecrit;codes_insee[;commentaire]`.

    The file lives in the landing folder so that the fix travels with the data; the next night
    applies it. Codes are separated by commas or spaces.
    """
    path = landing / CORRECTIONS_FILE
    if not path.exists():
        return {}
    corrections = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            name, codes = row.get("nom_ecrit"), row.get("codes_insee")
            if name and codes:
                corrections[normalize_label(name)] = tuple(codes.replace(",", " ").split())
    return corrections


def resolve_census_communes(
    con: duckdb.DuckDBPyConnection, corrections: dict[str, tuple[str, ...]]
) -> dict[str, int]:
    """Resolve each distinct place name once, within its région's départements."""
    texts = con.execute(
        """SELECT DISTINCT communes_as_written, region_code FROM staging.census
           ORDER BY ALL"""
    ).fetchall()
    departments = dict(
        con.execute(
            "SELECT region_code, list(department_code ORDER BY department_code) "
            "FROM ref.departements GROUP BY 1"
        ).fetchall()
    )
    resolver = CommuneResolver(con)
    current = dict(con.execute("SELECT code, current_code FROM ref.commune_code_lookup").fetchall())
    links, unresolved = [], []
    for text, region in texts:
        corrected = corrections.get(normalize_label(text))
        if corrected and all(code in current for code in corrected):
            for code in corrected:
                links.append((text, region, current[code], None, "resolved", "correction"))
            continue
        if corrected:
            unknown = ", ".join(c for c in corrected if c not in current)
            unresolved.append((text, region, "correction invalide", f"codes inconnus : {unknown}"))
            continue
        res = resolver.resolve(text, departments.get(region))
        for code in res.commune_codes:
            links.append((text, region, code, res.epci_code, res.status, res.method))
        candidates = "; ".join(f"{c} {n} ({s:.2f})" for c, n, s in res.candidates)
        if res.status not in ("resolved", "epci"):
            unresolved.append((text, region, res.status, candidates))
        elif "fuzzy" in res.method:
            # a typo read as the nearest commune is used, and listed for the analyst to confirm:
            # the nearest name may be another place (« Boulogne/Mer » was read as two)
            unresolved.append((text, region, APPROXIMATE, candidates))
    link_frame = pl.DataFrame(
        links,
        schema={c: pl.String for c in
                ("text", "region_code", "commune_code", "epci_code", "status", "method")},
        orient="row",
    )
    con.register("links", link_frame.to_arrow())
    con.execute(
        """CREATE OR REPLACE TABLE staging.census_communes AS
           SELECT DISTINCT c.project_id, c.census_date, l.commune_code, l.epci_code,
                  l.status AS resolution_status, l.method AS resolution_method
           FROM staging.census c
           JOIN links l ON l.text = c.communes_as_written AND l.region_code = c.region_code"""
    )
    con.unregister("links")
    unresolved_frame = pl.DataFrame(
        unresolved, schema={c: pl.String for c in ("text", "region_code", "status", "candidates")},
        orient="row",
    )
    con.register("unresolved", unresolved_frame.to_arrow())
    con.execute(
        f"""CREATE OR REPLACE TABLE audit.unresolved_communes AS
           SELECT 'staging.census' AS table_name, c._source_file AS source_file,
                  c._source_row AS source_row, 'communes' AS column_name, u.text AS value,
                  u.region_code, u.status, u.candidates,
                  CASE WHEN u.status = '{APPROXIMATE}'
                       THEN 'lu comme la commune candidate, la plus proche : si ce n''est pas '
                            || 'elle, ou pour confirmer la lecture, ajoutez'
                       ELSE 'ajoutez' END
                  || ' une ligne « nom_ecrit;codes_insee » à {CORRECTIONS_FILE} dans le '
                  || 'dossier de dépôt' AS fix
           FROM unresolved u
           JOIN staging.census c ON c.communes_as_written = u.text AND c.region_code = u.region_code
           ORDER BY source_file, source_row"""
    )
    con.unregister("unresolved")
    return {
        "place_names": len(texts),
        "links": link_frame.height,
        "unresolved_names": unresolved_frame.height,
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["staging", fmt.table], group_name="staging",
                     description=f"Fichiers publics déposés dans reference/{fmt.folder}/ "
                     "(instantané complet, rechargé chaque nuit).")
        for fmt in PUBLIC_FORMATS
    ],
)
def public_reference_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    with warehouse.connect(context) as con:
        for fmt in PUBLIC_FORMATS:
            counts = load_public_format(con, settings.landing, fmt, context.run_id,
                                        settings.hmac_key())
            yield dg.MaterializeResult(asset_key=["staging", fmt.table], metadata=counts)
