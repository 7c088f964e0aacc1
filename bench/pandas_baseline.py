"""The headline indicators as an analyst computes them today with pandas:
python -m bench.pandas_baseline LANDING OUT_FOLDER

Idiomatic, not made slow: pyarrow CSV engine, only the needed columns, codes read as strings,
one groupby per territory level. It writes the same three marts as bench/floor.sql, as Parquet.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.settings import REFERENCE_DIR

Z95 = 1.959964
ACTIVITY_COLUMNS = ["periode", "id_professionnel", "profession", "code_commune_exercice"]


def read_csv(path: Path, **options) -> pd.DataFrame:
    """Exports come in UTF-8 or Windows-1252."""
    options = {"sep": ";", "engine": "pyarrow", **options}
    try:
        return pd.read_csv(path, **options)
    except ValueError:  # pyarrow's "invalid UTF8" (ArrowInvalid) or a UnicodeDecodeError
        return pd.read_csv(path, encoding="cp1252", **options)


def read_activity(folder: Path) -> pd.DataFrame:
    months = [
        read_csv(path, usecols=ACTIVITY_COLUMNS, dtype="string[pyarrow]")
        for path in sorted(folder.glob("*.csv"))
    ]
    activity = pd.concat(months, ignore_index=True)
    activity["year"] = activity["periode"].str[:4].astype(int)
    return activity


def densities(activity: pd.DataFrame, communes: pd.DataFrame) -> pd.DataFrame:
    months_per_year = activity.groupby("year")["periode"].nunique()
    complete = months_per_year[months_per_year == 12].index
    active = activity.loc[activity["year"].isin(complete),
                          ["id_professionnel", "profession", "code_commune_exercice", "year"]]
    active = active.drop_duplicates().merge(
        communes, left_on="code_commune_exercice", right_on="commune_code", how="inner"
    )
    covered = set(active["department_code"])
    levels = {"epci": "epci_code", "departement": "department_code", "region": "region_code"}
    professions = sorted(active["profession"].unique())
    tables = []
    for level, column in levels.items():
        population = communes.groupby(column).agg(
            population=("population", "sum"),
            covered=("department_code", lambda d: d.isin(covered).all()),
        )
        population = population[population["covered"]]["population"]
        by_profession = active.groupby([column, "year", "profession"])["id_professionnel"].nunique()
        overall = active.groupby([column, "year"])["id_professionnel"].nunique()
        overall = pd.concat({"ensemble": overall}, names=["profession"]).reorder_levels(
            [column, "year", "profession"])
        counts = pd.concat([by_profession, overall]).rename("professionals")
        grid = pd.MultiIndex.from_product(
            [population.index, sorted(complete), professions + ["ensemble"]],
            names=[column, "year", "profession"],
        )
        frame = counts.reindex(grid, fill_value=0).reset_index()
        frame["population"] = frame[column].map(population)
        frame = frame.rename(columns={column: "geo_code", "profession": "category"})
        frame.insert(0, "geo_level", level)
        tables.append(frame)
    result = pd.concat(tables, ignore_index=True)
    x, population = result["professionals"].astype(float), result["population"]
    result["rate"] = 1e4 * x / population
    with np.errstate(divide="ignore", invalid="ignore"):
        low = x * (1 - 1 / (9 * x) - Z95 / (3 * np.sqrt(x))) ** 3
    result["ci_low"] = 1e4 * np.where(x > 0, np.maximum(low, 0), 0) / population
    result["ci_high"] = 1e4 * (x + 1) * (1 - 1 / (9 * (x + 1)) + Z95 / (3 * np.sqrt(x + 1))) ** 3 \
        / population
    parents = pd.concat([
        communes.dropna(subset=["epci_code"]).sort_values("population")
        .groupby("epci_code").tail(1)
        .assign(geo_level="epci", parent_level="departement")
        .rename(columns={"epci_code": "geo_code", "department_code": "parent_code"}),
        communes.drop_duplicates("department_code")
        .assign(geo_level="departement", parent_level="region")
        .rename(columns={"department_code": "geo_code", "region_code": "parent_code"}),
    ])[["geo_level", "geo_code", "parent_level", "parent_code"]]
    reference = result[["geo_level", "geo_code", "year", "category", "rate"]].rename(columns={
        "geo_level": "parent_level", "geo_code": "parent_code", "rate": "reference_value"})
    return (result.merge(parents, on=["geo_level", "geo_code"], how="left")
            .merge(reference, on=["parent_level", "parent_code", "year", "category"], how="left")
            .drop(columns=["parent_level", "parent_code"]))


def census_counts(folder: Path) -> pd.DataFrame:
    census = pd.concat([read_csv(path, dtype="string[pyarrow]")
                        for path in sorted(folder.glob("*.csv"))])
    census = census.rename(columns={"date_recensement": "period", "territoire": "territory",
                                    "stade": "stage"})
    keys = ["region", "period"]
    parts = [
        census.groupby(keys + extra).size().rename("projects").reset_index()
        for extra in (["territory", "stage"], ["territory"], ["stage"], [])
    ]
    return pd.concat(parts, ignore_index=True).fillna({"stage": "ensemble"})


def followup_achievement(folder: Path) -> pd.DataFrame:
    followup = pd.concat([read_csv(path, dtype="string[pyarrow]")
                          for path in sorted(folder.glob("*.csv"))])
    followup["value"] = followup["valeur"].str.replace(",", ".").astype(float)
    followup["target"] = followup["cible"].str.replace(",", ".").astype(float)
    followup = followup[followup["target"] > 0]
    followup["achievement_rate"] = 100 * followup["value"] / followup["target"]
    return followup.rename(columns={"critere": "criterion", "periode": "period"})[
        ["programme", "criterion", "period", "value", "target", "achievement_rate"]]


def run(landing: Path, out: Path) -> dict:
    started = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    communes = pd.read_parquet(
        REFERENCE_DIR / "communes.parquet",
        columns=["commune_code", "department_code", "region_code", "epci_code", "population"],
    )
    marts = {
        "densities": densities(read_activity(landing / "activity"), communes),
        "census_counts": census_counts(landing / "census"),
        "followup_achievement": followup_achievement(landing / "followup"),
    }
    for name, frame in marts.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    return {"seconds": time.perf_counter() - started,
            "rows": {name: len(frame) for name, frame in marts.items()}}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2]))))
