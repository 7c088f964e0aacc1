"""Synthetic project census and follow-up criteria for the region and national benchmarks.

Shapes follow the seeds (002: census of maisons and pôles de santé by stage; 000 and 004:
follow-up criteria of a pôle roadmap and a contrat local de santé); every figure is made up.
"""

from pathlib import Path

import numpy as np
import polars as pl

from pipelines.settings import REFERENCE_DIR
from pipelines.synth.scales import Scale

FICTION_NOTE = "Projet fictif (données synthétiques)"
CENSUS_DATES = tuple(f"{2019 + i // 2}-{'01' if i % 2 == 0 else '07'}" for i in range(8))
STAGES = ("En réflexion", "En conception", "En cours d'opérationnalisation", "En fonctionnement")
OPERATING = len(STAGES) - 1
FIRST_STAGE_AT_FIRST_CENSUS = (0.30, 0.20, 0.15, 0.35)
FIRST_STAGE_LATER = (0.60, 0.25, 0.10, 0.05)
HALF_YEAR_PROGRESS = 0.35
STALLED_SHARE = 0.20
HALF_YEAR_ABANDON = 0.03

STRUCTURE_TYPES = ("MSP", "PSP", "CDS", "CPTS")
STRUCTURE_SHARES = (0.55, 0.12, 0.13, 0.20)
NAME_PREFIXES = ("Maison de santé", "Pôle de santé", "Centre de santé", "CPTS")
# Communes a project covers: (min, max) for each structure type.
COMMUNES_PER_PROJECT = ((1, 1), (2, 4), (1, 1), (3, 15))
NMR_MODULES = (None, "1,2", "2", "3")
NMR_SHARES = (0.85, 0.10, 0.03, 0.02)
FRAGILE_SHARE = 0.44
ZUS_SHARE_IN_TOWNS = 0.28
TOWN_POPULATION = 10_000

PROGRAMME_KINDS = ("CLS", "Feuille de route du pôle de santé", "Contrat CPTS")
FOLLOWUP_PERIODS = ("2021", "2022", "2023", "2024")
# (axe, action, critère, unité, yearly mean of the illustrative value)
CRITERIA = (
    ("Exercice coordonné", "Accompagner les exercices regroupés de premier recours",
     "Nombre de sites en projet ou opérationnels", "nombre", 3),
    ("Exercice coordonné", "Accompagner les exercices regroupés de premier recours",
     "Nombre d'installations de professionnels de santé", "nombre", 4),
    ("Exercice coordonné", "Accompagner les exercices regroupés de premier recours",
     "Nombre d'étudiants stagiaires", "nombre", 5),
    ("Exercice coordonné", "Accompagner les exercices regroupés de premier recours",
     "Nombre de départs remplacés", "nombre", 2),
    ("Élargir l'équipe pluridisciplinaire", "Développer l'accueil des remplaçants",
     "Nombre de remplaçants accueillis", "nombre", 6),
    ("Élargir l'équipe pluridisciplinaire", "Développer l'accueil des remplaçants",
     "Proportion de professionnels remplaçants intéressés par le projet", "%", 40),
    ("Élargir l'équipe pluridisciplinaire", "Développer l'accueil des étudiants en médecine",
     "Proportion d'étudiants intéressés par le projet", "%", 35),
    ("Expérimenter le travailler ensemble", "Évaluer les pratiques pluridisciplinaires",
     "Nombre de rencontres des groupes", "nombre", 8),
    ("Expérimenter le travailler ensemble", "Développer le travail en réseau",
     "Nombre de partenariats suivis par tableau de bord", "nombre", 3),
)
CRITERIA_PER_PROGRAMME = (4, 8)


def write_census(
    rng, scale: Scale, communes: pl.DataFrame, out_dir: Path,
    dates: tuple[str, ...] = CENSUS_DATES,
) -> list[Path]:
    """`census/recensement_<YYYY-MM>.csv`, one file per census date."""
    projects = _projects(rng, scale.projects, communes)
    stages = _stage_history(rng, scale.projects, len(dates))
    folder = out_dir / "census"
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for index, date in enumerate(dates):
        present = stages[:, index] >= 0
        stage = stages[present, index]
        operating = stage == OPERATING
        frame = projects.filter(pl.Series(present)).with_columns(
            date_recensement=pl.lit(date),
            stade=pl.Series(np.array(STAGES)[stage]),
            modules_nmr=pl.when(pl.Series(operating)).then(pl.col("modules_nmr")),
        )
        path = folder / f"recensement_{date}.csv"
        frame.select(
            "date_recensement", "region", "territoire", "nom_projet", "type_structure",
            "communes", "stade", "zone_fragile", "zus", "modules_nmr", "commentaire",
        ).write_csv(path, separator=";")
        files.append(path)
    return files


