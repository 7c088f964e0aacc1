"""The one reader for every file an analyst drops in the landing folder (CSV or spreadsheet; a
CSV may come compressed, with gzip or alone in a zip).

It finds the header (title rows may sit above it), maps the headers onto a source contract and
returns the values as text exactly as written, only trimmed: typing is staging's job. A
workbook's cell (.xlsx or .xls) is read as the spreadsheet shows it where its value alone would
mislead: a number in a percent format (« 75 % », held as 0.75) is read « 75 % », and a cell
merged over several rows gives its value to each of them. A follow-up table with a column per
period is read as a row per line and period.

Rows whose field count differs from the header's are not loaded (their values would land in
the wrong columns); they are returned in `SourceTable.bad_rows` with their line number and a
French reason, so that the pipeline records them in `audit.rejected_rows` while the rest of the
file loads. Everything else that makes a file unreadable raises `SourceFileError`.

`open_source_file` stops before splitting a text file without quotes and returns its numbered
lines (`PlainText`), for a caller that splits them faster itself: the raw load does it in
DuckDB, by the rules of `PlainText.table`.
"""

import csv
import datetime as dt
import gzip
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import fastexcel
import polars as pl
import xlrd

from pipelines.sources.contracts import CONTRACTS, Contract, normalize_label

SEPARATORS = (";", ",", "\t", "|")
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
# a header that is a period (a table with a column per year or quarter): 2024, T1 2024, 2024-03,
# or what was measured in it (« Valeur 2024 », « Réalisé 2024 », « Résultat T1 2024 »)
PERIOD_HEADER = re.compile(r"^\s*(?:(?:valeur|r[ée]alis[ée]|r[ée]sultat)s?\s+)?"
                           r"(?P<period>(?:19|20)\d{2}(?:\s*-?\s*(?:[TS][1-4]|\d{2}))?"
                           r"|[TS][1-4]\s*-?\s*(?:19|20)\d{2})\s*$", re.IGNORECASE)
# compressed text files (activite_2024-03.csv.gz, or a .zip of one CSV)
ARCHIVES = {".gz", ".zip"}
HEADER_SEARCH_ROWS = 30
SOURCE_ROW = "_source_row"
# A table with a column per period (roadmaps are often laid out so: a row per criterion, a
# column per year) in place of these two columns is read a row per period and line: the
# header is the period, the cell the value.
PERIOD_VALUE = ("periode", "valeur")
# the header of the period column a row's value comes from, as written (« Réalisé 2023 »), so
# that a rejected value names the column the file has
SOURCE_COLUMN = "_source_column"
_UTF8_BOM = b"\xef\xbb\xbf"
# what a spreadsheet's « Texte Unicode » export starts with (tab-separated UTF-16)
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SEPARATOR_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation", "|": "barre |"}
# What polars' strip_chars() takes off both ends of a value (Unicode White_Space), so what
# `_contract_frame` trims.
WHITESPACE = ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# A total or a note written below the table on a line shorter than the header (« Total;19998 »,
# « Source : export du logiciel »): set aside as staging sets aside such a line when it has all
# its fields, by the rule of footer_of and with the reason of footer_reason (models/macros.sql;
# tests/test_reader.py holds the two rules and reasons equal).
_FOOTER_WORD = re.compile(
    r"^(sous_)?(total|totaux|ensemble|source|sources|note|notes|lecture|champ)(_|$)")
FOOTER_REASON = ("ligne de titre, de total ou de note du tableau : ce n'est pas une donnée, "
                 "écartée sans bloquer la nuit")


class SourceFileError(Exception):
    """A file the night cannot read; its str() is a French message for the analyst naming the
    file, the line and the column when known, and what to do."""

    def __init__(self, file: str, message: str, line: int | None = None,
                 column: str | None = None) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.column = column


@dataclass
class SourceTable:
    """A file as read. `encoding` is "utf-8", "utf-8-sig", "utf-16", "cp1252" or "mac_roman" (an
    old Mac spreadsheet's CSV) for text files and
    "xlsx" or "xls" for spreadsheets; `separator` and `sheet` are None when not applicable."""

    path: Path
    sha256: str
    encoding: str
    separator: str | None
    sheet: str | None
    header_line: int
    frame: pl.DataFrame
    ignored_columns: list[str]
    bad_rows: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class _Header:
    line: int  # 1-based
    cells: list[str]
    positions: dict[str, int]  # canonical column → index among cells
    ignored: list[str]
    duplicates: dict[str, list[str]]
    separator: str | None = None
    sheet: str | None = None
    periods: dict[int, str] = field(default_factory=dict)  # index → period, read as PERIOD_VALUE

    def missing(self, contract: Contract) -> list[str]:
        return [name for name in contract.required if name not in self.positions
                and not (self.periods and name in PERIOD_VALUE)]

    def rank(self, contract: Contract) -> tuple[int, int]:
        return len(contract.required) - len(self.missing(contract)), len(self.positions)


