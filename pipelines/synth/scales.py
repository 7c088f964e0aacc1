"""The four sizes of synthetic landing, from a unit-test fixture to the national benchmark."""

import zlib
from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.settings import REFERENCE_DIR
from pipelines.synth.calibration import AMELI_2024, PROFESSIONS

ALL_PROFESSIONS = tuple(range(len(PROFESSIONS)))


@dataclass(frozen=True)
class Scale:
    name: str
    departments: tuple[str, ...]
    professions: tuple[int, ...]
    first_year: int
    months: int
    density_factor: float = 1.0
    windows_1252_every: int = 0  # every n-th month's file is written in Windows-1252 (0: never)
    projects: int = 0
    programmes: int = 0

    def period(self, month_index: int) -> str:
        year, month = divmod(month_index, 12)
        return f"{self.first_year + year}-{month + 1:02d}"

    def encoding(self, month_index: int) -> str:
        every = self.windows_1252_every
        return "cp1252" if every and (month_index + 1) % every == 0 else "utf-8"

    def rng(self, seed: int) -> np.random.Generator:
        return np.random.default_rng([seed, zlib.crc32(self.name.encode())])

    def communes(self) -> pl.DataFrame:
        """The scale's current communes, sorted by code, with their département and region."""
        return (
            pl.read_parquet(REFERENCE_DIR / "communes.parquet")
            .filter(pl.col("department_code").is_in(self.departments))
            .sort("commune_code")
        )


# Départements of metropolitan France and the five DROM: the overseas collectivities are
# outside the health-insurance figures ameli publishes, so the national scale leaves them out.
_EVERY_DEPARTMENT = tuple(code for code in AMELI_2024 if code != "FR")
_HAUTS_DE_FRANCE = ("02", "59", "60", "62", "80")

SCALE_DEFINITIONS = {
    "tiny": Scale("tiny", ("16", "47"), (0, 1), 2023, 24),
    "demo": Scale("demo", ("16", "47", "59", "62"), ALL_PROFESSIONS, 2023, 24),
    "region": Scale(
        "region", _HAUTS_DE_FRANCE, ALL_PROFESSIONS, 2022, 36, projects=150, programmes=25
    ),
    # The five professions' ameli 2024 headcounts add up to about 278,000 liberal
    # professionals; a factor of 0.9 makes the national benchmark land near 250,000 active
    # professionals a month (about 9 M rows over 36 months).
    "national": Scale(
        "national", _EVERY_DEPARTMENT, ALL_PROFESSIONS, 2022, 36,
        density_factor=0.9, windows_1252_every=3, projects=2500, programmes=400,
    ),
}
SCALES = tuple(SCALE_DEFINITIONS)


def get_scale(name: str) -> Scale:
    if name not in SCALE_DEFINITIONS:
        raise ValueError(f"Unknown scale {name!r}; expected one of {', '.join(SCALES)}")
    return SCALE_DEFINITIONS[name]