def _projects(rng, n: int, communes: pl.DataFrame) -> pl.DataFrame:
    """One row per project: where it is and what it is, fixed over the censuses."""
    population = communes["population"].to_numpy().astype(float)
    weights = population
    kind = rng.choice(len(STRUCTURE_TYPES), n, p=STRUCTURE_SHARES)
    main = np.empty(n, dtype=np.int64)
    for k in range(len(STRUCTURE_TYPES)):
        chosen = kind == k
        main[chosen] = rng.choice(
            len(communes), chosen.sum(), replace=False, p=weights / weights.sum()
        )
    codes = communes["commune_code"].to_numpy()
    names = communes["commune_name"].to_numpy()
    epci = communes["epci_code"].fill_null("").to_numpy()
    # a name two communes share (Souvigné in Charente and Deux-Sèvres) is written as its code,
    # so that the synthetic census resolves without a correction file
    by_name = (rng.random(n) < 0.3) & _unique_name(names)[main]
    covered = []
    for project in range(n):
        low, high = COMMUNES_PER_PROJECT[kind[project]]
        if high == 1:
            covered.append(names[main[project]] if by_name[project] else codes[main[project]])
            continue
        # a commune outside any EPCI (the islands of Yeu, Bréhat, Sein, Ouessant) has none
        neighbours = np.flatnonzero((epci == epci[main[project]]) & (epci != "")
                                    & (codes != codes[main[project]]))
        count = min(int(rng.integers(low, high + 1)) - 1, len(neighbours))
        others = rng.choice(neighbours, count, replace=False) if count else []
        covered.append(",".join([codes[main[project]], *sorted(codes[others])]))
    town = population[main] >= TOWN_POPULATION
    places = _place_names(communes)
    return pl.DataFrame({
        "region": places["region_name"].to_numpy()[main],
        "territoire": places["department_name"].to_numpy()[main],
        "nom_projet": [
            f"{NAME_PREFIXES[k]} {_of(names[m])}" for k, m in zip(kind, main, strict=True)
        ],
        "type_structure": np.array(STRUCTURE_TYPES)[kind],
        "communes": covered,
        "zone_fragile": np.where(rng.random(n) < FRAGILE_SHARE, "oui", "non"),
        "zus": np.where(town & (rng.random(n) < ZUS_SHARE_IN_TOWNS), "oui", "non"),
        "modules_nmr": pl.Series(NMR_MODULES, dtype=pl.String)
        .gather(rng.choice(len(NMR_MODULES), n, p=NMR_SHARES))
        .scatter(np.flatnonzero(kind > 1), None),
        "commentaire": FICTION_NOTE,
    })


def _unique_name(names: np.ndarray) -> np.ndarray:
    """Whether each name belongs to one commune only in the whole reference."""
    every = pl.read_parquet(REFERENCE_DIR / "communes.parquet")["commune_name"]
    shared = set(every.filter(every.is_duplicated()).to_list())
    return np.array([name not in shared for name in names], dtype=bool)


def _of(commune_name: str) -> str:
    """French "de" before a commune name: du Havre, des Abymes, d'Arpajon, de Lille."""
    if commune_name.startswith("Le "):
        return "du " + commune_name[3:]
    if commune_name.startswith("Les "):
        return "des " + commune_name[4:]
    if commune_name[0] in "AEIOUYHÂÉÈÊÎÏÔŒ":
        return "d'" + commune_name
    return "de " + commune_name


