"""What an analyst learns of a blocked night without anything being published.

A blocked night leaves the published warehouse and dashboards as they were; its own file
(build/night-<run>.duckdb) holds what went wrong until the next night removes it. This module
copies the failed checks, refused files and rejected rows of that file into
`<dashboards>/nuit-bloquee.json` and rewrites the quality page from the published warehouse with
that account on top. The next night that publishes renders the whole site again, which drops
both: its quality page is then the latest word.
"""

import json
from datetime import datetime
from pathlib import Path

import duckdb

from pipelines.settings import Settings

BLOCKED_FILE = "nuit-bloquee.json"
MAX_ROWS = 200  # an account to read, not a dump: the night's file has everything


def record_blocked_night(settings: Settings, run_id: str) -> Path:
    """Write the account of the blocked night `run_id`; re-render the quality page if a
    published warehouse exists. Returns the JSON file."""
    account = read_blocked_night(settings.build_path(run_id), run_id)
    settings.dashboards_dir.mkdir(parents=True, exist_ok=True)
    path = settings.dashboards_dir / BLOCKED_FILE
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(account, ensure_ascii=False, indent=1, default=str),
                       encoding="utf-8")
    partial.replace(path)
    if settings.warehouse_path.exists() and (settings.dashboards_dir / "index.html").exists():
        from dashboards.pages.quality import render_quality_page

        render_quality_page(settings.warehouse_path, settings.dashboards_dir, account)
    return path


def read_blocked_night(build: Path, run_id: str) -> dict:
    account = {"night_id": run_id, "blocked_at": datetime.now().isoformat(timespec="seconds"),
               "night_file": str(build), "failed_checks": [], "refused_files": [],
               "rejected_rows": []}
    if not build.exists():
        return account
    con = duckdb.connect(str(build), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()}
        if "audit.validation_results" in tables:
            account["failed_checks"] = _records(con, """
                SELECT table_name, check_name, expectation, column_name, severity,
                       observed_value, unexpected_count, unexpected_sample
                FROM audit.validation_results WHERE night_id = ? AND NOT success
                ORDER BY severity, table_name, check_name""", [run_id])
        if "raw.loaded_files" in tables:
            account["refused_files"] = _records(con, """
                SELECT source_file, family, message FROM raw.loaded_files
                WHERE load_id = ? AND status = 'refusé' ORDER BY source_file""", [run_id])
        if "audit.rejected_rows" in tables:
            account["rejected_rows"] = _records(con, f"""
                SELECT source_file, source_row, table_name, column_name, value, reason
                FROM audit.rejected_rows WHERE load_id = ?
                ORDER BY source_file, source_row LIMIT {MAX_ROWS}""", [run_id])
    finally:
        con.close()
    return account


def _records(con: duckdb.DuckDBPyConnection, sql: str, parameters: list) -> list[dict]:
    relation = con.execute(sql, parameters)
    names = [d[0] for d in relation.description]
    return [dict(zip(names, row, strict=True)) for row in relation.fetchall()]
