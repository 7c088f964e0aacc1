"""What a night has to do: activity months that are new or changed, and the assets downstream.

Activity is partitioned by month (`ACTIVITY_MONTHS`). Before a night starts, `plan_night`
compares the landing folder with the published warehouse (the list of files it already loaded,
their sha256, and the months each one staged) and with the inputs the last planned night saw
(code and models, public reference files, place-name corrections, the professions' spellings,
thresholds). The night then runs one Dagster run over the range of months that changed
(`BackfillPolicy.single_run`) and only the assets downstream of something that changed; every
other table is carried over from the published file, which the night copies.

The CLI (`observatoire run`), the schedule and the landing sensor all launch nights this way.
A run started by hand in the Dagster UI (a range of months, or everything) works too: assets
then do what their partitions say.
"""

import hashlib
import json
import os
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.ingest.digests import file_sha256, load_digests, save_digests
from pipelines.ingest.public_files import PUBLIC_FORMATS, public_files
from pipelines.ingest.raw import is_data, landing_files, readable
from pipelines.ingest.vocabularies import PROFESSIONS_FILE, read_profession_spellings
from pipelines.settings import REPO_ROOT, SOURCE_FAMILIES, Settings
from pipelines.warehouse import start_build_file

# Activity statistics describe complete months; 2010 is older than any export an observatory
# gets, and the current month is included so that a file dated today still has a partition.
ACTIVITY_MONTHS = dg.MonthlyPartitionsDefinition(start_date="2010-01", fmt="%Y-%m", end_offset=1)
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
PARTITION = "dagster/partition"
PLAN_TAG = "observatoire/plan"

ALWAYS = (("raw", "night_plans"), ("publish", "warehouse"), ("publish", "dashboards"))
CORRECTIONS_FILE = "reference/corrections_communes.csv"
# What the code location computes from: a change here (a deployment) makes a full night.
CODE_FOLDERS = ("pipelines", "models", "expectations", "data/reference")
# applied by the publication step, which runs every night
PUBLISHED_EVERY_NIGHT = ("comments.yaml",)
# A landing file younger than this, or still growing between two looks, is being written.
DEFAULT_SETTLE_SECONDS = 10.0
# A file taken out of the landing keeps its rows: landing folders are often emptied once read
# (a transfer folder, a purge), and a night must not unpublish what it cannot see.
GONE = ("chargé par une nuit précédente, absent du dépôt : ses lignes restent publiées ; pour "
        "les retirer, déposez sous le même nom un fichier réduit à sa ligne d'en-tête")
_NAMED_MONTH = re.compile(r"(?<!\d)(20\d\d)[-_]?(0[1-9]|1[0-2])(?!\d)")


@dataclass
class NightPlan:
    kind: str  # 'complète' (first night or new code), 'incrémentale', 'rien de nouveau'
    months: list[str]  # activity partitions to materialise, sorted
    assets: list[tuple[str, ...]] | None  # None: every asset
    fingerprints: dict[str, str]
    pending: dict[str, list[str]] = field(default_factory=dict)  # family → new/changed files
    deferred: dict[str, str] = field(default_factory=dict)  # file → why not tonight
    unread: dict[str, str] = field(default_factory=dict)  # file → why no night reads it
    empty_panel: bool = False  # no activity file loaded, tonight or before
    gone: dict[str, str] = field(default_factory=dict)  # loaded file no longer landed → what to do

    @property
    def tags(self) -> dict[str, str]:
        tags = {PLAN_TAG: json.dumps(
            {"kind": self.kind, "months": self.months, "fingerprints": self.fingerprints,
             "pending": self.pending, "deferred": self.deferred, "unread": self.unread,
             "gone": self.gone},
            ensure_ascii=False)}
        if self.months:
            tags |= {RANGE_START: self.months[0], RANGE_END: self.months[-1]}
        return tags

    @property
    def asset_keys(self) -> list[dg.AssetKey] | None:
        return None if self.assets is None else [dg.AssetKey(list(k)) for k in self.assets]

    def run_request(self) -> dg.RunRequest:
        return dg.RunRequest(tags=self.tags, asset_selection=self.asset_keys)


