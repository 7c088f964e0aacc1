"""Write a synthetic landing folder: activity files for every scale, plus project census and
follow-up criteria files at region and national scale."""

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.synth.activity import Roster
from pipelines.synth.professionals import simulate
from pipelines.synth.projects import write_census, write_followup
from pipelines.synth.scales import get_scale

README_NAME = "LISEZMOI.txt"
ACTIVITY_README = """\
Données de démonstration : activité synthétique, ne décrit aucun professionnel réel.

Ces fichiers sont produits par le générateur du projet observatoire (pipelines/synth) à partir
de densités publiées par data.ameli.fr (2024) et d'ordres de grandeur illustratifs. Les
identifiants ressemblent à des numéros RPPS mais n'en sont pas.

Échelle : {scale}
Graine : {seed}
Mois : {first} à {last}
"""


@dataclass
class GenerationSummary:
    files: list[Path]  # every file written
    rows: int  # activity rows (professional × month)
    professionals: int  # distinct synthetic professionals over the period
    seconds: float


def generate_activity(
    out_dir: Path, scale: str = "demo", seed: int = 2026, months: int | None = None
) -> GenerationSummary:
    """Monthly `activity/activite_<YYYY-MM>.csv` files; `months` shortens the period."""
    started = time.perf_counter()
    definition = get_scale(scale)
    if months is not None:
        definition = dataclasses.replace(definition, months=months)
    rng = definition.rng(seed)
    communes = definition.communes()
    roster = Roster(rng, definition, simulate(rng, definition, communes), communes)

    folder = Path(out_dir) / "activity"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("activite_*.csv"):
        stale.unlink()
    files, rows = [], 0
    for month in range(definition.months):
        frame = roster.month(rng, definition, month)
        path = folder / f"activite_{definition.period(month)}.csv"
        _write_csv(frame, path, definition.encoding(month))
        files.append(path)
        rows += frame.height
    readme = folder / README_NAME
    readme.write_text(
        ACTIVITY_README.format(
            scale=scale, seed=seed, first=definition.period(0),
            last=definition.period(definition.months - 1),
        ),
        encoding="utf-8",
    )
    return GenerationSummary(
        files + [readme], rows, len(roster.pros), time.perf_counter() - started
    )


def generate_landing(
    out_dir: Path, scale: str, seed: int, months: int | None = None
) -> GenerationSummary:
    """Activity for every scale; census and follow-up too at region and national scale (the
    demo's census and follow-up files are made by hand from the seeds, in data/demo).
    `months` shortens or lengthens the activity period."""
    started = time.perf_counter()
    summary = generate_activity(out_dir, scale, seed, months)
    definition = get_scale(scale)
    if definition.projects:
        rng = definition.rng(seed + 1)
        communes = definition.communes()
        summary.files += write_census(rng, definition, communes, Path(out_dir))
        summary.files += write_followup(rng, definition, communes, Path(out_dir))
    summary.seconds = time.perf_counter() - started
    return summary


def _write_csv(frame: pl.DataFrame, path: Path, encoding: str) -> None:
    options = {"separator": ";", "decimal_comma": True, "float_precision": 2}
    if encoding == "utf-8":
        frame.write_csv(path, **options)
    else:
        path.write_bytes(frame.write_csv(**options).encode(encoding))
