"""Asset checks on the staged and reference tables: a Great Expectations suite each (blocking on
ERROR), and plain SQL checks: reconciliation and referential integrity (blocking), volume against
the previous published night, freshness of the activity, structures named in the activity, and
unresolved place names (reported only).

The checks of a table run in one step (a multi-asset check), its SQL checks first, then its suite,
each still a check of its own in Dagster: a step costs Dagster 15 to 20 ms of its own (its
start and end written to its history), as much as most of these checks' queries, and a night
with one new month ran six of them on the activity alone.

Every outcome is also written to audit.validation_results in the night's file, so the quality
page and SQL analysts see them without the Dagster UI.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import dagster as dg
import duckdb

from pipelines.ingest.plan import night_months
from pipelines.ingest.public_files import PUBLIC_FORMATS, PublicFormat
from pipelines.quality import worker
from pipelines.quality.great_expectations import ExpectationOutcome
from pipelines.settings import Settings
from pipelines.sql import define_macros
from pipelines.warehouse import WarehouseResource, run_id_of

# asset -> its Great Expectations suite (expectations/<table>.py)
SUITES = {
    ("staging", "activity"): "activity",
    ("staging", "census"): "census",
    ("staging", "followup"): "followup",
    ("staging", "structures"): "structures",
    ("staging", "reference_densities"): "reference_densities",
    ("ref", "communes"): "communes",
}


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
             o.observed_value, o.unexpected_count, json.dumps(_located(o), ensure_ascii=False)]
            for o in outcomes
        ],
    )


def _located(outcome: ExpectationOutcome) -> list:
    """The sampled values, each with its file and line when the suite could tell them."""
    if len(outcome.rows) != len(outcome.sample):
        return outcome.sample
    return [f"{'(vide)' if value is None else value} ({where})"
            for value, where in zip(outcome.sample, outcome.rows, strict=True)]


def _result(outcomes: list[ExpectationOutcome], **metadata) -> dg.AssetCheckResult:
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
                     "rows": list(o.rows),
                     "observed_value": o.observed_value}
                    for o in failures
                ]
            ),
            **metadata,
        },
    )


def _changed_rows(con: duckdb.DuckDBPyConnection, context, asset: tuple[str, str]
                  ) -> str | None:
    """The activity months this run refreshed (pipelines/ingest/plan.py); None: every row."""
    if asset != ("staging", "activity"):
        return None
    months = night_months(con, context.op_execution_context.run)
    if months is None:
        return None
    return "period_month IN (" + ", ".join(f"DATE '{m.isoformat()}'" for m in months) + ")"


@dataclass(frozen=True)
class SqlCheck:
    """A check of a staged table made of a few queries on the night's file."""

    table: str  # staging.<table>, which the check is a check of
    name: str
    description: str
    run: Callable[[duckdb.DuckDBPyConnection, str, Settings], dg.AssetCheckResult]
    blocking: bool = False
    additional_deps: tuple[tuple[str, ...], ...] = ()

    @property
    def key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(dg.AssetKey(["staging", self.table]), self.name)


def _reconciliation(family: str) -> SqlCheck:
    def run(con: duckdb.DuckDBPyConnection, night: str, settings: Settings):
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
        record_outcomes(con, night, f"staging.{family}", "reconciliation", [outcome])
        return _result([outcome])

    return SqlCheck(family, "reconciliation",
                    "Lignes brutes = lignes typées + lignes rejetées : rien n'est perdu.",
                    run, blocking=True)


def _unresolved_communes(con: duckdb.DuckDBPyConnection, night: str, settings: Settings):
    rows = con.execute(
        """SELECT value, status, candidates, source_file || ', ligne ' || source_row
           FROM audit.unresolved_communes ORDER BY value, source_file, source_row"""
    ).fetchall()
    # the names, with their file and line, as `observatoire run` prints a failed rule's
    outcome = ExpectationOutcome(
        expectation="place_names_resolved", column="communes", severity="WARN",
        success=not rows, observed_value=None, unexpected_count=len(rows),
        sample=[r[0] for r in rows[:10]], rows=tuple(r[3] for r in rows[:10]),
    )
    record_outcomes(con, night, "staging.census", "unresolved_communes", [outcome])
    return _result([outcome], names=dg.MetadataValue.json(
        [{"nom": v, "statut": s, "candidats": c} for v, s, c, _ in rows]))


