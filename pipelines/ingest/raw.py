"""Landing files → raw.<family>: text exactly as read, with lineage, each file loaded once.

A file is known by its path under the landing folder and its sha256. The same content is
skipped; new content under a known path supersedes the rows of the previous version (an
analyst re-sending a corrected file); a file the reader refuses is recorded in
raw.loaded_files with the French message and its rows never enter raw.

A text file without quotes (every monthly activity file) is cut into lines in polars, then
split and inserted by DuckDB in one statement, by the reader's rules (`PlainText`): splitting,
trimming and handing a national monthly file to DuckDB as a polars frame took 0.8 s of CPU,
against about 0.45 s now; writing its rows is the rest (about 0.5 s, in DuckDB either way).
Spreadsheets and quoted text are read whole by the reader.
"""

import gc
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.ingest.digests import file_sha256
from pipelines.ingest.pseudonymise import HASH_FLOOR, pseudonymise
from pipelines.sources.contracts import CONTRACTS
from pipelines.sources.reader import (
    PERIOD_VALUE,
    SOURCE_COLUMN,
    SOURCE_ROW,
    WHITESPACE,
    PlainText,
    SourceFileError,
    is_compressed_text,
    open_source_file,
)

READABLE_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".xls"}
# Notes that travel with the files (what they are, their licence) are for people, not the night.
NOTE_NAMES = ("lisezmoi", "readme", "source")
PSEUDONYMISED = {"activity": "id_professionnel"}
# the families whose files may have a column per period, whose rows keep that column's header
WIDE_FAMILIES = {family for family, contract in CONTRACTS.items()
                 if set(PERIOD_VALUE) <= set(contract.names)}


@dataclass
class FamilyLoad:
    family: str
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    superseded: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    deferred: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    lines: int = 0  # of the files: a follow-up with a column per period has a row per period
    bad_rows: int = 0


def raw_columns(family: str) -> list[str]:
    columns = []
    for column in CONTRACTS[family].columns:
        if column.name == PSEUDONYMISED.get(family):
            columns += [f"{column.name}_hmac", f"{column.name}_format"]
        else:
            columns.append(column.name)
    return columns


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    con.execute("CREATE SCHEMA IF NOT EXISTS audit")
    con.execute(
        """CREATE TABLE IF NOT EXISTS raw.loaded_files (
            family VARCHAR, source_file VARCHAR, sha256 VARCHAR, load_id VARCHAR,
            loaded_at TIMESTAMP, row_count BIGINT, status VARCHAR, message VARCHAR)"""
    )
    con.execute(
        """CREATE TABLE IF NOT EXISTS raw.malformed_lines (
            family VARCHAR, source_file VARCHAR, sha256 VARCHAR, source_row BIGINT,
            reason VARCHAR, load_id VARCHAR)"""
    )
    for family in CONTRACTS:
        columns = ", ".join(f'"{c}" {"BIGINT" if c.endswith("_hmac") else "VARCHAR"}'
                            for c in raw_columns(family))
        con.execute(
            f"""CREATE TABLE IF NOT EXISTS raw.{family} ({columns}, _source_file VARCHAR,
                _source_sha256 VARCHAR, _source_row BIGINT, _load_id VARCHAR)"""
        )
        if family in WIDE_FAMILIES:  # a warehouse of before 7 December 2026 lacks it
            con.execute(f"ALTER TABLE raw.{family} ADD COLUMN IF NOT EXISTS {SOURCE_COLUMN} "
                        "VARCHAR")
    _hashes_as_integers(con)


def _hashes_as_integers(con: duckdb.DuckDBPyConnection) -> None:
    """Turn the hexadecimal HMACs a warehouse made before the hashes were integers into the
    integers the reader now makes of the same identifiers (pipelines/ingest/pseudonymise.py):
    the files already loaded are not read again, and their professionals keep their months."""
    for family, column in PSEUDONYMISED.items():
        hashed = f"{column}_hmac"
        [(kind,)] = con.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_schema = 'raw' "
            "AND table_name = ? AND column_name = ?", [family, hashed]).fetchall()
        if kind == "VARCHAR":
            con.execute(
                f"""ALTER TABLE raw.{family} ALTER COLUMN "{hashed}" SET DATA TYPE BIGINT
                    USING ((('0x' || left("{hashed}", 16))::UBIGINT >> 2)
                           | {HASH_FLOOR})::BIGINT""")


def is_data(path: Path) -> bool:
    """Not a note, a hidden file, or the lock file an office suite writes beside a workbook it
    has open (~$recensement.xlsx, which would be refused as unreadable and block the night)."""
    return not (path.name.lower().startswith(NOTE_NAMES) or path.name.startswith((".", "~$")))