@dataclass
class PlainText:
    """A text file whose body holds no quote, cut into lines but not split: no value can hold
    a separator or a line break, so each line splits at every separator. `lines` holds the
    physical line number (`_source_row`) and the text of each line below the header, without
    its final "\r". `table()` splits them in polars; a faster splitter follows its rules, which
    are in `_split_plain` and `_contract_frame`."""

    path: Path
    sha256: str
    encoding: str
    header_line: int
    ignored_columns: list[str]
    lines: pl.DataFrame
    _header: _Header
    _contract: Contract
    repeated_headers: list[int] = field(default_factory=list)  # lines set aside (`_read_text`)

    @property
    def separator(self) -> str:
        return self._header.separator

    @property
    def positions(self) -> dict[str, int]:
        """The contract's columns the file has, in the contract's order, with the index of
        their field."""
        return {name: self._header.positions[name] for name in self._contract.names
                if name in self._header.positions}

    @property
    def field_counts(self) -> tuple[int, int]:
        """The fewest and most fields a row may have; beyond the most, only empty fields."""
        return _expected_fields(self._header)

    def value(self, name: str) -> pl.Expr:
        """The value of contract column `name` in each of `lines`, as `table()` reads it."""
        index = self._header.positions[name]
        return _value(pl.col("line").str.splitn(self.separator, index + 2)
                      .struct.field(f"field_{index}")).alias(name)

    def bad_rows(self) -> list[tuple[int, str]]:
        """The lines `table()` sets aside, with their reason; only lines with too few or too
        many fields can be, so only those are split."""
        low, high = self.field_counts
        fields = pl.col("line").str.count_matches(self.separator, literal=True) + 1
        return self._with_repeated_headers(
            _split_plain(self.lines.filter(~fields.is_between(low, high)), self._header)[1])

    def table(self) -> SourceTable:
        raw, bad_rows = _split_plain(self.lines, self._header)
        return SourceTable(
            path=self.path, sha256=self.sha256, encoding=self.encoding,
            separator=self.separator, sheet=None, header_line=self.header_line,
            frame=_contract_frame(raw, self._header, self._contract),
            ignored_columns=self.ignored_columns, bad_rows=self._with_repeated_headers(bad_rows),
        )

    def _with_repeated_headers(self, bad_rows: list[tuple[int, str]]) -> list[tuple[int, str]]:
        return sorted(bad_rows + [(line, FOOTER_REASON) for line in self.repeated_headers])


def read_source_file(path: Path, family: str | Contract) -> SourceTable:
    """Read one landing file against the contract of its family ("activity", "census",
    "followup") or against a contract given directly."""
    source = open_source_file(path, family)
    return source.table() if isinstance(source, PlainText) else source


def open_source_file(path: Path, family: str | Contract) -> SourceTable | PlainText:
    """`read_source_file`, except that a text file without quotes is not split: it comes back
    as its lines, with everything needed to split them."""
    if not isinstance(family, Contract) and family not in CONTRACTS:
        raise ValueError(f"unknown source family {family!r}; expected one of {list(CONTRACTS)}")
    contract = family if isinstance(family, Contract) else CONTRACTS[family]
    path = Path(path)
    shown = f"{path.resolve().parent.name}/{path.name}"
    data = path.read_bytes()
    if not data or data.isspace():  # not data.strip(), which copies the file
        raise _empty_file(shown)
    sha256 = hashlib.sha256(data).hexdigest()
    suffix = path.suffix.lower()
    if suffix in ARCHIVES:
        data = _unpacked(data, suffix, shown)
        if not data or data.isspace():
            raise _empty_file(shown)
        return _read_text(path, shown, data, sha256, contract)
    if suffix in (".xlsx", ".xlsm"):
        return _read_spreadsheet(path, shown, sha256, contract, "xlsx", _xlsx_sheets)
    if suffix == ".xls":
        return _read_spreadsheet(path, shown, sha256, contract, "xls", _xls_sheets)
    return _read_text(path, shown, data, sha256, contract)


def is_compressed_text(path: Path) -> bool:
    """A file `open_source_file` unpacks: a .zip, or a text file compressed with gzip."""
    suffix = path.suffix.lower()
    return suffix == ".zip" or (suffix == ".gz"
                                and Path(path.stem).suffix.lower() in TEXT_SUFFIXES)


