"""The benchmark: one generated landing, four ways through it, measured in the same run.

    python -m bench [--scale national|region] [--months N] [--seed N] [--work DIR] [--json F]

(a) the full night, `observatoire run` in a fresh home; (b) the floor, bench/floor.sql;
(c) the pandas baseline, bench/pandas_baseline.py; (d) an incremental night: one more month
dropped in the landing, `observatoire run` again on the same home. Each is a subprocess whose
peak RSS comes from wait4 (the largest resident set of the process or of any child it waited
for). Then the dashboards' queries are timed on the published file, the three results are
compared with one another (the floor is only a floor if it computes the same numbers), and
everything goes to a JSON file and a table.
"""

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().with_name("results")

# The acceptance bounds, at national scale.
NATIONAL_BOUNDS = {
    "full_over_floor": ("≤", 3.0),
    "pandas_over_full": ("≥", 1.0),
    "incremental_over_full_steps": ("≤", 0.15),
    "incremental_over_full_wall": ("≤", 0.35),
    "night_peak_rss_mb": ("≤", 4096.0),
    "query_p95_ms": ("<", 50.0),
}
# Region scale, 12 months (+1): the CI smoke version. A night there is mostly fixed cost
# (interpreter and Dagster start, Great Expectations import, dashboards), against a floor of
# well under a second, so the time ratios are loose guards against regressions, set with a
# margin over what this 2-core box measured under a load average of 2 to 11 (see README,
# Benchmark). Query latency is absolute, not a ratio: under that load a 20 ms query reaches
# 250 ms, so its bound only catches a query that scans a staging table instead of a mart.
REGION_BOUNDS = {
    "full_over_floor": ("≤", 50.0),
    "pandas_over_full": ("≥", 0.02),
    "incremental_over_full_steps": ("≤", 0.6),
    "incremental_over_full_wall": ("≤", 0.8),
    "night_peak_rss_mb": ("≤", 4096.0),
    "query_p95_ms": ("<", 1000.0),
}
BOUNDS = {"national": NATIONAL_BOUNDS, "region": REGION_BOUNDS}
QUERY_REPEATS = 20
# Files dropped well before the night: a landing file modified seconds ago may be deferred as
# "still being written".
LANDING_AGE_SECONDS = 3600
RSS_SAMPLE_SECONDS = 0.25


def _sample_rss(pid: int, samples: list[tuple[float, float]], done: threading.Event) -> None:
    """(epoch seconds, resident MB) of the process every RSS_SAMPLE_SECONDS, to tell which
    Dagster step holds the peak."""
    status = Path(f"/proc/{pid}/status")
    while not done.wait(RSS_SAMPLE_SECONDS):
        try:
            line = next(x for x in status.read_text().splitlines() if x.startswith("VmRSS:"))
        except (OSError, StopIteration):  # gone, or a zombie waiting for wait4
            return
        samples.append((time.time(), int(line.split()[1]) / 1024))


def measure(command: list[str], log: Path) -> dict:
    """Wall time, peak RSS and exit code of a subprocess; its last stdout line when JSON."""
    started = time.perf_counter()
    samples: list[tuple[float, float]] = []
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        done = threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(process.pid, samples, done))
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    try:
        inner = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        inner = {}
    return {"wall_seconds": round(wall, 3), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "exit_code": process.returncode, "log": str(log), "inner": inner,
            "_rss_samples": samples}


def measure_median(command: list[str], log: Path, repeats: int) -> dict:
    """The run of median wall time out of `repeats` (the cheap runs are repeated: on a
    shared box one run of a few seconds can be slowed down by half), with every sample."""
    runs = [measure(command, log.with_suffix(f".{i}.log")) for i in range(repeats)]
    for run in runs:
        del run["_rss_samples"]
    median = sorted(runs, key=lambda r: r["wall_seconds"])[(repeats - 1) // 2]
    failed = [r for r in runs if r["exit_code"] != 0]
    return {**(failed[0] if failed else median),
            "wall_seconds_samples": [r["wall_seconds"] for r in runs]}


def night(landing: Path, home: Path, log: Path, previous_run: str | None = None) -> dict:
    result = measure(
        [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing),
         "--home", str(home)], log,
    )
    result.update(dagster_steps(home, previous_run))
    samples = result.pop("_rss_samples")
    for step in result["steps"]:
        during = [mb for t, mb in samples if step["started"] <= t <= step["ended"]]
        step["peak_rss_mb"] = round(max(during), 1) if during else None
    return result