def readable(path: Path, archives: bool = True) -> bool:
    """A data file in a format the readers take; `archives`: a compressed text file too
    (activite_2024-03.csv.gz, a .zip), which the families' reader opens and the public
    formats' readers do not."""
    return (path.is_file() and is_data(path)
            and (path.suffix.lower() in READABLE_SUFFIXES
                 or (archives and is_compressed_text(path))))


def readable_files(folder: Path, archives: bool = True) -> list[Path]:
    return (sorted(p for p in folder.rglob("*") if readable(p, archives))
            if folder.is_dir() else [])


def landing_files(landing: Path, family: str) -> list[Path]:
    return readable_files(landing / family)


def load_family(
    con: duckdb.DuckDBPyConnection, landing: Path, family: str, load_id: str, key: bytes,
    defer: Callable[[Path], str | None] | None = None,
) -> FamilyLoad:
    """`defer` says why a new file must wait for another night (still being written, or
    outside the months this night refreshes); it is recorded as 'différé' and not loaded."""
    ensure_raw_tables(con)
    result = FamilyLoad(family)
    known = dict(
        con.execute(
            """SELECT source_file, sha256 FROM raw.loaded_files
               WHERE family = ? AND status = 'chargé'""",
            [family],
        ).fetchall()
    )
    name_of = {sha256: name for name, sha256 in known.items()}
    duplicates = {
        row[0] for row in con.execute(
            "SELECT source_file FROM raw.loaded_files WHERE family = ? AND status = 'doublon'",
            [family],
        ).fetchall()
    }

    def new_files() -> Iterator[tuple[str, Path]]:
        for path in landing_files(landing, family):
            name = path.relative_to(landing).as_posix()
            sha256 = file_sha256(path)
            if sha256 in name_of:
                result.skipped.append(name)
                # the same bytes under another name (a file sent twice) are not loaded twice
                if name_of[sha256] != name and name not in duplicates:
                    _record(con, family, name, sha256, load_id, 0, "doublon",
                            f"contenu identique à {name_of[sha256]}, déjà chargé")
                continue
            reason = defer(path) if defer else None
            if reason:
                result.deferred[name] = reason
                _record(con, family, name, sha256, load_id, 0, "différé", reason)
                continue
            yield name, path

    for name, incoming in _read_ahead(new_files(), family, key):
        if isinstance(incoming, SourceFileError):
            result.refused[name] = str(incoming)
            _record(con, family, name, None, load_id, 0, "refusé", str(incoming))
            continue
        # one transaction per file: a step retried after an IO error never finds half a file
        con.execute("BEGIN TRANSACTION")
        if name in known:
            con.execute(f"DELETE FROM raw.{family} WHERE _source_file = ?", [name])
            con.execute("DELETE FROM raw.malformed_lines WHERE source_file = ?", [name])
            con.execute(
                """UPDATE raw.loaded_files SET status = 'remplacé'
                   WHERE family = ? AND source_file = ? AND status = 'chargé'""",
                [family, name],
            )
            result.superseded.append(name)
        # as string views: the default conversion to Arrow copies every string
        con.register("incoming", incoming.relation.to_arrow(compat_level=pl.CompatLevel.newest()))
        rows = con.execute(incoming.statement, {
            "name": name, "sha256": incoming.sha256, "load_id": load_id}).fetchone()[0]
        con.unregister("incoming")
        for line, reason in incoming.bad_rows:
            con.execute(
                "INSERT INTO raw.malformed_lines VALUES (?, ?, ?, ?, ?, ?)",
                [family, name, incoming.sha256, line, reason, load_id],
            )
        result.bad_rows += len(incoming.bad_rows)
        _record(con, family, name, incoming.sha256, load_id, rows, "chargé", None)
        con.execute("COMMIT")
        result.loaded.append(name)
        result.rows += rows
        result.lines += rows if incoming.lines is None else incoming.lines
        # Measured on the national landing: without a collection here the step's peak memory
        # is 3.1 GB against 2.1 GB with it. The memory freed is native (the Python heap stays
        # small, malloc_trim does not help), held until the cyclic collector runs; its young
        # generation suffices.
        gc.collect(1)
    return result


@dataclass
class _Incoming:
    """A file read and ready to insert: `statement` inserts `relation`, registered as
    `incoming`, into raw.<family> with the lineage parameters $name, $sha256 and $load_id."""

    sha256: str
    relation: pl.DataFrame
    statement: str
    bad_rows: list[tuple[int, str]]
    lines: int | None = None  # the lines the rows come from, when not one row each


