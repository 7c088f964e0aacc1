"""Rebuild data/reference/*.parquet from the npm package @etalab/decoupage-administratif.

    python -m pipelines.geography.build_reference [--version 6.0.0]

`npm pack` fetches the package tarball through npm's configured registry (no host is named
here); the JSON it ships (COG of the package's year, Licence Ouverte) is flattened into five
small Parquet files that the night loads into `ref.*`.
"""

import argparse
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

import polars as pl

from pipelines.settings import REFERENCE_DIR

PACKAGE = "@etalab/decoupage-administratif"
DEFAULT_VERSION = "6.0.0"


def fetch_package(version: str, workdir: Path) -> Path:
    subprocess.run(
        ["npm", "pack", f"{PACKAGE}@{version}", "--silent"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )
    tarball = next(workdir.glob("*.tgz"))
    with tarfile.open(tarball) as tar:
        tar.extractall(workdir, filter="data")
    return workdir / "package" / "data"


def build_frames(data_dir: Path) -> dict[str, pl.DataFrame]:
    communes = json.loads((data_dir / "communes.json").read_text())
    epcis = json.loads((data_dir / "epci.json").read_text())
    departements = json.loads((data_dir / "departements.json").read_text())
    regions = json.loads((data_dir / "regions.json").read_text())

    epci_of = {m["code"]: e["code"] for e in epcis for m in e["membres"]}
    current = [c for c in communes if c["type"] == "commune-actuelle"]
    attached = [c for c in communes if c["type"] != "commune-actuelle"]

    frames = {
        "communes": pl.DataFrame(
            {
                "commune_code": [c["code"] for c in current],
                "commune_name": [c["nom"] for c in current],
                "department_code": [c["departement"] for c in current],
                "region_code": [c["region"] for c in current],
                "epci_code": [epci_of.get(c["code"]) for c in current],
                "population": [c.get("population") for c in current],
                "postal_codes": [",".join(c.get("codesPostaux", [])) for c in current],
            },
            schema_overrides={"population": pl.Int64},
        ),
        # Communes déléguées and associées keep the name people still write (Lomme, Hellemmes);
        # the arrondissements of Paris, Lyon and Marseille are attached the same way.
        "attached_communes": pl.DataFrame(
            {
                "commune_code": [c["code"] for c in attached],
                "commune_name": [c["nom"] for c in attached],
                "commune_type": [c["type"] for c in attached],
                "parent_commune_code": [c.get("chefLieu") or c.get("commune") for c in attached],
            }
        ),
        "former_communes": pl.DataFrame(
            {
                "former_code": [old for c in current for old in c.get("anciensCodes", [])],
                "current_code": [c["code"] for c in current for _ in c.get("anciensCodes", [])],
            },
            schema={"former_code": pl.String, "current_code": pl.String},
        ),
        "epci": pl.DataFrame(
            {
                "epci_code": [e["code"] for e in epcis],
                "epci_name": [e["nom"] for e in epcis],
                "epci_type": [e["type"] for e in epcis],
                "population": [e.get("populationMunicipale") for e in epcis],
            },
            schema_overrides={"population": pl.Int64},
        ),
        "departements": pl.DataFrame(
            {
                "department_code": [d["code"] for d in departements],
                "department_name": [d["nom"] for d in departements],
                "region_code": [d["region"] for d in departements],
            }
        ),
        "regions": pl.DataFrame(
            {
                "region_code": [r["code"] for r in regions],
                "region_name": [r["nom"] for r in regions],
            }
        ),
    }
    return frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        frames = build_frames(fetch_package(args.version, Path(tmp)))
    for name, frame in frames.items():
        frame.sort(frame.columns[0]).write_parquet(
            args.out / f"{name}.parquet", compression="zstd", compression_level=19
        )
        print(f"{name}: {frame.height} lignes")
    (args.out / "VERSION").write_text(f"{PACKAGE}@{args.version}\n")


if __name__ == "__main__":
    main()
