"""Run bench/floor.sql on a landing folder: python -m bench.floor LANDING OUT.duckdb

DuckDB reads only UTF-8 and Latin-1 CSV here (its encodings extension cannot be installed), and
Windows-1252 files use bytes Latin-1 does not have (œ, ’), so the files that are not UTF-8 are
transcoded first into a folder beside the output. That is part of the floor's time: any script
reading these files has to do it.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from pipelines.settings import REFERENCE_DIR

SCRIPT = Path(__file__).with_name("floor.sql")


def utf8_files(folder: Path, scratch: Path) -> tuple[list[str], int]:
    """The folder's CSV files as UTF-8 paths, and how many had to be transcoded."""
    paths, transcoded = [], 0
    for path in sorted(folder.glob("*.csv")):
        data = path.read_bytes()
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            path = scratch / path.name
            path.write_bytes(data.decode("cp1252").encode("utf-8"))
            transcoded += 1
        paths.append(str(path))
    return paths, transcoded


def run(landing: Path, out: Path) -> dict:
    started = time.perf_counter()
    out.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as scratch:
        files, transcoded = {}, 0
        for family in ("activity", "census", "followup"):
            files[family], count = utf8_files(landing / family, Path(scratch))
            transcoded += count
        transcoding = time.perf_counter() - started
        con = duckdb.connect(str(out))
        for family, paths in files.items():
            con.execute(f"SET VARIABLE {family}_files = ?", [paths])
        con.execute("SET VARIABLE reference = ?", [str(REFERENCE_DIR)])
        con.execute(SCRIPT.read_text(encoding="utf-8"))
        rows = {
            table: con.execute(f"SELECT count(*) FROM marts.{table}").fetchone()[0]
            for table in ("densities", "census_counts", "followup_achievement")
        }
        con.close()
    return {"seconds": time.perf_counter() - started, "transcoding_seconds": transcoding,
            "files_transcoded": transcoded, "rows": rows}


if __name__ == "__main__":
    print(json.dumps(run(Path(sys.argv[1]), Path(sys.argv[2]))))
