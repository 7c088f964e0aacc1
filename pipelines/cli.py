"""observatoire run | sql | rollback | generate | serve — the analyst's and the scheduler's entry
points."""

import argparse
import atexit
import gc
import importlib
import logging
import os
import signal
import sys
import threading
import time
import uuid
from pathlib import Path


def _configure(home: Path | None, landing: Path | None) -> None:
    """Export the paths before anything reads settings, so Dagster code sees the same ones."""
    if home:
        os.environ["OBSERVATOIRE_HOME"] = str(home.resolve())
    if landing:
        os.environ["OBSERVATOIRE_LANDING"] = str(landing.resolve())
    from pipelines.settings import get_settings

    settings = get_settings()
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)


def run_night(args: argparse.Namespace) -> int:
    _configure(args.home, args.landing)
    from pipelines.quality import worker

    # Great Expectations' import (2.5 s) starts now, in a process of its own on the other core,
    # while this one imports Dagster and plans the night
    worker.start()
    try:
        return _night()
    finally:
        worker.stop()


def _night() -> int:
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.demo import prepare_demo_landing
    from pipelines.ingest.plan import describe_plan, plan_night
    from pipelines.nights import record_night
    from pipelines.quality import worker
    from pipelines.settings import get_settings
    from pipelines.warehouse import start_build_file

    settings = get_settings()
    started = time.monotonic()
    if settings.uses_demo_landing:
        print("Préparation des données de démonstration (activité synthétique)…", flush=True)
        prepare_demo_landing(settings)
    print(f"Nuit en cours sur le dépôt {settings.landing}…", flush=True)
    instance = dg.DagsterInstance.get()
    try:
        plan = plan_night(settings)
    except ValueError as error:
        print(f"Nuit impossible : {error}", file=sys.stderr)
        return 1
    print(describe_plan(plan), flush=True)
    if plan.assets is not None and not any(key[0] == "staging" for key in plan.assets):
        worker.stop()  # nothing to validate tonight
    # what the indicators' interval functions import on their first call (scipy.special, and
    # pandas through pyarrow's to_numpy: 0.5 s), while the first steps work in DuckDB
    threading.Thread(target=_import, args=("scipy.special", "pandas"), daemon=True).start()
    # The modules imported so far (Dagster, DuckDB, Polars: hundreds of thousands of objects) live
    # until the night ends; frozen, the cyclic collector stops walking them at each full pass.
    # Rendering the region-scale site after those imports took 3.0 s unfrozen, 1.8 s frozen
    # (measured once; on a busier machine 3.4 s against 2.9 s).
    gc.freeze()
    run_id = str(uuid.uuid4())
    start_build_file(settings, run_id)
    instance.add_event_listener(run_id, StepProgress(started))
    result = defs.resolve_job_def("nightly").execute_in_process(
        instance=instance,
        run_id=run_id,
        raise_on_error=False,
        tags=plan.tags,
        asset_selection=plan.asset_keys,
        # the summary below says what failed and why; Dagster's own tracebacks stay in its
        # run log (dagster dev) rather than on the analyst's terminal
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    record_night(instance, result.run_id, settings)
    print(summarise(result, settings, time.monotonic() - started))
    if not result.success and not _published(result):
        from pipelines.quality.blocked import record_blocked_night

        account = record_blocked_night(settings, result.run_id)
        page = settings.dashboards_dir / "qualite.html"
        if page.exists():
            print(f"Nuit bloquée signalée sur la page Qualité des données ({page}).")
        else:  # nothing was ever published: no site to put it on
            print("Pas encore de tableaux de bord (aucune nuit publiée) : ce qui a bloqué est "
                  f"ci-dessus, et dans {account}.")
    return 0 if result.success else 1


class StepProgress:
    """A line for each step of the night that built tables, as it ends, with the time since the
    night started: a national night runs for minutes, which the analyst would otherwise wait
    through in silence. Checks and failures are in the summary that follows."""

    def __init__(self, started: float) -> None:
        self.started = started
        self.begun: dict[str, float] = {}
        self.built: dict[str, dict[str, int]] = {}  # step → table → materializations

    def __call__(self, entry) -> None:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            return
        step, kind = event.step_key, event.event_type_value
        if kind == "STEP_START":
            self.begun[step] = entry.timestamp
        elif kind == "ASSET_MATERIALIZATION":
            tables = self.built.setdefault(step, {})
            table = "/".join(event.asset_key.path)
            tables[table] = tables.get(table, 0) + 1
        elif kind == "STEP_SUCCESS" and step in self.built:
            # a partitioned table is materialized once per month
            tables = [table + (f" ({months} mois)" if months > 1 else "")
                      for table, months in self.built[step].items()]
            label = (" et ".join(tables) if len(tables) < 3
                     else f"{tables[0]} et {len(tables) - 1} autres tables")
            took = f"{entry.timestamp - self.begun.get(step, entry.timestamp):.1f}"
            elapsed = int(time.monotonic() - self.started)
            print(f"  [{elapsed // 60}:{elapsed % 60:02d}] {label} : fait en "
                  f"{took.replace('.', ',')} s", flush=True)


def _import(*modules: str) -> None:
    for module in modules:
        importlib.import_module(module)


def _located(failure: dict) -> list[str]:
    """Offending values, each with its file and line when the check could tell them."""
    values = failure.get("unexpected_values") or []
    rows = failure.get("rows") or []
    if len(rows) != len(values):
        return [str(v) for v in values]
    return [f"{'(vide)' if v is None else v} ({where})"
            for v, where in zip(values, rows, strict=True)]


def _count(value: int | None) -> str:
    """479444 → « 479 444 »; « – » for a step that did not run to its end."""
    from dashboards.formatting import format_number

    return "–" if value is None else format_number(value)


def _failure(table: str, failure: dict) -> str:
    """A failed rule on `table` as the quality page names it, its column as the analyst's file
    names it, its first offending values, and what to do about it."""
    from dashboards.pages.quality import EXPECTATIONS, remedy
    from expectations import named_columns

    name = EXPECTATIONS.get(failure["expectation"], failure["expectation"])
    columns = named_columns(table, failure.get("column"))
    if columns:
        plural = "s" if len(columns.split(", ")) > 1 else ""
        name += f" (colonne{plural} {columns})"
    fix = remedy(table, failure["expectation"])
    return f"{name} : " + "; ".join(_located(failure)[:5]) + (f"\n        Que faire : {fix}"
                                                               if fix else "")


def _published(result) -> bool:
    return any(e.event_type_value == "ASSET_MATERIALIZATION"
               and e.event_specific_data.materialization.asset_key.path == ["publish", "warehouse"]
               for e in result.all_events)


def summarise(result, settings, seconds: float) -> str:
    lines = []
    raw_rows, staged, rejected, checks_ok, checks_failed = {}, {}, {}, 0, []
    step_errors, published = [], False
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.event_specific_data.error
            while error and error.cause:  # Dagster wraps the asset's own exception
                error = error.cause
            if error and "DagsterAssetCheckFailedError" not in (error.cls_name or ""):
                step_errors.append(f"{event.step_key} : {error.message.strip()}")
        if event.event_type_value == "ASSET_MATERIALIZATION":
            m = event.event_specific_data.materialization
            key = "/".join(m.asset_key.path)
            published = published or key == "publish/warehouse"
            meta = {k: v.value for k, v in m.metadata.items()}
            if key in ("raw/activity", "raw/census", "raw/followup"):
                raw_rows[key[4:]] = (meta.get("rows_loaded"), meta.get("lines_loaded"),
                                     meta.get("files_loaded"), meta.get("files_skipped"),
                                     meta.get("files_refused"))
            if key in ("staging/activity", "staging/census", "staging/followup"):
                staged[key[8:]] = meta.get("rows")
                rejected[key[8:]] = meta.get("rejected_rows")
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            name = f"{'/'.join(evaluation.asset_key.path)} · {evaluation.check_name}"
            if evaluation.passed:
                checks_ok += 1
            else:
                failures = evaluation.metadata.get("failures")
                details = [_failure(".".join(evaluation.asset_key.path), f)
                           for f in (failures.value if failures else [])]
                checks_failed.append((name, evaluation.severity.value, details))
    lines.append(f"\nNuit {'réussie' if result.success else 'BLOQUÉE'} en {seconds:.0f} s "
                 f"(run {result.run_id}).")
    for family, (rows, read, loaded, skipped, refused) in sorted(raw_rows.items()):
        # a follow-up with a column per period: its lines, and the row of each line and period
        per_period = (f" ({_count(rows)} valeurs, une par ligne et période)"
                      if read is not None and read != rows else "")
        lines.append(
            f"  {family:9} fichiers chargés {_count(loaded)}, déjà connus {_count(skipped)}, "
            f"lignes chargées {_count(rows if read is None else read)}{per_period}, "
            f"lignes typées {_count(staged.get(family))}, "
            f"rejetées {_count(rejected.get(family))}"
        )
        for name, message in (refused or {}).items():
            lines.append(f"    fichier refusé {name} : {message}")
    lines.append(f"  contrôles des tables réussis {checks_ok}, en échec {len(checks_failed)} "
                 "(chaque règle de chaque contrôle : page Qualité des tableaux de bord)")
    for name, severity, details in checks_failed:
        lines.append(f"    {'BLOQUANT' if severity == 'ERROR' else 'avertissement'} : {name}")
        lines.extend(f"      {detail}" for detail in details)
    for message in step_errors:
        lines.append(f"  ÉCHEC d'une étape : {message}")
    if published:
        lines.append(f"Entrepôt publié : {settings.warehouse_path}")
        lines.append(f"Tableaux de bord : {settings.dashboards_dir / 'index.html'}"
                     + ("" if result.success else " (non mis à jour : voir l'échec ci-dessus)"))
    else:
        lines.append(f"Rien n'a été publié ; l'entrepôt précédent reste en place : "
                     f"{settings.warehouse_path}" if settings.warehouse_path.exists() else
                     "Rien n'a été publié : aucun entrepôt ne l'a encore été (première nuit).")
        lines.append("Détails : `dagster dev -w workspace.yaml` (onglet Runs) ou "
                     "audit.validation_results dans le fichier de la nuit "
                     f"{settings.build_dir}.")
    return "\n".join(lines)


def read_query(args: argparse.Namespace) -> str:
    """The query from the command line, a file (--file) or standard input (`-`)."""
    if args.file and args.query:
        raise ValueError("donnez la requête soit en argument, soit avec --file, pas les deux.")
    if args.file:
        try:
            return args.file.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise ValueError(f"fichier de requête illisible : {args.file} ({error.strerror})."
                             ) from error
    if args.query == "-":
        return sys.stdin.read()
    if args.query:
        return args.query
    raise ValueError('donnez une requête : observatoire sql "SELECT …", --file requete.sql, '
                     "ou - pour la lire sur l'entrée standard.")


def run_sql(args: argparse.Namespace) -> int:
    from pipelines.query import QueryRefused, run_query
    from pipelines.settings import get_settings

    if args.home:
        os.environ["OBSERVATOIRE_HOME"] = str(args.home.resolve())
    try:
        query = read_query(args)
    except ValueError as error:
        print(f"observatoire sql : {error}", file=sys.stderr)
        return 2
    path = get_settings().warehouse_path
    if not path.exists():
        print(f"Aucun entrepôt publié à {path} : lancez d'abord `observatoire run`.",
              file=sys.stderr)
        return 2
    try:
        run_query(path, query, sys.stdout, as_csv=args.csv, max_rows=args.max_rows)
    except QueryRefused as refusal:
        print(f"Requête refusée : {refusal}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `observatoire sql … | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    _configure(args.home, None)
    from pipelines.locks import WarehouseLocked
    from pipelines.settings import get_settings
    from pipelines.warehouse import (
        find_version,
        list_versions,
        publication_of,
        rollback,
        version_name,
    )

    settings = get_settings()
    versions = list_versions(settings)
    try:
        in_service = (version_name(*publication_of(settings.warehouse_path))
                      if settings.warehouse_path.exists() else None)
    except WarehouseLocked as error:
        print(f"observatoire rollback : {error}", file=sys.stderr)
        return 2
    if args.list or not args.version:
        if not versions:
            print(f"Aucune version gardée dans {settings.versions_dir}.")
            return 0 if args.list else 2
        print(f"Versions publiées gardées dans {settings.versions_dir} (les "
              f"{settings.keep_versions} dernières, OBSERVATOIRE_KEEP_VERSIONS) :")
        for version in reversed(versions):
            mark = "  ← en service" if version.path.name == in_service else ""
            print(f"  {version.name}  publiée le {version.published_at:%d/%m/%Y à %H:%M:%S}, "
                  f"nuit {version.night_prefix}…, {version.path.stat().st_size / 1e6:.1f} Mo"
                  f"{mark}")
        if not args.list:
            print("Pour republier l'une d'elles : observatoire rollback NOM")
        return 0
    try:
        version = find_version(settings, args.version)
        if version.path.name == in_service:
            print(f"La version {version.name} est déjà celle publiée ; rien à faire.")
            return 0
        rollback(settings, version)
    except (LookupError, WarehouseLocked) as error:
        print(f"observatoire rollback : {error}", file=sys.stderr)
        return 2
    print(f"Entrepôt republié depuis la version {version.name} : {settings.warehouse_path}")
    try:
        from dashboards.render import render_site

        render_site(settings.warehouse_path, settings.dashboards_dir)
    except Exception as error:  # the warehouse is back; say plainly that the pages are not
        print(f"Tableaux de bord NON régénérés ({error}) ; ils montrent encore la version "
              "précédente.", file=sys.stderr)
        return 1
    print(f"Tableaux de bord régénérés : {settings.dashboards_dir / 'index.html'}")
    print("La prochaine nuit repart de cette version et recharge les fichiers déposés depuis : "
          "retirez ou corrigez d'abord le fichier en cause dans le dossier de dépôt.")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from pipelines.synth import generate_landing

    summary = generate_landing(args.out, scale=args.scale, seed=args.seed)
    print(f"{summary.rows} lignes d'activité, {summary.professionals} professionnels, "
          f"{len(summary.files)} fichiers dans {args.out} ({summary.seconds:.1f} s).")
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run_serve(args: argparse.Namespace) -> int:
    import functools
    import http.server

    _configure(args.home, None)
    from pipelines.settings import get_settings

    folder = get_settings().dashboards_dir
    if not (folder / "index.html").exists():
        print(f"Aucun tableau de bord dans {folder} : lancez d'abord « observatoire run ».",
              file=sys.stderr)
        return 1
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    # A server stops on SIGTERM (service managers, `kill`), even when started from a process
    # that ignores it: once Dagster has run in a process where SIGINT is ignored (`nohup … &`),
    # SIGTERM is ignored there too and children inherit that.
    signal.signal(signal.SIGTERM, _interrupt)
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        print(f"Tableaux de bord sur http://127.0.0.1:{args.port}/ (Ctrl+C pour arrêter)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


HOME_HELP = "dossier de travail : entrepôt, tableaux de bord, historique (défaut : ./var)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="observatoire",
        description="La nuit de l'observatoire local des besoins en santé : charger, contrôler "
        "et publier les fichiers déposés ; interroger l'entrepôt ; servir les tableaux de bord. "
        "Aide d'une commande : observatoire COMMANDE -h.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="lance la nuit (job Dagster `nightly`) en local")
    run.add_argument("--landing", type=Path, help="dossier de dépôt (défaut : la démo)")
    run.add_argument("--home", type=Path, help=HOME_HELP)
    run.set_defaults(func=run_night)

    sql = sub.add_parser(
        "sql", help="interroge l'entrepôt publié, en lecture seule",
        description="Interroge l'entrepôt publié en lecture seule, sans accès aux fichiers "
        "extérieurs. Tables, colonnes et exemples : docs/warehouse.md.",
    )
    sql.add_argument("query", nargs="?", help="la requête SQL, ou - pour la lire sur l'entrée "
                     "standard")
    sql.add_argument("--file", type=Path, help="lit la requête dans ce fichier")
    sql.add_argument("--csv", action="store_true", help="résultat en CSV (pour un export)")
    sql.add_argument("--max-rows", type=int, default=1000,
                     help="lignes affichées au plus dans le tableau (défaut : 1000)")
    sql.add_argument("--home", type=Path, help=HOME_HELP)
    sql.set_defaults(func=run_sql)

    back = sub.add_parser(
        "rollback", help="republie une version précédente de l'entrepôt",
        description="Liste les versions publiées gardées (var/warehouse/versions/) ou en "
        "republie une, atomiquement, puis régénère les tableaux de bord.",
    )
    back.add_argument("version", nargs="?", help="nom de la version (voir --list) ou début de "
                      "l'identifiant de sa nuit")
    back.add_argument("--list", action="store_true", help="liste les versions gardées")
    back.add_argument("--home", type=Path, help=HOME_HELP)
    back.set_defaults(func=run_rollback)

    gen = sub.add_parser("generate", help="génère un dépôt synthétique déterministe")
    gen.add_argument("--scale", choices=["tiny", "demo", "region", "national"], default="demo",
                     help="taille du dépôt : une région, toute la France… (défaut : demo)")
    gen.add_argument("--seed", type=int, default=2026,
                     help="graine : la même graine donne les mêmes fichiers (défaut : 2026)")
    gen.add_argument("--out", type=Path, required=True, help="dossier où écrire le dépôt")
    gen.set_defaults(func=run_generate)

    serve = sub.add_parser("serve", help="sert les tableaux de bord sur 127.0.0.1")
    serve.add_argument("--port", type=int, default=8050, help="port local (défaut : 8050)")
    serve.add_argument("--home", type=Path, help=HOME_HELP)
    serve.set_defaults(func=run_serve)

    args = parser.parse_args(argv)
    return args.func(args)


def console() -> None:
    """The `observatoire` command. It leaves without tearing down the 3,600 modules a night
    imports (Dagster, Great Expectations, SciPy…): that took 1.5 s at the end of every night,
    once every file, connection and log was closed. Under a profiler or a coverage tracer,
    which write their results after the program, it leaves the usual way."""
    code = main()
    if sys.getprofile() or sys.gettrace():
        sys.exit(code)
    atexit._run_exitfuncs()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    console()
