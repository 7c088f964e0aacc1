"""Who works where and when: the synthetic professionals of one scale over its period.

Vectorised over professionals; the only Python loops run over (département, profession)
groups and over months.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from pipelines.synth import calibration as cal
from pipelines.synth.scales import Scale


@dataclass
class Professionals:
    """One entry per professional; months are indices into the scale's period."""

    profession: np.ndarray  # index into calibration.PROFESSIONS
    commune: np.ndarray  # row of the scale's communes frame
    birth_month: np.ndarray  # absolute month: year * 12 + month - 1
    start: np.ndarray  # first active month
    end: np.ndarray  # first month no longer active (= months when still active at the end)

    def __len__(self) -> int:
        return len(self.profession)

    def take(self, order: np.ndarray) -> "Professionals":
        return Professionals(*(getattr(self, f)[order] for f in self.__dataclass_fields__))


def simulate(rng: np.random.Generator, scale: Scale, communes: pl.DataFrame) -> Professionals:
    """Stock at the start of the period, fresh installations, departures and replacements."""
    groups = _groups(scale, communes)
    first_month = scale.first_year * 12
    initial = _initial_stock(rng, groups, first_month)
    fresh = _fresh_installations(rng, groups, initial, first_month, scale.months)
    settled = _concat(initial, fresh)
    _simulate_departures(rng, settled, first_month, scale.months)
    replacements = _replacements(rng, settled, first_month, scale.months)
    _simulate_departures(rng, replacements, first_month, scale.months)
    return _concat(settled, replacements)


@dataclass
class _Group:
    profession: int
    communes: np.ndarray  # rows of the communes frame in the département
    weights: np.ndarray  # placement probabilities
    size: int  # professionals at the start of the period


def _groups(scale: Scale, communes: pl.DataFrame) -> list[_Group]:
    population = communes["population"].to_numpy().astype(float)
    departments = communes["department_code"].to_numpy()
    groups = []
    for department in scale.departments:
        rows = np.flatnonzero(departments == department)
        weights = population[rows] ** cal.PLACEMENT_EXPONENT
        densities = cal.density_per_10k(department) * scale.density_factor
        for profession in scale.professions:
            size = round(densities[profession] * population[rows].sum() / 10_000)
            groups.append(_Group(profession, rows, weights / weights.sum(), size))
    return groups


def _ages(rng: np.random.Generator, profession: np.ndarray) -> np.ndarray:
    """Age in years at the start of the period, drawn from the profession's pyramid."""
    cumulative = np.cumsum(cal.AGE_PYRAMIDS, axis=1)[profession]
    band = (rng.random(len(profession))[:, None] > cumulative).sum(axis=1)
    band = np.minimum(band, len(cal.AGE_BAND_STARTS) - 1)
    return cal.AGE_BAND_STARTS[band] + 5 * rng.random(len(profession))


def _place(rng: np.random.Generator, group: _Group, count: int) -> np.ndarray:
    return rng.choice(group.communes, size=count, p=group.weights)


def _initial_stock(rng, groups: list[_Group], first_month: int) -> Professionals:
    profession = np.repeat([g.profession for g in groups], [g.size for g in groups])
    commune = np.concatenate([_place(rng, g, g.size) for g in groups])
    birth = first_month - np.round(_ages(rng, profession) * 12).astype(np.int64)
    zeros = np.zeros(len(profession), dtype=np.int64)
    return Professionals(profession, commune, birth, zeros, zeros.copy())


def _yearly_departure_rate(profession: np.ndarray, age: np.ndarray) -> np.ndarray:
    return np.where(
        age >= 67,
        cal.DEPARTURE_RATE_FROM_67,
        np.where(age >= 62, cal.DEPARTURE_RATE_62_66, cal.DEPARTURE_RATE_BEFORE_62[profession]),
    )


def _fresh_installations(rng, groups, initial: Professionals, first_month: int, months: int):
    """Installations that do not replace a departure, as a monthly Poisson flow per group.

    Sized so that fresh installations plus replacements come to INSTALLATIONS_PER_DEPARTURE
    times the departures expected from the starting stock.
    """
    age = (first_month - initial.birth_month) / 12
    yearly_rate = _yearly_departure_rate(initial.profession, age)
    expected = np.bincount(initial.profession, yearly_rate, minlength=len(cal.PROFESSIONS))
    stock = np.bincount(initial.profession, minlength=len(cal.PROFESSIONS))
    mean_rate = expected / np.maximum(stock, 1)
    fresh_per_departure = cal.INSTALLATIONS_PER_DEPARTURE - cal.REPLACEMENT_SHARE
    monthly = np.array(
        [g.size * mean_rate[g.profession] * fresh_per_departure[g.profession] / 12 for g in groups]
    )
    counts = rng.poisson(np.repeat(monthly[:, None], months - 1, axis=1))
    totals = counts.sum(axis=1)
    profession = np.repeat([g.profession for g in groups], totals)
    commune = np.concatenate([_place(rng, g, n) for g, n in zip(groups, totals, strict=True)])
    start = np.repeat(np.tile(np.arange(1, months), len(groups)), counts.ravel())
    return _newcomers(rng, profession, commune, start, first_month, months)


def _newcomers(rng, profession, commune, start, first_month: int, months: int):
    low, high = cal.INSTALLATION_AGES[profession].T
    age_at_installation = low + (high - low) * rng.random(len(profession))
    birth = first_month + start - np.round(age_at_installation * 12).astype(np.int64)
    end = np.full(len(profession), months, dtype=np.int64)
    return Professionals(profession, commune, birth, start.astype(np.int64), end)


def _simulate_departures(rng, pros: Professionals, first_month: int, months: int) -> None:
    """Set `end`: each month an active professional leaves with an age-dependent hazard."""
    pros.end[:] = months
    for month in range(1, months):
        age = (first_month + month - pros.birth_month) / 12
        monthly_hazard = 1 - (1 - _yearly_departure_rate(pros.profession, age)) ** (1 / 12)
        leaves = (rng.random(len(pros)) < monthly_hazard) & (pros.start < month)
        pros.end[leaves & (pros.end == months)] = month


def _replacements(rng, pros: Professionals, first_month: int, months: int) -> Professionals:
    """A share of departures is followed, within 12 months, by the same profession in the
    same commune."""
    departed = np.flatnonzero(pros.end < months)
    replaced = departed[rng.random(len(departed)) < cal.REPLACEMENT_SHARE]
    start = pros.end[replaced] + rng.integers(0, 12, len(replaced))
    kept = start < months
    return _newcomers(
        rng, pros.profession[replaced][kept], pros.commune[replaced][kept], start[kept],
        first_month, months,
    )


def _concat(*parts: Professionals) -> Professionals:
    fields = Professionals.__dataclass_fields__
    return Professionals(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))
