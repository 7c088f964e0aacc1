"""Asset checks on the staged tables: a Great Expectations suite each (blocking on ERROR), plain
SQL reconciliation (blocking) and the list of unresolved place names (reported only).

Every outcome is also written to audit.validation_results in the night's file, so the quality
page and SQL analysts see them without the Dagster UI.
"""

import json

import dagster as dg
import duckdb

from pipelines.ingest.public_files import PUBLIC_FORMATS, PublicFormat
from pipelines.quality.great_expectations import ExpectationOutcome, run_suite
from pipelines.warehouse import WarehouseResource, run_id_of

SUITES = {"activity": "activity", "census": "census", "followup": "followup"}


def record_outcomes(
    con: duckdb.DuckDBPyConnection, night: str, table: str, check: str,
    outcomes: list[ExpectationOutcome],
) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute(
        """CREATE TABLE IF NOT EXISTS audit.validation_results (
            night_id VARCHAR, checked_at TIMESTAMP, table_name VARCHAR, check_name VARCHAR,
            expectation VARCHAR, column_name VARCHAR, severity VARCHAR, success BOOLEAN,
            observed_value VARCHAR, unexpected_count BIGINT, unexpected_sample VARCHAR)"""
    )
    con.execute(
        "DELETE FROM audit.validation_results WHERE night_id = ? AND table_name = ? "
        "AND check_name = ?",
        [night, table, check],
    )
    con.executemany(
        "INSERT INTO audit.validation_results "
        "VALUES (?, current_timestamp, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [night, table, check, o.expectation, o.column, o.severity, o.success,
             o.observed_value, o.unexpected_count, json.dumps(o.sample, ensure_ascii=False)]
            for o in outcomes
        ],
    )


def _result(outcomes: list[ExpectationOutcome]) -> dg.AssetCheckResult:
    failures = [o for o in outcomes if not o.success]
    blocking = any(o.blocking_failure for o in failures)
    return dg.AssetCheckResult(
        passed=not failures,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "expectations": len(outcomes),
            "failed": len(failures),
            "failures": dg.MetadataValue.json(
                [
                    {"expectation": o.expectation, "column": o.column, "severity": o.severity,
                     "unexpected_count": o.unexpected_count, "unexpected_values": o.sample,
                     "observed_value": o.observed_value}
                    for o in failures
                ]
            ),
        },
    )


def _suite_check(family: str, suite: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["staging", family]),
        name="great_expectations",
        blocking=True,
        description=f"Suite Great Expectations expectations/{suite}.py ; un échec de niveau "
        "ERROR bloque la publication.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect(context) as con:
            outcomes = run_suite(con, suite)
            record_outcomes(con, run_id_of(context), f"staging.{family}", "great_expectations",
                            outcomes)
        return _result(outcomes)

    return _check


def _reconciliation_check(family: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["staging", family]),
        name="reconciliation",
        blocking=True,
        description="Lignes brutes = lignes typées + lignes rejetées : rien n'est perdu.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        with warehouse.connect(context) as con:
            raw, malformed, staged, rejected = con.execute(
                f"""SELECT (SELECT count(*) FROM raw.{family}),
                           (SELECT count(*) FROM raw.malformed_lines m WHERE family = ?
                              AND EXISTS (SELECT 1 FROM raw.loaded_files f
                                  WHERE f.source_file = m.source_file AND f.sha256 = m.sha256
                                    AND f.status = 'chargé')),
                           (SELECT count(*) FROM staging.{family}),
                           (SELECT count(*) FROM audit.rejected_rows
                              WHERE table_name = 'staging.{family}')""",
                [family],
            ).fetchone()
            outcome = ExpectationOutcome(
                expectation="raw_rows_equal_staged_plus_rejected",
                column=None,
                severity="ERROR",
                success=raw + malformed == staged + rejected,
                observed_value=json.dumps(
                    {"raw": raw, "malformed_lines": malformed, "staged": staged,
                     "rejected": rejected}
                ),
                unexpected_count=raw + malformed - staged - rejected,
                sample=[],
            )
            record_outcomes(con, run_id_of(context), f"staging.{family}", "reconciliation",
                            [outcome])
        return _result([outcome])

    return _check