def _accepted_inputs(family: str) -> SqlCheck:
    def run(con: duckdb.DuckDBPyConnection, night: str, settings: Settings):
        tolerance = settings.rejected_rows_tolerance
        refused = con.execute(
            """SELECT source_file, message FROM raw.loaded_files
               WHERE family = ? AND load_id = ? AND status = 'refusé'
               ORDER BY source_file""",
            [family, night],
        ).fetchall()
        # the macros are in the night's file: the staging step defined them there
        rejected = con.execute(
            """SELECT source_file, source_row, column_name, value, reason,
                      CASE WHEN reason = footer_reason() THEN 'footer'
                           WHEN column_name = 'profession' AND normalize_label(value) IN (
                               SELECT synonym FROM ref.other_profession_synonyms)
                           THEN 'not_followed' END AS set_aside
               FROM audit.rejected_rows WHERE table_name = ?
               ORDER BY source_file, source_row""",
            [f"staging.{family}"],
        ).fetchall()
        staged = con.execute(f"SELECT count(*) FROM staging.{family}").fetchone()[0]
        footers = [row[:5] for row in rejected if row[5] == "footer"]
        not_followed = [row[:5] for row in rejected if row[5] == "not_followed"]
        rejected = [row[:5] for row in rejected if row[5] is None]
        share = len(rejected) / max(staged + len(rejected) + len(footers)
                                    + len(not_followed), 1)
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
                sample=[_rejected_row(*row) for row in rejected[:10]],
            ),
            ExpectationOutcome(
                expectation="rows_of_professions_not_followed", column="profession",
                severity="WARN", success=not not_followed, observed_value=None,
                unexpected_count=len(not_followed),
                sample=[_rejected_row(*row) for row in not_followed[:10]],
            ),
            ExpectationOutcome(
                expectation="footer_lines_set_aside", column=None, severity="WARN",
                success=not footers, observed_value=None, unexpected_count=len(footers),
                sample=[_rejected_row(*row) for row in footers[:10]],
            ),
        ]
        record_outcomes(con, night, f"staging.{family}", "accepted_inputs", outcomes)
        return _result(outcomes)

    return SqlCheck(
        family, "accepted_inputs",
        "Publication seulement si aucun fichier n'a été refusé et si la part de lignes "
        "rejetées ne dépasse pas la tolérance (OBSERVATOIRE_REJECTED_TOLERANCE, 0 par défaut) : "
        "sinon un mois, un territoire ou des projets manqueraient sans bruit. Les lignes d'une "
        "profession que l'observatoire ne suit pas (ref.other_professions), et les lignes de "
        "titre, de total ou de notes du tableau, sont écartées et signalées sans bloquer.",
        run, blocking=True)


def _rejected_row(file: str, line: int, column: str | None, value: str | None,
                  reason: str) -> str:
    """Where a rejected row is and why; a line without its fields (too short, malformed) has
    no column."""
    where = f"{file} ligne {line}"
    if column is not None:
        where += f", colonne {column} = « {'' if value is None else value} »"
    return f"{where} : {reason}"


def _public_files_readable(fmt: PublicFormat) -> SqlCheck:
    def run(con: duckdb.DuckDBPyConnection, night: str, settings: Settings):
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

    return SqlCheck(
        fmt.table, "files_readable",
        f"Chaque fichier de reference/{fmt.folder}/ est lisible dans son format ; un fichier "
        "refusé bloque la publication.",
        run, blocking=True)


def _volume(table: str) -> SqlCheck:
    def run(con: duckdb.DuckDBPyConnection, night: str, settings: Settings):
        tolerance = settings.volume_tolerance
        rows = con.execute(f"SELECT count(*) FROM staging.{table}").fetchone()[0]
        previous = _previous_volume(con, f"staging.{table}")
        change = None if not previous else (rows - previous) / previous
        outcome = ExpectationOutcome(
            expectation="row_count_close_to_previous_night", column=None, severity="WARN",
            # a table that was empty (or a first night) sets no expectation yet
            success=change is None or abs(change) <= tolerance,
            observed_value=json.dumps({"lignes": rows, "nuit_precedente": previous,
                                       "ecart": change, "tolerance": tolerance}),
            unexpected_count=None if previous is None else abs(rows - previous),
            sample=[] if change is None or abs(change) <= tolerance
            else [f"{rows} lignes contre {previous} la dernière nuit publiée"],
        )
        record_outcomes(con, night, f"staging.{table}", "volume", [outcome])
        return _result([outcome])

    return SqlCheck(
        table, "volume",
        "Nombre de lignes comparé à celui de la dernière nuit publiée ; un écart relatif "
        "au-delà de OBSERVATOIRE_VOLUME_TOLERANCE (0,5 par défaut) est signalé sans bloquer : "
        "un fichier corrigé ou une nouvelle année le justifient souvent.",
        run)