def dagster_steps(home: Path, previous_run: str | None) -> dict:
    """The last run's steps under the home's DagsterInstance, slowest first, with the assets
    each one materialised; no steps when the night died before starting a run."""
    import dagster as dg

    if not (home / "dagster" / "dagster.yaml").exists():
        return {"run_id": None, "run_status": None, "step_seconds_sum": None, "steps": []}
    with dg.DagsterInstance.from_config(str(home / "dagster")) as instance:
        runs = instance.get_runs(limit=1)
        if not runs or runs[0].run_id == previous_run:
            return {"run_id": None, "run_status": None, "step_seconds_sum": None, "steps": []}
        run = runs[0]
        stats = instance.get_run_stats(run.run_id)
        assets: dict[str, list[str]] = {}
        for record in instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records:
            event = record.event_log_entry
            key = "/".join(event.dagster_event.event_specific_data.materialization.asset_key.path)
            assets.setdefault(event.step_key, []).append(key)
        steps = sorted(
            ({"step": s.step_key, "seconds": round((s.end_time or 0) - (s.start_time or 0), 3),
              "started": s.start_time or 0, "ended": s.end_time or 0,
              "status": s.status.value if s.status else None,
              "assets": assets.get(s.step_key, [])}
             for s in instance.get_run_step_stats(run.run_id)),
            key=lambda s: -s["seconds"],
        )
    return {"run_id": run.run_id, "run_status": run.status.value,
            "run_seconds": round((stats.end_time or 0) - (stats.start_time or 0), 3),
            "step_seconds_sum": round(sum(s["seconds"] for s in steps), 3), "steps": steps}


class _RecordingConnection:
    """A read-only connection that notes every query the dashboards run through it."""

    def __init__(self, con, queries: list[str]):
        self._con, self._queries = con, queries

    def sql(self, query, *args, **kwargs):
        self._queries.append(query)
        return self._con.sql(query, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._con, name)


def dashboard_queries(warehouse: Path) -> list[str]:
    """The queries `dashboards.warehouse.read_snapshot` runs, in its order, as it runs them."""
    import duckdb

    import dashboards.warehouse as pages

    queries: list[str] = []
    recording = SimpleNamespace(
        connect=lambda *a, **k: _RecordingConnection(duckdb.connect(*a, **k), queries),
        CatalogException=duckdb.CatalogException,
    )
    real = pages.duckdb
    pages.duckdb = recording
    try:
        pages.read_snapshot(warehouse)
    finally:
        pages.duckdb = real
    return list(dict.fromkeys(queries))


def time_queries(warehouse: Path, repeats: int = QUERY_REPEATS) -> list[dict]:
    """Each dashboard query `repeats` times on the published file, read-only, fetched as the
    pages fetch it (a Polars frame); nearest-rank percentiles."""
    import duckdb

    timings = []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for query in dashboard_queries(warehouse):
            samples, rows = [], None
            for _ in range(repeats):
                started = time.perf_counter()
                try:
                    rows = con.sql(query).pl().height
                except duckdb.CatalogException:  # an optional table this warehouse lacks
                    break
                samples.append(1000 * (time.perf_counter() - started))
            if not samples:
                continue
            samples.sort()
            timings.append({
                "query": " ".join(query.split()), "rows": rows, "runs": len(samples),
                "p50_ms": round(samples[math.ceil(0.50 * len(samples)) - 1], 2),
                "p95_ms": round(samples[math.ceil(0.95 * len(samples)) - 1], 2),
                "max_ms": round(samples[-1], 2),
            })
    finally:
        con.close()
    return timings