def _unpacked(data: bytes, suffix: str, shown: str) -> bytes:
    """The text file inside a compressed one: a gzip file, or a zip archive of one text file,
    as large exports are sent. The file is known by its own sha256 (the archive's), like any
    other."""
    what = "gzip" if suffix == ".gz" else "zip"
    try:
        if suffix == ".gz":
            return gzip.decompress(data)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()
                       and not m.filename.rsplit("/", 1)[-1].startswith(".")
                       and not m.filename.startswith("__MACOSX/")]
            if len(members) == 1 and Path(members[0].filename).suffix.lower() in TEXT_SUFFIXES:
                return archive.read(members[0])
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise SourceFileError(shown, (
            f"Le fichier {shown} n'est pas une archive {what} lisible ({error}) : "
            "déposez le fichier CSV lui-même, ou l'archive à nouveau si son envoi a été "
            "interrompu.")) from error
    names = ", ".join(m.filename for m in members[:5]) + (" …" if len(members) > 5 else "")
    raise SourceFileError(shown, (
        f"L'archive {shown} contient {len(members)} fichier(s) ({names or 'aucun'}) : la nuit lit "
        "une archive .zip d'un seul fichier CSV. Décompressez-la dans le même dossier (un "
        "classeur .xlsx se dépose tel quel), ou déposez une archive par fichier CSV."))


def _read_text(path: Path, shown: str, data: bytes, sha256: str,
               contract: Contract) -> SourceTable | PlainText:
    lines, encoding = _split_lines(data, shown)
    head = lines.head(HEADER_SEARCH_ROWS).to_list()
    if _blank(head) and _blank(lines.slice(HEADER_SEARCH_ROWS).to_list()):
        raise _empty_file(shown)
    candidates = (
        _match_header(_split_line(line.rstrip("\r"), sep), contract, i + 1, separator=sep)
        for i, line in enumerate(head)
        for sep in SEPARATORS
        if sep in line
    )
    header = _choose_header(candidates, contract, shown)
    body = lines.slice(header.line)
    first_line = header.line + 1
    if not body.str.contains('"', literal=True).any():
        numbered = _numbered(body, first_line)
        # the header line again: files put end to end (`copy *.csv tout.csv`), each with its
        # header (and its byte order mark), whose headers are no data
        header_text = head[header.line - 1].removesuffix("\r")
        repeated = numbered["line"].is_in([header_text, "\ufeff" + header_text])
        plain = PlainText(
            path=path, sha256=sha256, encoding=encoding, header_line=header.line,
            ignored_columns=header.ignored, _header=header, _contract=contract,
            lines=numbered.filter(~repeated) if repeated.any() else numbered,
            repeated_headers=numbered.filter(repeated)[SOURCE_ROW].to_list(),
        )
        # the raw load splits plain lines by the contract's columns, which a table with a
        # column per period does not have: it is split here
        return plain.table() if header.periods else plain
    raw, bad_rows = _split_quoted(body.str.join("\n").item(), header, first_line)
    return SourceTable(
        path=path, sha256=sha256, encoding=encoding, separator=header.separator, sheet=None,
        header_line=header.line, frame=_contract_frame(raw, header, contract),
        ignored_columns=header.ignored, bad_rows=bad_rows,
    )


def _split_lines(data: bytes, shown: str) -> tuple[pl.Series, str]:
    """The text of the file cut at each "\n" (at each "\r" in a file without any), and its
    encoding. Polars checks UTF-8 on the bytes: decoding a national monthly file in Python,
    then encoding it again for polars, took 0.06 s, three times as long as splitting it."""
    bom = data.startswith(_UTF8_BOM)
    # a CSV saved by an old Mac spreadsheet ends its lines with "\r" alone
    mac = b"\n" not in data and b"\r" in data
    try:
        text = pl.Series([data[len(_UTF8_BOM):] if bom else data],
                         dtype=pl.Binary).cast(pl.String)
        encoding = "utf-8-sig" if bom else "utf-8"
    except pl.exceptions.ComputeError:  # not UTF-8
        decoded, encoding = (
            # and is in Mac Roman: read as Windows-1252, its « Réflexion » was « RŽflexion »
            (data.decode("mac_roman"), "mac_roman")
            if mac and not data.startswith(_UTF16_BOMS) else _decode(data, shown))
        text = pl.Series([decoded])
    return text.str.split("\r" if mac else "\n").explode(), encoding