def _previous_volume(con: duckdb.DuckDBPyConnection, table: str) -> int | None:
    """Rows of `table` the last published night, as its own volume check recorded them.

    The night's file is a copy of the published one, so its marts.publication still names the
    previous published night until publication replaces it.
    """
    published = con.execute(
        """SELECT count(*) FROM information_schema.tables
           WHERE table_schema = 'marts' AND table_name = 'publication'"""
    ).fetchone()[0]
    if not published:
        return None
    row = con.execute(
        """SELECT CAST(json_extract(observed_value, '$.lignes') AS BIGINT)
           FROM audit.validation_results
           WHERE table_name = ? AND check_name = 'volume'
             AND night_id = (SELECT max(night_id) FROM marts.publication)""",
        [table],
    ).fetchone()
    return row[0] if row else None


def _activity_freshness(con: duckdb.DuckDBPyConnection, night: str, settings: Settings):
    policy = settings.freshness_months
    latest, age, night_date, files = con.execute(
        """SELECT max(period_month), date_diff('month', max(period_month), current_date),
                  current_date,
                  (SELECT count(*) FROM raw.loaded_files
                   WHERE family = 'activity' AND status = 'chargé')
           FROM staging.activity"""
    ).fetchone()
    # without any activity file the warning said so every night, and taught the observatory
    # to read past the quality page's warnings; the indicators say it instead
    fresh = files == 0 or (age is not None and age <= policy)
    outcome = ExpectationOutcome(
        expectation="latest_period_within_policy", column="period_month", severity="WARN",
        success=fresh,
        observed_value=json.dumps({
            "dernier_mois": latest.strftime("%Y-%m") if latest else None,
            "age_en_mois": age, "politique_en_mois": policy,
            "date_de_la_nuit": night_date.isoformat(), "fichiers_charges": files}),
        unexpected_count=None,
        sample=[] if fresh else [latest.strftime("%Y-%m") if latest
                                 else "aucune ligne d'activité"],
    )
    record_outcomes(con, night, "staging.activity", "freshness", [outcome])
    return _result([outcome])


def _census_communes_known(con: duckdb.DuckDBPyConnection, night: str, settings: Settings):
    unknown = [r[0] for r in con.execute(
        """SELECT DISTINCT coalesce(commune_code, '(vide)') FROM staging.census_communes
           WHERE commune_code IS NULL
              OR commune_code NOT IN (SELECT commune_code FROM ref.communes)
           ORDER BY 1"""
    ).fetchall()]
    outcome = ExpectationOutcome(
        expectation="census_communes_in_reference", column="commune_code", severity="ERROR",
        success=not unknown, observed_value=None, unexpected_count=len(unknown),
        sample=unknown[:10],
    )
    record_outcomes(con, night, "staging.census_communes", "communes_known", [outcome])
    return _result([outcome])


def _activity_structures_known(con: duckdb.DuckDBPyConnection, night: str,
                               settings: Settings):
    define_macros(con)
    finess = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'staging' AND table_name = 'structures'").fetchall()}
    known = ["SELECT project_name AS name FROM staging.census"]
    if {"finess_et", "name", "long_name"} <= finess:
        known.append("SELECT unnest([finess_et, name, long_name]) FROM staging.structures")
    # each spelling's key made once, not once per monthly row (9 million nationally)
    unknown = con.execute(
        f"""WITH known AS (SELECT DISTINCT {_STRUCTURE_KEY.format('name')} AS key
                           FROM ({' UNION ALL '.join(known)})),
                 named AS (SELECT structure, count(*) AS n FROM staging.activity
                           WHERE structure IS NOT NULL GROUP BY 1)
            SELECT structure, n FROM named
            WHERE {_STRUCTURE_KEY.format('structure')} NOT IN (
                SELECT key FROM known WHERE key IS NOT NULL)
            ORDER BY 2 DESC, 1"""
    ).fetchall()
    outcome = ExpectationOutcome(
        expectation="activity_structures_in_census_or_finess", column="structure",
        severity="WARN", success=not unknown,
        observed_value=json.dumps({"structures_inconnues": len(unknown),
                                   "lignes": sum(n for _, n in unknown)}),
        unexpected_count=sum(n for _, n in unknown),
        sample=[name for name, _ in unknown[:10]],
    )
    record_outcomes(con, night, "staging.activity", "structures_known", [outcome])
    return _result([outcome])