def settle_seconds(settings: Settings) -> float:
    """How old a landing file must be to be loaded; the demo landing is written by the night's
    own command, just before it starts."""
    if settings.uses_demo_landing:
        return 0.0
    return float(os.environ.get("OBSERVATOIRE_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


def still_being_written(paths: list[Path], settle: float) -> dict[Path, str]:
    """Why each of `paths` that looks incomplete should wait for the next night.

    A file is incomplete when it was modified less than `settle` seconds ago, or when it
    changes between two looks; the second look is taken once for all the files (a pause per
    file cost 50 ms each, 3.6 s of a national night).
    """
    now = time.time()
    first = {path: path.stat() for path in paths}
    waiting = {}
    for path, stat in first.items():
        age = now - stat.st_mtime
        if age < settle:
            waiting[path] = (f"fichier modifié il y a {age:.0f} s (moins de {settle:.0f} s) : "
                             "sans doute encore en cours d'écriture ; il sera chargé par la nuit "
                             "suivante")
    if not settle or len(waiting) == len(first):
        return waiting
    time.sleep(0.05)
    for path, stat in first.items():
        second = path.stat()
        if path not in waiting and (stat.st_size, stat.st_mtime_ns) != (second.st_size,
                                                                         second.st_mtime_ns):
            waiting[path] = ("fichier en cours d'écriture (sa taille change) : il sera chargé "
                             "par la nuit suivante")
    return waiting


def file_months(path: Path, family: str = "activity") -> list[str]:
    """The months an activity file holds: from its name when it names exactly one
    (activite_2024-03.csv), otherwise read from its `periode` column."""
    named = {f"{y}-{m}" for y, m in _NAMED_MONTH.findall(path.stem)}
    if len(named) == 1:
        return sorted(named)
    from pipelines.sources.reader import SourceFileError, read_source_file
    from pipelines.sql import define_macros

    try:
        table = read_source_file(path, family)
    except SourceFileError:
        return []  # the raw step records the refusal; the file has no month to stage
    con = duckdb.connect()
    try:
        define_macros(con)
        con.register("incoming", table.frame.select("periode").to_arrow())
        return [r[0] for r in con.execute(
            """SELECT DISTINCT strftime(parse_month(periode), '%Y-%m') AS m FROM incoming
               WHERE m IS NOT NULL ORDER BY 1""").fetchall()]
    finally:
        con.close()


def months_in_range(tags) -> list[str] | None:
    """The activity months a run covers, from its partition tags; None for an unpartitioned
    run (every month)."""
    if tags.get(PARTITION):
        return [tags[PARTITION]]
    if tags.get(RANGE_START) and tags.get(RANGE_END):
        return ACTIVITY_MONTHS.get_partition_keys_in_range(
            dg.PartitionKeyRange(tags[RANGE_START], tags[RANGE_END]))
    return None


def night_months(con: duckdb.DuckDBPyConnection, run) -> list[date] | None:
    """Months staging.activity refreshes in this run: its partitions, plus the months of any
    row this night loaded into raw (a file whose name did not tell its months); None: all, as
    in a planned full night, whose range is every month (finding the months of the rows it
    loaded read all of them: 1.8 s at national scale, for staging and again for its suite)."""
    months = months_in_range(run.tags)
    if months is None or json.loads(run.tags.get(PLAN_TAG, "{}")).get("kind") == "complète":
        return None
    if run.run_id not in _months_of_run:
        from pipelines.sql import define_macros

        define_macros(con)
        nights = [i for i in {run.run_id, run.parent_run_id, run.root_run_id} if i]
        # each spelling parsed once (a national night loads 9 million rows and a few dozen), in
        # a list: a WHERE on the month parsed, DuckDB pushes below the DISTINCT, to each row
        # (0.14 s against 0.02 s for a national month)
        loaded = con.execute(
            """SELECT list_filter(list_transform(list(DISTINCT periode),
                                                 lambda p: parse_month(p)),
                                  lambda m: m IS NOT NULL)
               FROM raw.activity WHERE list_contains(?, _load_id)""", [nights]).fetchone()[0] or []
        _months_of_run[run.run_id] = sorted(
            {date.fromisoformat(f"{m}-01") for m in months} | set(loaded))
    return _months_of_run[run.run_id]


# Each run's months, found once in this process: staging, its suite and activity_years ask,
# all after the raw load, the only step that adds rows to raw.activity
_months_of_run: dict[str, list[date]] = {}


def _digest(parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(str(part).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def code_fingerprint(settings: Settings) -> str:
    """The hash of the code and models, or OBSERVATOIRE_CODE_VERSION when a deployment names
    its release itself (a checkout being edited then does not rebuild everything each night)."""
    thresholds = [settings.count_threshold, settings.activity_threshold]
    if os.environ.get("OBSERVATOIRE_CODE_VERSION"):
        return _digest(thresholds + ["version", os.environ["OBSERVATOIRE_CODE_VERSION"]])
    files = sorted(
        p for folder in CODE_FOLDERS for p in (REPO_ROOT / folder).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.name not in PUBLISHED_EVERY_NIGHT
    )
    return _digest(thresholds + [f"{p.relative_to(REPO_ROOT)}:{file_sha256(p)}" for p in files])


def input_fingerprints(settings: Settings) -> dict[str, str]:
    landing = settings.landing
    public = [p for fmt in PUBLIC_FORMATS for p in public_files(landing, fmt.folder)]
    corrections, professions = landing / CORRECTIONS_FILE, landing / PROFESSIONS_FILE
    return {
        "code": code_fingerprint(settings),
        "public_files": _digest(f"{p.relative_to(landing)}:{file_sha256(p)}" for p in public),
        "corrections": file_sha256(corrections) if corrections.exists() else "",
        "professions": file_sha256(professions) if professions.exists() else "",
    }


def _published_state(settings: Settings):
    """(files loaded: family → {name: sha256}, months staged per activity file, last planned
    fingerprints) of the published warehouse; empty for a first night."""
    loaded, staged, fingerprints = {}, {}, None
    if not settings.warehouse_path.exists():
        return loaded, staged, fingerprints
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        tables = {tuple(r) for r in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
        if ("raw", "loaded_files") in tables:
            for family, name, sha in con.execute(
                    "SELECT family, source_file, sha256 FROM raw.loaded_files "
                    "WHERE status = 'chargé'").fetchall():
                loaded.setdefault(family, {})[name] = sha
        if ("staging", "activity") in tables:
            staged = dict(con.execute(
                """SELECT _source_file, list(DISTINCT strftime(period_month, '%Y-%m'))
                   FROM staging.activity GROUP BY 1""").fetchall())
        if ("raw", "night_plans") in tables:
            row = con.execute(
                """SELECT fingerprints FROM raw.night_plans WHERE fingerprints IS NOT NULL
                   ORDER BY planned_at DESC LIMIT 1""").fetchone()
            fingerprints = json.loads(row[0]) if row else None
    finally:
        con.close()
    return loaded, staged, fingerprints


def plan_night(settings: Settings) -> NightPlan:
    from pipelines.definitions import defs

    if not settings.landing.is_dir():
        # a mistyped path would otherwise be a landing with nothing in it, and a first night
        # would publish an empty warehouse
        raise ValueError(f"le dossier de dépôt {settings.landing} n'existe pas : vérifiez "
                         "--landing ou OBSERVATOIRE_LANDING")
    loaded, staged, last = _published_state(settings)
    load_digests(settings.build_dir)
    fingerprints = input_fingerprints(settings)
    settle = settle_seconds(settings)
    pending, deferred, months = {}, {}, set()
    new, landed = {}, []
    for family in SOURCE_FAMILIES:
        known_content = set(loaded.get(family, {}).values())
        paths = landing_files(settings.landing, family)
        landed += paths
        # known, or the same bytes under another name (a 'doublon')
        new[family] = [path for path in paths if file_sha256(path) not in known_content]
    save_digests(settings.build_dir, landed)
    waiting = still_being_written([path for paths in new.values() for path in paths], settle)
    for family, paths in new.items():
        for path in paths:
            name = path.relative_to(settings.landing).as_posix()
            if path in waiting:
                deferred[name] = waiting[path]
                continue
            pending.setdefault(family, []).append(name)
            if family == "activity":
                months.update(file_months(path))
                months.update(staged.get(name, []))  # a corrected file: its old months too
    graph = defs.resolve_asset_graph()
    # the professions' spellings may type rows of any month differently: every month again
    if (last is None or last.get("code") != fingerprints["code"]
            or last.get("professions", "") != fingerprints["professions"]):
        kind, roots = "complète", None
        months.update(m for ms in staged.values() for m in ms)
    else:
        kind, roots = "incrémentale", set()
        for family in pending:
            roots.add(("raw", family))
        if months:
            roots.add(("staging", "activity"))
        if last.get("public_files") != fingerprints["public_files"]:
            roots.add(("staging", PUBLIC_FORMATS[0].table))
        if last.get("corrections") != fingerprints["corrections"]:
            roots.add(("staging", "census_communes"))
        if not roots:
            kind = "rien de nouveau"
    valid = set(ACTIVITY_MONTHS.get_partition_keys())
    outside = sorted(months - valid)
    if outside:
        raise ValueError(f"mois d'activité hors de la période gérée ({', '.join(outside)}) : "
                         f"les partitions vont de {min(valid)} à {max(valid)}")
    if pending.get("activity") and not months:
        # new files with no readable month (a file the reader will refuse): the night still
        # runs raw/activity, over the latest month, so that the refusal is recorded and blocks
        months = {max(valid)}
    empty_panel = roots is None and not months
    if empty_panel:
        # no activity at all (an observatory that follows only its census and contracts, or
        # whose activity files are all still being written): the activity assets still run,
        # over the latest month and on no file, so that their tables exist, empty, for the
        # checks and indicators downstream (Dagster runs no partitioned asset without a month)
        months = {max(valid)}
    months = sorted(months)
    if roots is None:
        assets = None
    else:
        if not months:  # no partition to run: leave the partitioned assets out
            roots -= {("raw", "activity"), ("staging", "activity")}
        assets = _closure(defs, graph, roots | set(ALWAYS))
        if not months:
            assets = [k for k in assets if k not in {("raw", "activity"), ("staging", "activity")}]
    present = {path.relative_to(settings.landing).as_posix() for path in landed}
    gone = {name: GONE for family in SOURCE_FAMILIES for name in sorted(loaded.get(family, {}))
            if name not in present}
    return NightPlan(kind, months, assets, fingerprints, pending, deferred,
                     unread_files(settings.landing), empty_panel, gone)


# archives a night does not open: any in the public files' folders, others in the families'
ARCHIVE_NAMES = {".zip", ".gz", ".7z", ".rar", ".tar", ".tgz", ".bz2", ".xz"}


def unread_files(landing: Path) -> dict[str, str]:
    """The landing's files that nothing reads, each with what to do: dropped outside the
    folders the night reads, or in a format its readers do not take. A night says so instead of
    leaving them unseen."""
    if not landing.is_dir():
        return {}
    folders = [*SOURCE_FAMILIES, *(f"reference/{fmt.folder}" for fmt in PUBLIC_FORMATS)]
    unread = {}
    for path in sorted(landing.rglob("*")):
        name = path.relative_to(landing).as_posix()
        if name == PROFESSIONS_FILE:
            problems = read_profession_spellings(landing).problems
            if problems:
                unread[name] = ("lignes non appliquées, les autres le sont : "
                                + " ; ".join(problems))
            continue
        if not path.is_file() or not is_data(path) or name == CORRECTIONS_FILE:
            continue
        if not any(name.startswith(f"{folder}/") for folder in folders):
            unread[name] = ("hors des dossiers que la nuit lit : déplacez-le dans celui de sa "
                            f"famille ({', '.join(f'{folder}/' for folder in folders)})")
        elif not readable(path, archives=name.split("/", 1)[0] in SOURCE_FAMILIES):
            unread[name] = (f"format « {path.suffix or 'sans extension'} » non lu : "
                            + ("décompressez-le dans ce dossier"
                               if path.suffix.lower() in ARCHIVE_NAMES else
                               "enregistrez-le en CSV (séparateur ;) ou en classeur Excel "
                               "(.xlsx)"))
    return unread


def _closure(defs, graph, roots: set[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Roots, everything downstream, and the sibling keys of any multi-asset touched (it runs
    whole)."""
    keys = {dg.AssetKey(list(k)) for k in roots}
    while True:
        grown = set(dg.AssetSelection.assets(*keys).downstream().resolve(graph))
        for key in list(grown):
            grown |= set(defs.resolve_assets_def(key).keys)
        if grown == keys:
            return sorted(tuple(k.path) for k in keys)
        keys = grown


def launch_night(instance: dg.DagsterInstance, settings: Settings, **kwargs):
    """Plan and run one night in process (the CLI, and the tests through it)."""
    from pipelines.definitions import defs

    plan = plan_night(settings)
    run_id = kwargs.setdefault("run_id", str(uuid.uuid4()))
    start_build_file(settings, run_id)
    result = defs.resolve_job_def("nightly").execute_in_process(
        instance=instance, raise_on_error=False, tags=plan.tags,
        asset_selection=plan.asset_keys, **kwargs)
    return plan, result


def describe_plan(plan: NightPlan) -> str:
    """The plan in one or two French lines for the night's output."""
    if plan.kind == "complète":
        what = ("nuit complète (premier passage, code et modèles changés, ou "
                f"{PROFESSIONS_FILE} modifié)")
    elif plan.kind == "rien de nouveau":
        what = "rien de nouveau : publication seule"
    else:
        files = sum(len(names) for names in plan.pending.values())
        what = f"nuit incrémentale : {files} fichier(s) nouveau(x) ou corrigé(s)"
    if plan.empty_panel:
        what += ", aucun fichier d'activité"
    elif plan.months:
        what += f", mois d'activité {plan.months[0]} à {plan.months[-1]}" \
            if len(plan.months) > 1 else f", mois d'activité {plan.months[0]}"
    lines = [f"Plan : {what}."]
    for name, reason in sorted(plan.deferred.items()):
        lines.append(f"  reporté : {name} : {reason}")
    for name, reason in plan.unread.items():
        lines.append(f"  non lu : {name} : {reason}")
    for name, reason in plan.gone.items():
        lines.append(f"  retiré : {name} : {reason}")
    return "\n".join(lines)
