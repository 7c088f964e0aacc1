"""Public reference files an observatory adds to its landing folder, one subfolder per format:

    reference/finess/      FINESS extraction (raw "etalab" extract or the geolocated CSV)
    reference/ameli/       data.ameli "effectifs et densités" CSV or the older CNAM XLS
    reference/rpps/        RPPS "extraction libre accès" (identifiers hashed as read)
    reference/laposte/     La Poste base officielle des codes postaux (commune centroids)
    reference/cartosante/  CartoSanté zoning export

Each format lands in one staging table, replaced whole every night (these files are complete
snapshots, not increments). A file its reader refuses is recorded in raw.loaded_files with the
French message and blocks publication like any other refused file.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from pipelines.ingest.digests import file_sha256
from pipelines.ingest.raw import ensure_raw_tables, readable_files
from pipelines.sources.public.ameli import read_ameli_densities, read_cnam_densities_xls
from pipelines.sources.public.cartosante import read_cartosante_export
from pipelines.sources.public.finess import read_finess_extract, read_finess_geolocated
from pipelines.sources.public.laposte import read_laposte_centroids
from pipelines.sources.public.rpps import read_rpps_activity
from pipelines.sources.reader import SourceFileError


@dataclass(frozen=True)
class PublicFormat:
    folder: str
    table: str
    read: Callable[[Path, bytes], pl.DataFrame]


def _finess(path: Path, _key: bytes) -> pl.DataFrame:
    # the raw extract opens with a manifest line "finess;etalab;…"; the reshaped one has a header
    first = path.open("rb").readline()
    if first.lower().startswith(b"finess;"):
        return read_finess_extract(path)
    return read_finess_geolocated(path)


def _ameli(path: Path, _key: bytes) -> pl.DataFrame:
    if path.suffix.lower() == ".xls":
        return read_cnam_densities_xls(path)
    return read_ameli_densities(path)


PUBLIC_FORMATS = (
    PublicFormat("finess", "structures", _finess),
    PublicFormat("ameli", "reference_densities", _ameli),
    PublicFormat("rpps", "rpps_activity", read_rpps_activity),
    PublicFormat("laposte", "commune_centroids", lambda p, _k: read_laposte_centroids(p)),
    PublicFormat("cartosante", "cartosante_zoning", lambda p, _k: read_cartosante_export(p)),
)


def public_files(landing: Path, folder: str) -> list[Path]:
    return readable_files(landing / "reference" / folder, archives=False)


def load_public_format(
    con: duckdb.DuckDBPyConnection, landing: Path, fmt: PublicFormat, load_id: str, key: bytes
) -> dict[str, int]:
    ensure_raw_tables(con)
    con.execute("CREATE SCHEMA IF NOT EXISTS staging")
    frames, refused = [], 0
    family = f"reference/{fmt.folder}"
    for path in public_files(landing, fmt.folder):
        name = path.relative_to(landing).as_posix()
        sha256 = file_sha256(path)
        try:
            frame = fmt.read(path, key)
        except SourceFileError as error:
            refused += 1
            _record(con, family, name, sha256, load_id, 0, "refusé", str(error))
            continue
        frames.append(frame.with_columns(pl.lit(name).alias("_source_file")))
        _record(con, family, name, sha256, load_id, frame.height, "chargé", None)
    table = f"staging.{fmt.table}"
    if frames:
        con.register("incoming", pl.concat(frames, how="diagonal_relaxed").to_arrow())
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM incoming")
        con.unregister("incoming")
    else:
        # an empty table keeps SQL that joins to it valid when no such file was supplied
        con.execute(f"CREATE OR REPLACE TABLE {table} (_source_file VARCHAR)")
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return {"files": len(frames), "refused": refused, "rows": rows}


def _record(con, family, name, sha256, load_id, rows, status, message) -> None:
    # snapshots are reloaded every night: keep one line per file, the latest
    con.execute("DELETE FROM raw.loaded_files WHERE family = ? AND source_file = ?",
                [family, name])
    con.execute(
        "INSERT INTO raw.loaded_files VALUES (?, ?, ?, ?, current_timestamp, ?, ?, ?)",
        [family, name, sha256, load_id, rows, status, message],
    )