def _decode(data: bytes, shown: str) -> tuple[str, str]:
    if data.startswith(_UTF16_BOMS):
        candidates = [("utf-16", data, "utf-16")]
    elif data.startswith(_UTF8_BOM):
        candidates = [("utf-8-sig", data[len(_UTF8_BOM):], "utf-8")]
    else:
        candidates = [("utf-8", data, "utf-8"), ("cp1252", data, "cp1252")]
    error: UnicodeDecodeError | None = None
    for name, payload, codec in candidates:
        try:
            return payload.decode(codec), name
        except UnicodeDecodeError as exc:
            error = exc
    if data.startswith(_UTF16_BOMS):
        # a line is two bytes a character here: count the line ends decoded before the error
        line = data[:error.start - error.start % 2].decode("utf-16", "replace").count("\n") + 1
        raise SourceFileError(
            shown,
            f"Le fichier {shown} est en UTF-16 (« Texte Unicode ») mais sa ligne {line} n'en "
            "est pas : il est abîmé. Réenregistrez-le en « CSV UTF-8 » depuis votre tableur.",
            line=line,
        )
    offset = error.start + (len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0)
    line = data.count(b"\n", 0, offset) + 1
    raise SourceFileError(
        shown,
        f"Le fichier {shown} contient à la ligne {line} des caractères qui ne sont ni en UTF-8 "
        "ni en Windows-1252 : son encodage n'est pas reconnu. Réenregistrez-le en « CSV UTF-8 » "
        "depuis votre tableur.",
        line=line,
    )


def _blank(lines: list[str]) -> bool:
    return all(not line or line.isspace() for line in lines)


def _split_line(line: str, separator: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=separator), [])
    except csv.Error:  # a lone carriage return inside the line: not a header, split plainly
        return line.split(separator)


def _match_header(cells: list[str], contract: Contract, line: int, *,
                  separator: str | None = None, sheet: str | None = None) -> _Header:
    positions: dict[str, int] = {}
    headers_by_column: dict[str, list[str]] = {}
    unmatched: dict[int, str] = {}
    for index, cell in enumerate(cells):
        name = cell.strip()
        if not name:
            continue
        canonical = contract.match(name)
        if canonical is None:
            unmatched[index] = name
            continue
        positions.setdefault(canonical, index)
        headers_by_column.setdefault(canonical, []).append(name)
    periods = {}
    if set(PERIOD_VALUE) <= set(contract.names) and not positions.keys() & set(PERIOD_VALUE):
        for index, name in unmatched.items():
            if period := PERIOD_HEADER.match(name):
                periods[index] = period["period"]
                headers_by_column.setdefault(normalize_label(period["period"]), []).append(name)
    duplicates = {c: names for c, names in headers_by_column.items() if len(names) > 1}
    ignored = [name for index, name in unmatched.items() if index not in periods]
    return _Header(line, cells, positions, ignored, duplicates, separator, sheet, periods)


def _choose_header(candidates: Iterable[_Header], contract: Contract, shown: str) -> _Header:
    """The first candidate holding every required column (the richest one on that line);
    otherwise an error built on the closest candidate."""
    best: _Header | None = None
    found: _Header | None = None
    for candidate in candidates:
        if found is not None and (candidate.line, candidate.sheet) != (found.line, found.sheet):
            break
        if not candidate.missing(contract):
            if found is None or candidate.rank(contract) > found.rank(contract):
                found = candidate
        elif best is None or candidate.rank(contract) > best.rank(contract):
            best = candidate
    if found is not None:
        _check_duplicates(found, shown)
        return found
    raise _missing_columns(best, contract, shown)


def _check_duplicates(header: _Header, shown: str) -> None:
    if not header.duplicates:
        return
    column, names = next(iter(header.duplicates.items()))
    listed = " et ".join(f"« {n} »" for n in names)
    raise SourceFileError(
        shown,
        f"Dans le fichier {shown}{_sheet_note(header)}, les colonnes {listed} correspondent "
        f"toutes à la colonne « {column} » (ligne d'en-tête {header.line}) : en-tête en double. "
        "Gardez-en une seule ou renommez l'autre.",
        line=header.line, column=column,
    )


