"""The run log of the nights: `<home>/nights.jsonl`, folded into audit.nights and audit.night_steps.

A blocked or failed night never touches the published file, and a killed one cannot write
anything at its end, so its history cannot live only in the warehouse. Each night appends a
`start` line when it creates its build file; whoever launched it (the CLI, or the next night
reading the Dagster instance) appends an `end` line with its outcome; a night with a start and
no end was interrupted. Every publication folds the log into audit.nights, on top of the rows the
previous published file carried, so the history survives the loss of either.
"""

import json
import os
from datetime import UTC, datetime

import dagster as dg
import duckdb
import polars as pl

from pipelines.settings import Settings

SUCCESS, BLOCKED, FAILED, INTERRUPTED, RUNNING = (
    "réussie", "bloquée", "échouée", "interrompue", "en cours")
STEP_STATUS = {"SUCCESS": "réussie", "FAILURE": "échouée", "SKIPPED": "ignorée",
               "IN_PROGRESS": "en cours"}
CHECK_FAILED_ERROR = "DagsterAssetCheckFailedError"

NIGHTS_COLUMNS = {
    "night_id": pl.String, "started_at": pl.Datetime, "ended_at": pl.Datetime,
    "status": pl.String, "published": pl.Boolean, "files_loaded": pl.Int32,
    "files_refused": pl.Int32, "rows_loaded": pl.Int64, "checks_passed": pl.Int32,
    "checks_failed": pl.Int32, "checks_blocking": pl.Int32, "seconds": pl.Float64,
    "failure": pl.String,
}
STEPS_COLUMNS = {
    "night_id": pl.String, "step": pl.String, "status": pl.String, "started_at": pl.Datetime,
    "seconds": pl.Float64,
}


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _iso(timestamp: float | None) -> str | None:
    return datetime.fromtimestamp(timestamp, UTC).isoformat() if timestamp else None


def _append(settings: Settings, line: dict) -> None:
    """One JSON line, appended in a single write; a line cut short by a kill is closed first."""
    path = settings.nights_log_path
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(line, ensure_ascii=False) + "\n"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            text = "\n" + text
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def log_start(settings: Settings, night_id: str) -> None:
    _append(settings, {"event": "start", "night_id": night_id, "started_at": _now()})


def log_end(settings: Settings, record: dict) -> None:
    _append(settings, {"event": "end", **record})


def read_log(settings: Settings) -> dict[str, dict]:
    """Night id → its start and end merged; unreadable lines (cut by a kill) are skipped."""
    nights: dict[str, dict] = {}
    if not settings.nights_log_path.exists():
        return nights
    for line in settings.nights_log_path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
            night = nights.setdefault(entry["night_id"], {"night_id": entry["night_id"]})
        except (ValueError, KeyError, TypeError):
            continue
        event = entry.pop("event", None)
        if event == "start":
            night.setdefault("started_at", entry["started_at"])
        elif event == "end":
            night.update({k: v for k, v in entry.items() if v is not None or k not in night})
            night["ended"] = True
    return nights


def _root_error(error):
    while error and error.cause:  # Dagster wraps the asset's own exception
        error = error.cause
    return error