def _read_ahead(files: Iterable[tuple[str, Path]], family: str,
                key: bytes) -> Iterator[tuple[str, _Incoming | SourceFileError]]:
    """Each file read, or why the reader refuses it. A worker reads, cuts and hashes the next
    file in polars while DuckDB inserts this one (both leave the interpreter lock): on the
    shared 2-core box, 12 to 17 % off the load of 8 national files at a load average of 1.3,
    nothing at 3, when no core is left to overlap on."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        reads: deque[tuple[str, Future[_Incoming]]] = deque()
        for name, path in files:
            reads.append((name, worker.submit(_read, path, family, key)))
            if len(reads) == 2:
                yield _outcome(*reads.popleft())
        while reads:
            yield _outcome(*reads.popleft())


def _outcome(name: str, read: Future[_Incoming]) -> tuple[str, _Incoming | SourceFileError]:
    try:
        return name, read.result()
    except SourceFileError as error:
        return name, error


def _read(path: Path, family: str, key: bytes) -> _Incoming:
    source = open_source_file(path, family)
    if isinstance(source, PlainText):
        return _plain_incoming(source, family, key)
    frame = source.frame
    if family in PSEUDONYMISED:
        frame = pseudonymise(frame, PSEUDONYMISED[family], key)
    return _Incoming(source.sha256, frame, _insert_sql(family, "* EXCLUDE (_source_row)",
                                                        "incoming"), source.bad_rows,
                     frame[SOURCE_ROW].n_unique())


def _plain_incoming(source: PlainText, family: str, key: bytes) -> _Incoming:
    """The lines of `source`, split and inserted by DuckDB the way `PlainText.table` splits
    them in polars. Identifiers are hashed and joined in polars (0.1 s for a national monthly
    file; joining them in DuckDB added 0.25 s to the insert): DuckDB reads them only inside the
    lines, registered from this process's memory, and never writes them."""
    # A value starting or ending with white space sits next to a separator or a line end.
    # DuckDB's trim() with a set of characters takes about 0.1 s per column of a national
    # monthly file, so it is kept for those lines.
    space = _regex_class(WHITESPACE.replace(source.separator, ""))  # a tab is no value's
    beside = _regex_class(source.separator)
    lines = source.lines.with_columns(padded=pl.col("line").str.contains(
        f"^{space}|{space}$|{space}{beside}|{beside}{space}"))
    selected = [f'{_value_sql(index)} AS "{column}"' for column, index in source.positions.items()
                if column != PSEUDONYMISED.get(family)]
    if family in PSEUDONYMISED:
        column = PSEUDONYMISED[family]
        lines = pseudonymise(lines.with_columns(source.value(column)), column, key)
        selected += [f'"{column}_hmac"', f'"{column}_format"']
    return _Incoming(source.sha256, lines,
                     _insert_sql(family, ", ".join(selected), f"({_rows_sql(source)})"),
                     source.bad_rows())


def _insert_sql(family: str, values: str, rows: str) -> str:
    # a column the file lacks stays null
    return f"""INSERT INTO raw.{family} BY NAME
               SELECT {values}, $name AS _source_file, $sha256 AS _source_sha256,
                      _source_row::BIGINT AS _source_row, $load_id AS _load_id
               FROM {rows}"""


def _rows_sql(source: PlainText) -> str:
    """The lines to load, split, as `_split_plain` chooses them: not blank (separators and
    white space only), with as many fields as the header or more when those beyond it are
    blank."""
    separator = source.separator
    low, high = source.field_counts
    return f"""
        SELECT * FROM (
            SELECT *, string_split(line, '{separator}') AS fields FROM incoming
            WHERE NOT regexp_full_match(line, '{_regex_class(WHITESPACE + separator)}*'))
        WHERE len(fields) BETWEEN {low} AND {high}
           OR (len(fields) > {high}
               AND regexp_full_match(array_to_string(fields[{high + 1}:], ''),
                                     '{_regex_class(WHITESPACE)}*'))"""


def _value_sql(index: int) -> str:
    field = f"fields[{index + 1}]"
    return f"nullif(CASE WHEN padded THEN trim({field}, '{WHITESPACE}') ELSE {field} END, '')"


def _regex_class(characters: str) -> str:
    """A character class that DuckDB's RE2 and polars' regex both read."""
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in characters) + "]"


def _record(con, family, name, sha256, load_id, rows, status, message) -> None:
    con.execute(
        "INSERT INTO raw.loaded_files VALUES (?, ?, ?, ?, current_timestamp, ?, ?, ?)",
        [family, name, sha256, load_id, rows, status, message],
    )