def _missing_columns(best: _Header | None, contract: Contract, shown: str) -> SourceFileError:
    if best is None or not best.positions:
        required = ", ".join(f"« {c} »" for c in contract.required)
        return SourceFileError(
            shown,
            f"Le fichier {shown} n'a pas de ligne d'en-tête reconnaissable dans ses "
            f"{HEADER_SEARCH_ROWS} premières lignes ({contract.label}). Colonnes obligatoires "
            f"attendues : {required}. Vérifiez qu'il s'agit du bon fichier et que la ligne "
            "d'en-tête est présente.",
        )
    missing = best.missing(contract)
    accepted = " ; ".join(
        f"pour « {name} » : {', '.join(contract.column(name).accepted_names)}" for name in missing
    )
    if len(missing) == 1:
        what = f"la colonne obligatoire « {missing[0]} »"
        advice = "Ajoutez cette colonne ou renommez l'en-tête correspondant."
    else:
        what = "les colonnes obligatoires " + ", ".join(f"« {m} »" for m in missing)
        advice = "Ajoutez ces colonnes ou renommez les en-têtes correspondants."
    return SourceFileError(
        shown,
        f"Le fichier {shown}{_sheet_note(best)} ne contient pas {what} (ligne d'en-tête "
        f"{best.line}). Noms acceptés {accepted}. {advice}",
        line=best.line, column=missing[0],
    )


def _sheet_note(header: _Header) -> str:
    return f" (feuille « {header.sheet} »)" if header.sheet else ""


def _empty_file(shown: str) -> SourceFileError:
    return SourceFileError(
        shown,
        f"Le fichier {shown} est vide. Déposez un fichier contenant au moins la ligne d'en-tête, "
        "ou retirez-le du dossier de dépôt.",
    )


def _expected_fields(header: _Header) -> tuple[int, int]:
    """Field counts a data row may have: a trailing separator on the header, or on the data
    rows only, is tolerated."""
    named = len(header.cells)
    while named and not header.cells[named - 1].strip():
        named -= 1
    return named, len(header.cells)


def is_footer(fields: list[str]) -> bool:
    """A total or note word with at most numbers beside it, or a line of one cell."""
    filled = [f for f in (f.strip() for f in fields) if f]
    words = [f for f in filled if _french_number(f) is None]
    return ((len(words) == 1 and _FOOTER_WORD.match(normalize_label(words[0])) is not None)
            or len(filled) == 1)