def _stage_history(rng, n: int, dates: int) -> np.ndarray:
    """Stage index per project and census date; -1 before it appears or once abandoned."""
    first = rng.choice(dates, n, p=[0.4] + [0.6 / (dates - 1)] * (dates - 1))
    stalled = rng.random(n) < STALLED_SHARE
    stage = np.where(
        first == 0,
        rng.choice(len(STAGES), n, p=FIRST_STAGE_AT_FIRST_CENSUS),
        rng.choice(len(STAGES), n, p=FIRST_STAGE_LATER),
    )
    abandoned = np.zeros(n, dtype=bool)
    history = np.full((n, dates), -1)
    for index in range(dates):
        ongoing = (first < index) & (stage < OPERATING)
        abandoned |= ongoing & (rng.random(n) < HALF_YEAR_ABANDON)
        moves = ongoing & ~stalled & (rng.random(n) < HALF_YEAR_PROGRESS)
        stage = stage + moves
        history[:, index] = np.where((first <= index) & ~abandoned, stage, -1)
    return history


def _place_names(communes: pl.DataFrame) -> pl.DataFrame:
    departments = pl.read_parquet(REFERENCE_DIR / "departements.parquet")
    regions = pl.read_parquet(REFERENCE_DIR / "regions.parquet")
    return (
        communes.select("department_code", "region_code")
        .join(departments.select("department_code", "department_name"), on="department_code",
              how="left", maintain_order="left")
        .join(regions, on="region_code", how="left", maintain_order="left")
    )


def write_followup(rng, scale: Scale, communes: pl.DataFrame, out_dir: Path) -> list[Path]:
    """`followup/criteres_programmes.csv`: every programme × criterion × year, illustrative."""
    epci_names = pl.read_parquet(REFERENCE_DIR / "epci.parquet").select("epci_code", "epci_name")
    territories = (
        communes.select("epci_code").drop_nulls().unique().sort("epci_code")
        .join(epci_names, on="epci_code", how="inner").sort("epci_code")["epci_name"].to_numpy()
    )
    pairs = rng.choice(len(territories) * len(PROGRAMME_KINDS), scale.programmes, replace=False)
    territory, kind = np.divmod(pairs, len(PROGRAMME_KINDS))
    rows = []
    for t, k in zip(territory, kind, strict=True):
        count = int(rng.integers(CRITERIA_PER_PROGRAMME[0], CRITERIA_PER_PROGRAMME[1] + 1))
        for c in sorted(rng.choice(len(CRITERIA), count, replace=False)):
            rows.append((f"{PROGRAMME_KINDS[k]} {territories[t]}", territories[t], c))
    programme, place, criterion = (list(x) for x in zip(*rows, strict=True))
    criterion = np.array(criterion)
    mean = np.array([c[4] for c in CRITERIA], dtype=float)[criterion]
    is_share = np.array([c[3] == "%" for c in CRITERIA])[criterion]
    target = np.where(is_share, np.minimum(mean + 20, 90), np.ceil(mean * 1.25))
    periods = len(FOLLOWUP_PERIODS)
    drift = np.arange(periods) * np.where(is_share, 4.0, 0.3)[:, None]
    values = np.where(
        is_share[:, None],
        np.clip(rng.normal(mean[:, None] + drift, 8.0), 0, 100).round(1),
        rng.poisson(mean[:, None] + drift),
    )
    frame = pl.DataFrame({
        "programme": np.repeat(programme, periods),
        "territoire": np.repeat(place, periods),
        "axe": np.repeat([CRITERIA[c][0] for c in criterion], periods),
        "action": np.repeat([CRITERIA[c][1] for c in criterion], periods),
        "critere": np.repeat([CRITERIA[c][2] for c in criterion], periods),
        "periode": np.tile(FOLLOWUP_PERIODS, len(criterion)),
        "valeur": _french_numbers(values.ravel(), np.repeat(is_share, periods)),
        "cible": _french_numbers(np.repeat(target, periods), np.repeat(is_share, periods)),
        "unite": np.repeat([CRITERIA[c][3] for c in criterion], periods),
        "nature_valeur": "illustrative",
        "commentaire": "Valeur fictive (données synthétiques)",
    })
    folder = out_dir / "followup"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "criteres_programmes.csv"
    frame.write_csv(path, separator=";")
    return [path]


def _french_numbers(values: np.ndarray, one_decimal: np.ndarray) -> list[str]:
    return [
        f"{v:.1f}".replace(".", ",") if decimal else str(int(v))
        for v, decimal in zip(values, one_decimal, strict=True)
    ]