def agreement(floor_db: Path, pandas_dir: Path, warehouse: Path) -> dict:
    """Rows on which two implementations disagree (0 everywhere when all is well), with the
    number of rows compared."""
    import duckdb

    con = duckdb.connect(str(floor_db), read_only=True)
    con.execute(f"ATTACH '{warehouse}' AS night (READ_ONLY)")
    for name in ("densities", "census_counts", "followup_achievement"):
        con.execute(f"CREATE TEMP VIEW pandas_{name} AS "
                    f"SELECT * FROM read_parquet('{pandas_dir / (name + '.parquet')}')")
    checks = {
        "floor_vs_pandas_densities": """
            SELECT count(*) FILTER (WHERE f.professionals IS DISTINCT FROM p.professionals
                OR abs(f.rate - p.rate) > 1e-9 OR abs(f.ci_low - p.ci_low) > 1e-9
                OR abs(f.ci_high - p.ci_high) > 1e-9
                OR f.reference_value IS DISTINCT FROM p.reference_value
                   AND abs(f.reference_value - p.reference_value) > 1e-9), count(*)
            FROM marts.densities f
            FULL JOIN pandas_densities p USING (geo_level, geo_code, year, category)""",
        "floor_vs_pandas_census": """
            SELECT count(*) FILTER (WHERE f.projects IS DISTINCT FROM p.projects), count(*)
            FROM marts.census_counts f
            FULL JOIN pandas_census_counts p ON f.region = p.region AND f.period = p.period
                AND f.territory IS NOT DISTINCT FROM p.territory AND f.stage = p.stage""",
        "floor_vs_pandas_followup": """
            SELECT count(*) FILTER (WHERE f.achievement_rate IS DISTINCT FROM p.achievement_rate
                AND abs(f.achievement_rate - p.achievement_rate) > 1e-9), count(*)
            FROM marts.followup_achievement f
            FULL JOIN pandas_followup_achievement p USING (programme, criterion, period)""",
        # the night names professions by code and suppresses small cells: compare the
        # all-professions rows of every territory it publishes unsuppressed
        "floor_vs_night_densities": """
            SELECT count(*) FILTER (WHERE f.professionals IS DISTINCT FROM n.numerator),
                   count(*)
            FROM night.marts.indicator_values n
            LEFT JOIN marts.densities f ON f.geo_level = n.geo_level AND f.geo_code = n.geo_code
                AND CAST(f.year AS VARCHAR) = n.period AND f.category = 'ensemble'
            WHERE n.indicator_id = 'densite_professionnels' AND n.category = 'ensemble'
              AND NOT n.suppressed""",
        "floor_vs_night_census": """
            WITH night AS (
                SELECT period, sum(value) AS projects FROM night.marts.indicator_values
                WHERE indicator_id = 'projets_nombre' AND geo_level = 'region'
                  AND category = 'ensemble' GROUP BY period),
            floor AS (
                SELECT period, sum(projects) AS projects FROM marts.census_counts
                WHERE territory IS NULL AND stage = 'ensemble' GROUP BY period)
            SELECT count(*) FILTER (WHERE night.projects IS DISTINCT FROM floor.projects),
                   count(*)
            FROM night FULL JOIN floor USING (period)""",
        "floor_vs_night_followup": """
            WITH night AS (
                SELECT count(*) AS n, round(sum(value), 6) AS total
                FROM night.marts.indicator_values
                WHERE indicator_id = 'suivi_taux_realisation'),
            floor AS (
                SELECT count(*) AS n, round(sum(achievement_rate), 6) AS total
                FROM marts.followup_achievement)
            SELECT (night.n <> floor.n OR night.total <> floor.total)::INTEGER, floor.n
            FROM night, floor""",
    }
    try:
        return {name: dict(zip(("mismatches", "compared"), con.execute(sql).fetchone(),
                               strict=True))
                for name, sql in checks.items()}
    finally:
        con.close()


def profile_night(landing: Path, home: Path, work: Path) -> dict:
    """A separate full night under cProfile (slower than the measured one): where the time of
    the slowest steps goes, as the functions with the most cumulative and own time."""
    import io
    import pstats

    shutil.rmtree(home, ignore_errors=True)
    output = work / "full_night.prof"
    run = measure([sys.executable, "-m", "cProfile", "-o", str(output), "-m", "pipelines.cli",
                   "run", "--landing", str(landing), "--home", str(home)],
                  work / "logs" / "profiled_night.log")
    report = {"wall_seconds": run["wall_seconds"], "exit_code": run["exit_code"],
              "file": str(output)}
    for order, count in (("cumulative", 60), ("tottime", 25)):
        text = io.StringIO()
        stats = pstats.Stats(str(output), stream=text)
        stats.sort_stats(order).print_stats(count)
        report[order] = [line for line in text.getvalue().splitlines()
                         if line.strip() and not line.startswith(("   Ordered", "   List"))]
    return report


