"""Monthly activity files of the synthetic professionals, in the landing layout."""

import numpy as np
import polars as pl

from pipelines.synth import calibration as cal
from pipelines.synth.professionals import Professionals
from pipelines.synth.scales import Scale

HEADER = (
    "periode", "id_professionnel", "profession", "code_commune_exercice", "structure",
    "annee_naissance", "etp", "nb_actes", "nb_consultations", "nb_visites", "nb_patients",
    "nb_patients_medecin_traitant", "nb_soins_non_programmes",
)
GP_ONLY = ("nb_patients_medecin_traitant", "nb_soins_non_programmes")

# A commune with at least this many professionals may host a maison de santé.
MSP_MIN_PROFESSIONALS = 3
MSP_COMMUNE_SHARE = 0.25
MSP_SIZE_RANGE = (3, 12)


class Roster:
    """The professionals in file order, their fixed attributes and their identity columns."""

    def __init__(self, rng: np.random.Generator, scale: Scale, pros: Professionals,
                 communes: pl.DataFrame):
        rpps = _rpps_numbers(rng, len(pros))
        order = np.lexsort((rpps, pros.profession, pros.commune))
        self.pros = pros.take(order)
        n = len(self.pros)
        profession = self.pros.profession
        self.productivity = rng.lognormal(0.0, 0.2, n)
        base_etp = rng.normal(cal.ETP_MEAN[profession], cal.ETP_SD)
        age = (scale.first_year * 12 + self.pros.start - self.pros.birth_month) / 12
        base_etp = np.where(age >= cal.REDUCED_ETP_AGE, base_etp * cal.REDUCED_ETP_FACTOR, base_etp)
        self.etp = np.clip(base_etp, *cal.ETP_BOUNDS)
        self.unplanned_share = rng.uniform(*cal.UNPLANNED_SHARE_RANGE, n)
        self.registered = np.round(
            cal.REGISTERED_PATIENTS_PER_FTE * self.etp * self.productivity
        ).astype(np.int64)
        codes = communes["commune_code"].to_numpy()[self.pros.commune]
        self.identity = pl.DataFrame({
            "id_professionnel": [str(x) for x in rpps[order]],
            "profession": pl.Series(np.array(cal.PROFESSION_LABELS)[profession]),
            "code_commune_exercice": codes,
            "structure": _structures(rng, self.pros.commune, communes["commune_name"]),
            "annee_naissance": self.pros.birth_month // 12,
        })

    def month(self, rng: np.random.Generator, scale: Scale, month: int) -> pl.DataFrame:
        active = np.flatnonzero((self.pros.start <= month) & (month < self.pros.end))
        profession = self.pros.profession[active]
        calendar_month = month % 12
        etp = np.clip(np.round(self.etp[active] + rng.normal(0, 0.03, len(active)), 2),
                      *cal.ETP_BOUNDS)
        expected = (cal.ACTS_PER_FTE_MONTH[profession] * etp * self.productivity[active]
                    * cal.SEASONALITY[profession, calendar_month])
        acts = rng.poisson(expected)
        visits = rng.binomial(acts, cal.VISIT_SHARE[profession])
        consultations = rng.binomial(
            acts - visits, cal.CONSULTATION_SHARE[profession] / (1 - cal.VISIT_SHARE[profession])
        )
        patients = rng.binomial(acts, 1 / cal.ACTS_PER_PATIENT[profession])
        registered = np.maximum(
            self.registered[active] + rng.integers(-15, 16, len(active)), 0
        )
        unplanned = rng.binomial(acts, self.unplanned_share[active])
        is_gp = pl.Series(profession == cal.GP)
        frame = self.identity[active].with_columns(
            periode=pl.lit(scale.period(month)),
            etp=etp,
            nb_actes=acts,
            nb_consultations=consultations,
            nb_visites=visits,
            nb_patients=patients,
            nb_patients_medecin_traitant=registered,
            nb_soins_non_programmes=unplanned,
        )
        return frame.with_columns(
            pl.when(is_gp).then(pl.col(c)).alias(c) for c in GP_ONLY
        ).select(HEADER)


def _rpps_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct 11-digit numbers starting with 10, scattered by an affine bijection modulo
    10**9 (a multiplier prime to 10 keeps them distinct)."""
    multiplier = int(rng.integers(10**7, 10**8)) * 10 + 7
    offset = int(rng.integers(0, 10**9))
    return 10 * 10**9 + (np.arange(n, dtype=np.int64) * multiplier + offset) % 10**9


def _structures(rng, commune: np.ndarray, names: pl.Series) -> pl.Series:
    """"MSP <commune>" for a few professionals of some communes with enough of them."""
    n_communes = len(names)
    headcount = np.bincount(commune, minlength=n_communes)
    has_msp = (headcount >= MSP_MIN_PROFESSIONALS) & (rng.random(n_communes) < MSP_COMMUNE_SHARE)
    msp_size = rng.integers(MSP_SIZE_RANGE[0], MSP_SIZE_RANGE[1] + 1, n_communes)
    key = rng.random(len(commune))
    order = np.lexsort((key, commune))
    rank = np.empty(len(commune), dtype=np.int64)
    group_start = np.searchsorted(commune[order], commune[order])
    rank[order] = np.arange(len(commune)) - group_start
    member = has_msp[commune] & (rank < msp_size[commune])
    labels = ("MSP " + names).gather(commune).alias("structure")
    return labels.scatter(np.flatnonzero(~member), None)