def night_record(instance: dg.DagsterInstance, run_id: str, finished: bool = True) -> dict | None:
    """What the Dagster instance knows of a night: outcome, counts, and every step's duration.

    `finished=False` describes the running night itself, from the steps done so far.
    """
    run_record = instance.get_run_record_by_id(run_id)
    if run_record is None:
        return None
    run = run_record.dagster_run
    raw = {}  # one entry per raw asset: a run over several months materialises each month
    passed = failed = blocking = 0
    published, errors, failed_checks = False, [], []
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None:
            continue
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            key = materialization.asset_key.path
            meta = {k: v.value for k, v in materialization.metadata.items()}
            published = published or key == ["publish", "warehouse"]
            if key[0] == "raw":
                raw[tuple(key)] = meta
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if evaluation.passed:
                passed += 1
                continue
            failed += 1
            if evaluation.severity == dg.AssetCheckSeverity.ERROR:
                blocking += 1
                failed_checks.append(
                    f"{'.'.join(evaluation.asset_key.path)} · {evaluation.check_name}")
        elif kind == "STEP_FAILURE":
            error = _root_error(event.event_specific_data.error)
            if error and CHECK_FAILED_ERROR not in (error.cls_name or ""):
                errors.append(f"{event.step_key} : {error.message.strip()}")
    if not finished:
        status = RUNNING
    elif run.status == dg.DagsterRunStatus.SUCCESS:
        status = SUCCESS
    elif run.status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED):
        status = FAILED if errors or not failed_checks else BLOCKED
    else:  # still STARTED in the instance: the process died without a word
        status = INTERRUPTED
    now = datetime.now(UTC).timestamp()
    ended = now if not finished else run_record.end_time if status != INTERRUPTED else None
    steps = [
        {
            "step": stat.step_key,
            "status": STEP_STATUS.get(stat.status.value if stat.status else "", RUNNING),
            "started_at": _iso(stat.start_time),
            "seconds": round(((stat.end_time or now) - stat.start_time), 3)
            if stat.start_time else None,
        }
        for stat in sorted(instance.get_run_step_stats(run_id),
                           key=lambda s: (s.start_time or 0, s.step_key))
    ]
    return {
        "night_id": run_id,
        "started_at": _iso(run_record.start_time),
        "ended_at": _iso(ended),
        "status": status,
        "published": published,
        "files_loaded": sum(int(m.get("files_loaded") or 0) for m in raw.values()),
        "files_refused": sum(len(m.get("files_refused") or {}) for m in raw.values()),
        "rows_loaded": sum(int(m.get("rows_loaded") or 0) for m in raw.values()),
        "checks_passed": passed,
        "checks_failed": failed,
        "checks_blocking": blocking,
        "seconds": round(ended - run_record.start_time, 3)
        if ended and run_record.start_time else None,
        "failure": "; ".join(errors + [f"contrôle bloquant en échec : {c}"
                                       for c in failed_checks]) or None,
        "steps": steps,
    }


def record_night(instance: dg.DagsterInstance, run_id: str, settings: Settings) -> dict | None:
    """Append a finished night's outcome to the log (the CLI calls it once the run returns)."""
    record = night_record(instance, run_id)
    if record is not None:
        log_end(settings, record)
    return record


def _frame(records: list[dict], columns: dict) -> pl.DataFrame:
    rows = []
    for record in records:
        row = []
        for name, kind in columns.items():
            value = record.get(name)
            if kind == pl.Datetime and value:  # kept in UTC, without a zone
                value = datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
            row.append(value)
        rows.append(row)
    return pl.DataFrame(rows, schema=columns, orient="row")


def _replace_rows(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame,
                  nights: list[str]) -> None:
    """The rows of `nights` in audit.<table>, replaced as a whole by `frame`."""
    con.register("incoming", frame.to_arrow())
    con.execute(f"CREATE TABLE IF NOT EXISTS audit.{table} AS SELECT * FROM incoming LIMIT 0")
    con.execute(f"DELETE FROM audit.{table} WHERE list_contains(?, night_id)", [nights])
    con.execute(f"INSERT INTO audit.{table} BY NAME SELECT * FROM incoming")
    con.unregister("incoming")


def fold_into(con: duckdb.DuckDBPyConnection, settings: Settings,
              instance: dg.DagsterInstance, current_run_id: str) -> dict[str, int]:
    """Bring audit.nights and audit.night_steps of the night's file up to date.

    Rows the file already carries stay; every night of the log replaces its row (the log knows
    the end of nights the file only saw running); a night with a start but no end is looked up
    in the Dagster instance (a run started from `dagster dev`), and is otherwise interrupted.
    The current night is written as it stands at publication.
    """
    records = []
    # a night killed after its swap was published: the row it wrote then says so
    published_before = {}
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'audit' "
                   "AND table_name = 'nights'").fetchone()[0]:
        published_before = dict(con.execute("SELECT night_id, published FROM audit.nights")
                                .fetchall())
    for night_id, logged in read_log(settings).items():
        if night_id == current_run_id:
            continue
        if not logged.get("ended"):
            known = night_record(instance, night_id)
            if known is not None and known["status"] != INTERRUPTED:
                log_end(settings, known)
                logged = known
            else:
                logged = {**logged, "status": INTERRUPTED,
                          "published": bool(published_before.get(night_id))}
        records.append(logged)
    current = night_record(instance, current_run_id, finished=False)
    if current is not None:
        records.append({**current, "status": SUCCESS, "published": True, "ended_at": _now()})
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    nights = [r["night_id"] for r in records]
    _replace_rows(con, "nights", _frame(records, NIGHTS_COLUMNS), nights)
    steps = [{"night_id": r["night_id"], **step} for r in records for step in r.get("steps") or []]
    _replace_rows(con, "night_steps", _frame(steps, STEPS_COLUMNS), nights)
    return {"nights": con.execute("SELECT count(*) FROM audit.nights").fetchone()[0],
            "folded": len(records)}