def prepare_landing(work: Path, scale: str, seed: int, months: int | None) -> dict:
    """Generate months + 1 months; hold the last one back for the incremental night."""
    from pipelines.synth import generate_landing
    from pipelines.synth.scales import get_scale

    definition = get_scale(scale)
    months = months or definition.months
    landing = work / "landing"
    shutil.rmtree(landing, ignore_errors=True)
    summary = generate_landing(landing, scale, seed, months=months + 1)
    held = work / "held"
    shutil.rmtree(held, ignore_errors=True)
    held.mkdir(parents=True)
    new_month = landing / "activity" / f"activite_{definition.period(months)}.csv"
    shutil.move(new_month, held / new_month.name)
    dropped = time.time() - LANDING_AGE_SECONDS
    for path in [*landing.rglob("*"), held / new_month.name]:
        os.utime(path, (dropped, dropped))
    activity = sorted((landing / "activity").glob("*.csv"))
    return {
        "scale": scale, "seed": seed, "months": months, "new_month": new_month.name,
        "activity_files": len(activity),
        "activity_mb": round(sum(p.stat().st_size for p in activity) / 2**20, 1),
        "rows_generated_with_new_month": summary.rows,
        "professionals": summary.professionals,
        "generation_seconds": round(summary.seconds, 1),
        "landing": str(landing), "held": str(held / new_month.name),
    }


def ratios(results: dict) -> dict:
    """The bounded figures; NaN where a run failed (a failed run passes no bound)."""
    full, incremental = results["full"], results["incremental"]

    def over(x, y):
        return x / y if x is not None and y else math.nan

    return {
        "full_over_floor": over(full["wall_seconds"], results["floor"]["wall_seconds"]),
        "pandas_over_full": over(results["pandas"]["wall_seconds"], full["wall_seconds"]),
        "incremental_over_full_wall": over(incremental["wall_seconds"], full["wall_seconds"]),
        "incremental_over_full_steps": over(incremental["step_seconds_sum"],
                                            full["step_seconds_sum"]),
        "night_peak_rss_mb": max(full["peak_rss_mb"], incremental["peak_rss_mb"]),
        "query_p95_ms": max((q["p95_ms"] for q in results["queries"]), default=math.nan),
    }


def verdicts(results: dict, measured: dict, bounds: dict) -> dict:
    holds = {"≤": lambda x, b: x <= b, "≥": lambda x, b: x >= b, "<": lambda x, b: x < b}
    found = {name: {"value": round(measured[name], 3), "bound": f"{op} {bound}",
                    "ok": holds[op](measured[name], bound)}
             for name, (op, bound) in bounds.items()}
    runs = ("floor", "pandas", "full", "incremental")
    failed = [name for name in runs if results[name]["exit_code"] != 0]
    found["runs_succeeded"] = {"value": len(runs) - len(failed), "bound": f"= {len(runs)}",
                               "ok": not failed}
    disagreements = sum(check["mismatches"] for check in results["agreement"].values())
    found["agreement_mismatches"] = {"value": disagreements, "bound": "= 0",
                                     "ok": bool(results["agreement"]) and disagreements == 0}
    return found


def machine() -> dict:
    memory = Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1]
    return {"cpus": os.cpu_count(), "memory_gb": round(int(memory) / 2**20, 1),
            "python": platform.python_version(), "load_average": os.getloadavg()}


def benchmark(scale: str, seed: int, months: int | None, work: Path, json_path: Path,
              profile: bool = False, repeats: int = 3) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    results: dict = {"machine_at_start": machine(),
                     "landing": prepare_landing(work, scale, seed, months)}
    landing = Path(results["landing"]["landing"])
    python = sys.executable
    print(f"Jeu généré / generated: {results['landing']['activity_files']} fichiers d'activité, "
          f"{results['landing']['activity_mb']} Mo", flush=True)

    floor_db, pandas_dir, home = work / "floor.duckdb", work / "pandas", work / "home"
    results["floor"] = measure_median(
        [python, "-m", "bench.floor", str(landing), str(floor_db)], logs / "floor.log", repeats)
    print(f"(b) plancher / floor: {results['floor']['wall_seconds']:.1f} s", flush=True)
    results["pandas"] = measure_median(
        [python, "-m", "bench.pandas_baseline", str(landing), str(pandas_dir)],
        logs / "pandas.log", repeats,
    )
    print(f"(c) pandas: {results['pandas']['wall_seconds']:.1f} s", flush=True)
    shutil.rmtree(home, ignore_errors=True)
    results["full"] = night(landing, home, logs / "full_night.log")
    print(f"(a) nuit complète / full night: {results['full']['wall_seconds']:.1f} s", flush=True)
    warehouse = home / "warehouse" / "observatoire.duckdb"
    published = warehouse.exists() and floor_db.exists() and pandas_dir.exists()
    results["queries"] = time_queries(warehouse) if warehouse.exists() else []
    results["agreement"] = agreement(floor_db, pandas_dir, warehouse) if published else {}

    held = Path(results["landing"]["held"])
    shutil.copy2(held, landing / "activity" / held.name)
    results["incremental"] = night(landing, home, logs / "incremental_night.log",
                                   previous_run=results["full"]["run_id"])
    print(f"(d) nuit incrémentale / incremental night: "
          f"{results['incremental']['wall_seconds']:.1f} s", flush=True)
    results["machine_at_end"] = machine()
    if profile:
        results["profile"] = profile_night(landing, work / "profiled-home", work)

    measured = ratios(results)
    results["ratios"] = {k: round(v, 3) for k, v in measured.items()}
    results["verdicts"] = verdicts(results, measured, BOUNDS[scale])
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                         encoding="utf-8")
    return results