@dg.asset_check(
    asset=dg.AssetKey(["staging", "census_communes"]),
    name="unresolved_communes",
    description="Noms de communes non résolus avec certitude (non bloquant) : voir "
    "audit.unresolved_communes.",
)
def unresolved_communes(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(context) as con:
        rows = con.execute(
            "SELECT value, status, candidates FROM audit.unresolved_communes ORDER BY value"
        ).fetchall()
        outcome = ExpectationOutcome(
            expectation="place_names_resolved", column="communes", severity="WARN",
            success=not rows, observed_value=None, unexpected_count=len(rows),
            sample=[r[0] for r in rows[:10]],
        )
        record_outcomes(con, run_id_of(context), "staging.census", "unresolved_communes", [outcome])
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "unresolved": len(rows),
            "names": dg.MetadataValue.json(
                [{"nom": v, "statut": s, "candidats": c} for v, s, c in rows]
            ),
        },
    )


def _accepted_inputs_check(family: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["staging", family]),
        name="accepted_inputs",
        blocking=True,
        description="Publication seulement si aucun fichier n'a été refusé et si la part de "
        "lignes rejetées ne dépasse pas la tolérance (OBSERVATOIRE_REJECTED_TOLERANCE, 0 par "
        "défaut) : sinon un mois, un territoire ou des projets manqueraient sans bruit.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        night = run_id_of(context)
        tolerance = warehouse.settings.rejected_rows_tolerance
        with warehouse.connect(context) as con:
            refused = con.execute(
                """SELECT source_file, message FROM raw.loaded_files
                   WHERE family = ? AND load_id = ? AND status = 'refusé'
                   ORDER BY source_file""",
                [family, night],
            ).fetchall()
            rejected = con.execute(
                """SELECT source_file, source_row, column_name, value, reason
                   FROM audit.rejected_rows WHERE table_name = ?
                   ORDER BY source_file, source_row""",
                [f"staging.{family}"],
            ).fetchall()
            staged = con.execute(f"SELECT count(*) FROM staging.{family}").fetchone()[0]
            share = len(rejected) / max(staged + len(rejected), 1)
            outcomes = [
                ExpectationOutcome(
                    expectation="landing_files_readable", column=None, severity="ERROR",
                    success=not refused, observed_value=None, unexpected_count=len(refused),
                    sample=[f"{name} : {message}" for name, message in refused[:10]],
                ),
                ExpectationOutcome(
                    expectation="rejected_rows_within_tolerance", column=None,
                    severity="ERROR" if share > tolerance else "WARN",
                    success=not rejected, observed_value=json.dumps(
                        {"rejected": len(rejected), "share": share, "tolerance": tolerance}),
                    unexpected_count=len(rejected),
                    sample=[f"{f} ligne {r}, colonne {c} = {v!r} : {why}"
                            for f, r, c, v, why in rejected[:10]],
                ),
            ]
            record_outcomes(con, night, f"staging.{family}", "accepted_inputs", outcomes)
        return _result(outcomes)

    return _check


def _public_files_check(fmt: PublicFormat) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["staging", fmt.table]),
        name="files_readable",
        blocking=True,
        description=f"Chaque fichier de reference/{fmt.folder}/ est lisible dans son format ; "
        "un fichier refusé bloque la publication.",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        night = run_id_of(context)
        with warehouse.connect(context) as con:
            refused = con.execute(
                """SELECT source_file, message FROM raw.loaded_files
                   WHERE family = ? AND load_id = ? AND status = 'refusé'
                   ORDER BY source_file""",
                [f"reference/{fmt.folder}", night],
            ).fetchall()
            outcome = ExpectationOutcome(
                expectation="public_files_readable", column=None, severity="ERROR",
                success=not refused, observed_value=None, unexpected_count=len(refused),
                sample=[f"{name} : {message}" for name, message in refused[:10]],
            )
            record_outcomes(con, night, f"staging.{fmt.table}", "files_readable", [outcome])
        return _result([outcome])

    return _check


checks = [
    *(_public_files_check(fmt) for fmt in PUBLIC_FORMATS),
    *(_accepted_inputs_check(family) for family in SUITES),
    *(_suite_check(family, suite) for family, suite in SUITES.items()),
    *(_reconciliation_check(family) for family in SUITES),
    unresolved_communes,
]