def _french_number(text: str) -> float | None:
    """parse_number of models/macros.sql: decimal comma, spaces as thousands separators."""
    try:
        return float(re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", "."))
    except ValueError:
        return None


def _field_count_reason(count: int, expected: int, separator: str,
                        fields: list[str]) -> str:
    if count < expected and is_footer(fields):
        return FOOTER_REASON
    if count < expected:
        return (f"{count} champ(s) au lieu de {expected} : ligne incomplète ou tronquée, "
                "écartée")
    return (f"{count} champs au lieu de {expected} : un séparateur "
            f"({_SEPARATOR_NAMES[separator]}) figure sans doute dans une valeur, ligne écartée")


def _numbered(lines: pl.Series, first_line: int) -> pl.DataFrame:
    """`lines` with their physical line number, without their "\r"."""
    return lines.to_frame("line").with_row_index(SOURCE_ROW, offset=first_line).select(
        pl.col(SOURCE_ROW).cast(pl.Int64), pl.col("line").str.strip_suffix("\r"))


def _split_plain(lines: pl.DataFrame,
                 header: _Header) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Split every line in polars: blank lines (separators and white space only) are
    skipped; a row keeps its first fields when the ones beyond the header's are empty."""
    sep = header.separator
    low, high = _expected_fields(header)
    overflow = pl.col(f"field_{high}")
    empty_overflow = overflow.str.replace_all(sep, "", literal=True).str.strip_chars() == ""
    split = (
        lines.lazy()
        .filter(pl.col("line").str.replace_all(sep, "", literal=True).str.strip_chars() != "")
        .with_columns(
            fields=pl.col("line").str.count_matches(sep, literal=True) + 1,
            parts=pl.col("line").str.splitn(sep, high + 1),
        )
        .unnest("parts")
        .with_columns(
            good=pl.col("fields").is_between(low, high)
            | ((pl.col("fields") > high) & empty_overflow)
        )
        .collect()
    )
    bad = split.filter(~pl.col("good")).select(SOURCE_ROW, "fields", "line")
    bad_rows = [(row, _field_count_reason(n, low, sep, line.split(sep)))
                for row, n, line in bad.iter_rows()]
    raw = split.filter("good").select(
        SOURCE_ROW, *(pl.col(f"field_{i}").alias(str(i)) for i in range(high))
    )
    return raw, bad_rows


def _split_quoted(body: str, header: _Header,
                  first_line: int) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Slow path for text with quotes (a quoted value may hold separators or line breaks)."""
    low, high = _expected_fields(header)
    reader = csv.reader(io.StringIO(body), delimiter=header.separator)
    columns: list[list[str | None]] = [[] for _ in range(high)]
    source_rows: list[int] = []
    bad_rows = []
    previous_end = 0
    header_cells = [cell.strip() for cell in header.cells]
    for record in reader:
        start, previous_end = first_line + previous_end, reader.line_num
        if not "".join(record).strip():
            continue
        if [cell.strip().lstrip("\ufeff") for cell in record] == header_cells:
            bad_rows.append((start, FOOTER_REASON))  # the header again (`_read_text`)
            continue
        count = len(record)
        if count > high and not "".join(record[high:]).strip():
            count = high
        if not low <= count <= high:
            bad_rows.append((start, _field_count_reason(len(record), low, header.separator,
                                                        record)))
            continue
        source_rows.append(start)
        for i in range(high):
            columns[i].append(record[i] if i < count else None)
    raw = pl.DataFrame(
        {SOURCE_ROW: source_rows} | {str(i): col for i, col in enumerate(columns)},
        schema={SOURCE_ROW: pl.Int64} | {str(i): pl.String for i in range(high)},
    )
    return raw, bad_rows


def _contract_frame(raw: pl.DataFrame, header: _Header, contract: Contract) -> pl.DataFrame:
    """Keep the contract's columns under their canonical names, trimmed, empty → null; a
    table with a column per period as a row per line and period (every period of every line,
    an empty cell being a value not known, as a row without a value is)."""
    values = {name: _value(pl.col(str(header.positions[name])).cast(pl.String)).alias(name)
              for name in contract.names if name in header.positions}
    source_row = pl.col(SOURCE_ROW).cast(pl.Int64)
    if not header.periods:
        return raw.select(*values.values(), source_row)
    period, value = PERIOD_VALUE
    values |= {period: pl.col(period), value: pl.col(value)}
    return pl.concat(
        raw.with_columns(pl.lit(text).alias(period),
                         _value(pl.col(str(index)).cast(pl.String)).alias(value),
                         pl.lit(header.cells[index].strip()).alias(SOURCE_COLUMN))
        for index, text in header.periods.items()
    ).sort(SOURCE_ROW, maintain_order=True).select(
        *(values[name] for name in contract.names if name in values), source_row,
        SOURCE_COLUMN)


def _value(field: pl.Expr) -> pl.Expr:
    trimmed = field.str.strip_chars()
    return pl.when(trimmed != "").then(trimmed)


def _read_spreadsheet(
    path: Path, shown: str, sha256: str, contract: Contract, kind: str,
    sheets: Callable[[Path, str], list[tuple[str, pl.DataFrame]]],
) -> SourceTable:
    grids = sheets(path, shown)
    if not any(grid.height for _, grid in grids):
        raise _empty_file(shown)
    if len(grids) > 1:
        tables = [name for name, grid in grids if _holds_a_table(name, grid, contract)]
        if len(tables) > 1:
            raise _several_tables(shown, tables)
        # a sheet with the header and no row (a template, a copy emptied) is no table
        grids = [(name, grid) for name, grid in grids if name in tables] or grids
    candidates = (header for name, grid in grids for header in _headers(name, grid, contract))
    header = _choose_header(candidates, contract, shown)
    grid = dict(grids)[header.sheet]
    raw = (
        grid.with_row_index(SOURCE_ROW, offset=1)
        .slice(header.line)
        .rename({c: str(i) for i, c in enumerate(grid.columns)})
        .filter(pl.any_horizontal(pl.exclude(SOURCE_ROW).str.strip_chars() != ""))
    )
    # the header again: tables pasted one under the other, each with its header, as the
    # header of files put end to end is set aside (`_read_text`)
    again = pl.all_horizontal(pl.col(str(i)).str.strip_chars().fill_null("") == cell.strip()
                              for i, cell in enumerate(header.cells) if i < grid.width)
    repeated = raw.filter(again)[SOURCE_ROW].to_list()
    return SourceTable(
        path=path, sha256=sha256, encoding=kind, separator=None, sheet=header.sheet,
        header_line=header.line,
        frame=_contract_frame(raw.filter(~again) if repeated else raw, header, contract),
        ignored_columns=header.ignored, bad_rows=[(line, FOOTER_REASON) for line in repeated],
    )


def _headers(name: str, grid: pl.DataFrame, contract: Contract) -> Iterator[_Header]:
    """Each of the sheet's first rows read as a header."""
    for i in range(min(grid.height, HEADER_SEARCH_ROWS)):
        yield _match_header([cell or "" for cell in grid.row(i)], contract, i + 1, sheet=name)


def _holds_a_table(name: str, grid: pl.DataFrame, contract: Contract) -> bool:
    """Whether the sheet has a header with every required column and a row below it."""
    for header in _headers(name, grid, contract):
        if not header.missing(contract):
            return grid.slice(header.line).select(
                pl.any_horizontal(pl.all().str.strip_chars() != "").any()).item() is True
    return False


def _several_tables(shown: str, sheets: list[str]) -> SourceFileError:
    """A workbook with a table on each of several sheets (a sheet per month, per territory):
    refused whole rather than read from one sheet, which lost the others' rows without a word
    (a .zip of several files is refused the same way)."""
    listed = ", ".join(f"« {name} »" for name in sheets)
    return SourceFileError(
        shown,
        f"Le classeur {shown} a un tableau sur chacune de ses feuilles {listed} : "
        "l'observatoire lit un tableau par fichier, et n'a rien chargé de celui-ci. "
        "Enregistrez chaque feuille dans un fichier à elle (un classeur ou un CSV par feuille, "
        "déposés ensemble), ou réunissez leurs lignes sur une seule feuille.",
    )


def _unreadable_workbook(shown: str, kind: str, exc: Exception) -> SourceFileError:
    return SourceFileError(
        shown,
        # the library's first line says what broke (zip, password, format); the rest is its stack
        f"Le fichier {shown} n'est pas un classeur {kind.upper()} lisible "
        f"({str(exc).strip().splitlines()[0]}). "
        "Ouvrez-le dans votre tableur et réenregistrez-le au format Excel (.xlsx) ou en CSV.",
    )


def _xlsx_sheets(path: Path, shown: str) -> list[tuple[str, pl.DataFrame]]:
    """Every sheet as text cells; skip_rows=0 keeps leading empty rows so that row i of the
    frame is sheet row i + 1."""
    try:
        workbook = fastexcel.read_excel(path)
        grids = [
            (name, workbook.load_sheet(name, header_row=None, skip_rows=0,
                                       dtypes="string").to_polars())
            for name in workbook.sheet_names
        ]
    except Exception as exc:  # fastexcel raises its own hierarchy for every kind of damage
        raise _unreadable_workbook(shown, "xlsx", exc) from exc
    try:
        layouts = _xlsx_layouts(path)
    except Exception:  # a workbook fastexcel reads and openpyxl not: its cells as they are
        layouts = {}
    # Date cells come as "2013-05-01 00:00:00": keep the date alone when there is no time.
    return [(name, _as_shown(
                grid.with_columns(pl.all().cast(pl.String).str.strip_suffix(" 00:00:00")),
                layouts.get(name, _Layout())))
            for name, grid in grids]


_SPREADSHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_PERCENT_FORMAT_IDS = {9, 10}  # Excel's built-in « 0 % » and « 0,00 % »


@dataclass
class _Layout:
    """What a sheet shows that its cells' values alone do not say, from 0 and placed as on the
    sheet: fastexcel's grid starts at `first_column`, the first column holding a value."""

    first_column: int = 0
    percents: list[tuple[int, int, float]] = field(default_factory=list)  # row, column, value
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # rows, columns


def _percent_format(code: str | None) -> bool:
    """A number format that shows a number × 100 with a percent sign; a sign in quotes or
    escaped (« 0"%" ») is text beside the number, which it does not scale."""
    return "%" in re.sub(r'"[^"]*"|\\.', "", code or "")


def _has_percent_format(styles: bytes) -> bool:
    root = ElementTree.fromstring(styles)
    percent_ids = _PERCENT_FORMAT_IDS | {
        int(fmt.get("numFmtId")) for fmt in root.iter(f"{_SPREADSHEET_NS}numFmt")
        if _percent_format(fmt.get("formatCode"))}
    cell_formats = root.find(f"{_SPREADSHEET_NS}cellXfs")
    return cell_formats is not None and any(int(xf.get("numFmtId", 0)) in percent_ids
                                            for xf in cell_formats)


def _xlsx_layouts(path: Path) -> dict[str, _Layout]:
    """Per sheet: the numbers in a percent format, and the cells merged over several rows (a
    roadmap merges its programme's and action's cells over their periods, a census its
    territory's over its projects). The styles and the sheets' XML say whether there are any;
    openpyxl reads the cells only then: most files have none, and a large export is not read
    twice."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        percents = "xl/styles.xml" in names and _has_percent_format(archive.read("xl/styles.xml"))
        merged = any(b"<mergeCell " in archive.read(name) for name in names
                     if name.startswith("xl/worksheets/") and name.endswith(".xml"))
    if not (percents or merged):
        return {}
    # imported here, not with the reader: 0.15 s that every night paid at start-up for files
    # that rarely need it
    import openpyxl

    # openpyxl knows merged cells only outside its read-only mode
    workbook = openpyxl.load_workbook(path, read_only=not merged, data_only=True)
    try:
        layouts = {}
        for sheet in workbook.worksheets:
            layout, first_column = _Layout(), None
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.value is None:
                        continue
                    column = cell.column - 1
                    first_column = column if first_column is None else min(first_column, column)
                    if (isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
                            and _percent_format(cell.number_format)):
                        layout.percents.append((cell.row - 1, column, float(cell.value)))
            if merged:
                layout.merged = [(r.min_row - 1, r.max_row - 1, r.min_col - 1, r.max_col - 1)
                                 for r in sheet.merged_cells.ranges if r.max_row > r.min_row]
            if layout.percents or layout.merged:
                layout.first_column = first_column or 0
                layouts[sheet.title] = layout
        return layouts
    finally:
        workbook.close()


def _as_shown(grid: pl.DataFrame, layout: _Layout) -> pl.DataFrame:
    """`grid` as the spreadsheet shows it: a number in a percent format written as shown (0.75
    → « 75 % »), a cell merged over several rows giving its value to each of them. A cell is
    rewritten only where the grid holds what the layout says (that very number; an empty cell
    under a merged one), so that a grid placed otherwise than expected keeps its values rather
    than take another cell's."""
    if not (layout.percents or layout.merged):
        return grid
    columns: dict[int, list[str | None]] = {}

    def values(index: int) -> list[str | None]:
        return columns.setdefault(index, grid.to_series(index).to_list())

    def placed(row: int, column: int) -> int | None:
        index = column - layout.first_column
        return index if 0 <= index < grid.width and 0 <= row < grid.height else None

    for row, column, value in layout.percents:
        index = placed(row, column)
        if index is None:
            continue
        try:
            held = float(values(index)[row])
        except (TypeError, ValueError):
            continue
        if held == value:
            values(index)[row] = _percent_text(value)
    for first_row, last_row, first_column, last_column in layout.merged:
        anchor, last = placed(first_row, first_column), placed(last_row, last_column)
        if anchor is None or last is None or values(anchor)[first_row] is None:
            continue
        cells = [(row, index) for row in range(first_row, last_row + 1)
                 for index in range(anchor, last + 1) if (row, index) != (first_row, anchor)]
        if all(values(index)[row] is None for row, index in cells):
            for row, index in cells:
                values(index)[row] = values(anchor)[first_row]
    return grid.with_columns(pl.Series(grid.columns[index], column, dtype=pl.String)
                             for index, column in columns.items())


def _percent_text(value: float) -> str:
    """0.75 → « 75 % », 0.825 → « 82,5 % », as a French spreadsheet shows them."""
    number = f"{round(value * 100, 9):.9f}".rstrip("0").rstrip(".")
    return f"{number.replace('.', ',')} %"


def _xls_sheets(path: Path, shown: str) -> list[tuple[str, pl.DataFrame]]:
    """Every sheet as text cells, shown as in `_xlsx_sheets` (percent formats, merged cells):
    old censuses and roadmaps come as .xls."""
    try:
        workbook = xlrd.open_workbook(path, formatting_info=True)
    except Exception as exc:  # xlrd raises XLRDError, struct.error, AssertionError…
        raise _unreadable_workbook(shown, "xls", exc) from exc
    grids = []
    for sheet in workbook.sheets():
        layout = _Layout(merged=[(first_row, end_row - 1, first_column, end_column - 1)
                                 for first_row, end_row, first_column, end_column
                                 in sheet.merged_cells if end_row - first_row > 1])
        rows = []
        for r in range(sheet.nrows):
            row = sheet.row(r)
            rows.append([_xls_text(cell, workbook.datemode) for cell in row])
            layout.percents += [(r, c, cell.value) for c, cell in enumerate(row)
                                if cell.ctype == xlrd.XL_CELL_NUMBER
                                and _percent_format(_xls_format(workbook, cell))]
        schema = {f"column_{i}": pl.String for i in range(sheet.ncols)}
        grids.append((sheet.name, _as_shown(pl.DataFrame(rows, schema=schema, orient="row"),
                                            layout)))
    return grids


def _xls_format(workbook: xlrd.book.Book, cell: xlrd.sheet.Cell) -> str | None:
    number_format = workbook.format_map.get(workbook.xf_list[cell.xf_index].format_key)
    return number_format.format_str if number_format else None


def _xls_text(cell: xlrd.sheet.Cell, datemode: int) -> str | None:
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        return str(int(cell.value)) if float(cell.value).is_integer() else repr(cell.value)
    if cell.ctype == xlrd.XL_CELL_DATE:
        moment = xlrd.xldate_as_datetime(cell.value, datemode)
        return moment.date().isoformat() if moment.time() == dt.time() else moment.isoformat()
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "true" if cell.value else "false"
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value)
    return str(cell.value)