def table(results: dict) -> str:
    runs = (("(a) nuit complète / full night", "full"), ("(b) plancher SQL / floor", "floor"),
            ("(c) pandas", "pandas"), ("(d) nuit incrémentale / incremental", "incremental"))
    lines = [f"{'Mesure / measure':40} {'mur / wall s':>12} {'étapes / steps s':>16} "
             f"{'RSS max Mo / MB':>16} {'code':>5}"]
    for label, key in runs:
        run = results[key]
        steps = run.get("step_seconds_sum")
        lines.append(f"{label:40} {run['wall_seconds']:12.1f} "
                     f"{'' if steps is None else f'{steps:.1f}':>16} "
                     f"{run['peak_rss_mb']:16.0f} {run['exit_code']:>5}")
    lines.append("")
    lines.append("Rapports et bornes / ratios and bounds")
    for name, verdict in results["verdicts"].items():
        lines.append(f"  {name:32} {verdict['value']:>10} {verdict['bound']:>10}  "
                     f"{'OK' if verdict['ok'] else 'DÉPASSÉ / EXCEEDED'}")
    lines.append("")
    lines.append("Étapes Dagster de la nuit complète / full night's Dagster steps (s)")
    incremental = {s["step"]: s["seconds"] for s in results["incremental"]["steps"]}
    lines.append(f"  {'étape / step':52} {'complète':>9} {'incrém.':>9} {'RSS Mo':>7}")
    for step in results["full"]["steps"]:
        rss = step.get("peak_rss_mb")
        lines.append(f"  {step['step']:52} {step['seconds']:9.2f} "
                     f"{incremental.get(step['step'], float('nan')):9.2f} "
                     f"{'' if rss is None else f'{rss:.0f}':>7}")
    lines.append("")
    lines.append("Requêtes des tableaux de bord / dashboard queries (ms, "
                 f"{QUERY_REPEATS} passages / runs)")
    for query in results["queries"]:
        lines.append(f"  p50 {query['p50_ms']:7.1f}  p95 {query['p95_ms']:7.1f}  "
                     f"{query['rows']:>7} lignes  {query['query'][:60]}")
    lines.append("")
    lines.append("Concordance / agreement (lignes en désaccord / rows that differ)")
    for name, check in results["agreement"].items():
        lines.append(f"  {name:32} {check['mismatches']:>6} / {check['compared']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(BOUNDS), default="national")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--months", type=int,
                        help="mois de la nuit complète (défaut : ceux de l'échelle)")
    parser.add_argument("--work", type=Path, help="dossier de travail (défaut : var/bench/ECHELLE)")
    parser.add_argument("--json", type=Path, help="résultats (défaut : bench/results/ECHELLE.json)")
    parser.add_argument("--profile", action="store_true",
                        help="ajoute une nuit complète sous cProfile (où va le temps)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="passages du plancher et de pandas, médiane retenue (défaut : 3)")
    args = parser.parse_args(argv)
    work = (args.work or REPO / "var" / "bench" / args.scale).resolve()
    json_path = args.json or RESULTS / f"{args.scale}.json"
    # the nights plan against the code as it is now: an edit of the checkout during the bench
    # must not turn the incremental night into a full rebuild
    if not os.environ.get("OBSERVATOIRE_CODE_VERSION"):
        from pipelines.ingest.plan import code_fingerprint
        from pipelines.settings import get_settings
        os.environ["OBSERVATOIRE_CODE_VERSION"] = "bench-" + code_fingerprint(get_settings())
    results = benchmark(args.scale, args.seed, args.months, work, json_path, args.profile,
                        args.repeats)
    print()
    print(table(results))
    print(f"\nRésultats / results: {json_path}")
    return 0 if all(v["ok"] for v in results["verdicts"].values()) else 1