# "MSP de Boé", "Maison de santé pluriprofessionnelle de Boé" and "Boé" name one structure.
_STRUCTURE_KEY = (
    "regexp_replace(normalize_label({}), '^(msp|psp|cds|cpts|maison_de_sante"
    "(_pluri_?professionnelle)?|pole_de_sante|centre_de_sante)(_(de|du|des|d))?_', '')"
)


def _family_checks(family: str) -> list[SqlCheck]:
    return [_accepted_inputs(family), _reconciliation(family), _volume(family)]


# asset → the SQL checks its step runs before its suite (census: those of its communes too)
SQL_CHECKS = {
    ("staging", "activity"): [
        *_family_checks("activity"),
        SqlCheck(
            "activity", "freshness",
            "Le dernier mois d'activité n'a pas plus de OBSERVATOIRE_FRESHNESS_MONTHS mois (36 "
            "par défaut) à la date de la nuit ; signalé sans bloquer : des chiffres anciens "
            "restent justes pour leur période. Un dépôt qui n'a jamais reçu de fichier "
            "d'activité (un observatoire qui suit son recensement et ses contrats) n'a rien à "
            "dater.",
            _activity_freshness),
        SqlCheck(
            "activity", "structures_known",
            "Chaque structure nommée dans l'activité est un projet du recensement ou un "
            "établissement FINESS (numéro, ou nom sans « MSP », « maison de santé »…) ; signalé "
            "sans bloquer : le nom d'une structure s'écrit de bien des façons.",
            _activity_structures_known,
            additional_deps=(("staging", "census"), ("staging", "structures"))),
    ],
    ("staging", "census"): [
        *_family_checks("census"),
        SqlCheck(
            "census_communes", "communes_known",
            "Chaque commune d'un projet du recensement existe dans ref.communes.",
            _census_communes_known, blocking=True, additional_deps=(("ref", "communes"),)),
        SqlCheck(
            "census_communes", "unresolved_communes",
            "Noms de communes non résolus avec certitude (non bloquant) : voir "
            "audit.unresolved_communes.",
            _unresolved_communes),
    ],
    ("staging", "followup"): _family_checks("followup"),
    **{("staging", fmt.table): [_public_files_readable(fmt), _volume(fmt.table)]
       for fmt in PUBLIC_FORMATS},
}


def _table_checks(asset: tuple[str, str]) -> dg.AssetChecksDefinition:
    """The checks of `asset` in one step: its SQL checks, then its suite, if it has one, in the
    Great Expectations worker."""
    sql_checks = SQL_CHECKS.get(asset, [])
    suite = SUITES.get(asset)
    suite_key = dg.AssetCheckKey(dg.AssetKey(list(asset)), "great_expectations")
    specs = [dg.AssetCheckSpec(
        c.name, asset=c.key.asset_key, description=c.description, blocking=c.blocking,
        additional_deps=[dg.AssetKey(list(d)) for d in c.additional_deps]) for c in sql_checks]
    if suite:
        specs.append(dg.AssetCheckSpec(
            suite_key.name, asset=suite_key.asset_key, blocking=True,
            description=f"Suite Great Expectations expectations/{suite}.py ; un échec de niveau "
            "ERROR bloque la publication."))

    @dg.multi_asset_check(name=f"{'__'.join(asset)}_checks", specs=specs, can_subset=True)
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
                ) -> Iterator[dg.AssetCheckResult]:
        night = run_id_of(context)
        selected = context.selected_asset_check_keys
        with warehouse.connect(context) as con:
            for sql_check in sql_checks:
                if sql_check.key in selected:
                    yield _keyed(sql_check.key, sql_check.run(con, night, warehouse.settings))
            where = _changed_rows(con, context, asset)
        if suite and suite_key in selected:
            outcomes = worker.run_suite(*warehouse.build_file(context), suite, where,
                                        context.log.warning)
            with warehouse.connect(context) as con:
                record_outcomes(con, night, ".".join(asset), "great_expectations", outcomes)
            yield _keyed(suite_key, _result(outcomes))

    return _checks


def _keyed(key: dg.AssetCheckKey, result: dg.AssetCheckResult) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name,
                               passed=result.passed, severity=result.severity,
                               metadata=result.metadata)


checks = [_table_checks(asset) for asset in sorted(SUITES.keys() | SQL_CHECKS.keys())]
