"""What the public readers share: reading through the shared reader with a format contract,
refusing the file at its first malformed row, and typing text columns with a French error."""

import re
from pathlib import Path

import polars as pl

from pipelines.sources.contracts import Contract
from pipelines.sources.reader import SOURCE_ROW, SourceFileError, read_source_file

INSEE_COMMUNE = r"^(\d{5}|2[AB]\d{3})$"
_DISCARDED = re.compile(r",? (ligne )?écartée$")
_REDOWNLOAD = "Téléchargez à nouveau le fichier original et déposez-le sans le modifier."


def shown_name(path: Path) -> str:
    """The file as the shared reader names it in messages: its folder and its name."""
    path = Path(path)
    return f"{path.resolve().parent.name}/{path.name}"


def decode_text(data: bytes, shown: str) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, as the shared reader decides."""
    for codec in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            continue
    raise SourceFileError(
        shown,
        f"Le fichier {shown} n'est ni en UTF-8 ni en Windows-1252 : son encodage n'est pas "
        f"reconnu. {_REDOWNLOAD}",
    )


def read_whole(path: Path, contract: Contract) -> pl.DataFrame:
    """The file's rows as text under the contract's column names, with `_source_row`; every
    optional column the file lacks is added empty so that the shape never changes."""
    table = read_source_file(path, contract)
    shown = shown_name(path)
    if table.bad_rows:
        line, reason = table.bad_rows[0]
        others = len(table.bad_rows) - 1
        more = f" ({others} autre(s) ligne(s) dans ce cas)" if others else ""
        raise SourceFileError(
            shown,
            f"Le fichier {shown} n'a pas le format attendu ({contract.label}) : ligne {line}, "
            f"{_DISCARDED.sub('', reason)}{more}. {_REDOWNLOAD}",
            line=line,
        )
    if table.frame.is_empty():
        raise SourceFileError(
            shown,
            f"Le fichier {shown} ne contient aucune ligne de données après sa ligne d'en-tête "
            f"(ligne {table.header_line}). {_REDOWNLOAD}",
            line=table.header_line,
        )
    missing = [name for name in contract.names if name not in table.frame.columns]
    return table.frame.with_columns(pl.lit(None, pl.String).alias(name) for name in missing)


def header_of(contract: Contract, name: str) -> str:
    """The header the publisher writes for a contract column (its first synonym)."""
    column = contract.column(name)
    return column.synonyms[0] if column.synonyms else column.name


def refuse_first(frame: pl.DataFrame, bad: pl.Expr, column: str, shown: str, header: str,
                 expected: str) -> None:
    """Raise on the first row where `bad` holds, quoting its line and value."""
    failed = frame.filter(bad)
    if failed.is_empty():
        return
    line, value = failed.select(SOURCE_ROW, column).row(0)
    shown_value = "(vide)" if value is None else f"« {value} »"
    others = failed.height - 1
    more = f" ({others} autre(s) valeur(s) dans ce cas)" if others else ""
    raise SourceFileError(
        shown,
        f"Dans le fichier {shown}, ligne {line}, colonne « {header} » : la valeur {shown_value} "
        f"n'est pas {expected}{more}. {_REDOWNLOAD}",
        line=line, column=header,
    )


def cast_checked(frame: pl.DataFrame, column: str, dtype: pl.DataType, shown: str,
                 header: str, expected: str, *, non_negative: bool = True) -> pl.DataFrame:
    """Cast a text column; a value that does not convert refuses the file. Floats accept a
    decimal comma; numbers must not be negative unless told (counts and densities)."""
    text = pl.col(column)
    if dtype.is_float():
        text = text.str.replace(",", ".", literal=True)
    if dtype == pl.Date:
        typed = text.str.to_date("%Y-%m-%d", strict=False)
    else:
        typed = text.cast(dtype, strict=False)
    bad = pl.col(column).is_not_null() & typed.is_null()
    if dtype.is_numeric() and non_negative:
        bad = bad | (typed < 0)
    refuse_first(frame, bad, column, shown, header, expected)
    return frame.with_columns(typed.alias(column))


def padded_code(column: str, width: int) -> pl.Expr:
    """A numeric code that lost its leading zeros in a spreadsheet ("1001" → "01001")."""
    code = pl.col(column)
    return (
        pl.when(code.str.contains(r"^\d+$") & (code.str.len_chars() < width))
        .then(code.str.zfill(width))
        .otherwise(code)
        .alias(column)
    )


def commune_codes_checked(frame: pl.DataFrame, column: str, shown: str,
                          header: str) -> pl.DataFrame:
    """INSEE commune codes as 5-character strings (leading zeros restored, 2A/2B kept)."""
    frame = frame.with_columns(padded_code(column, 5))
    bad = pl.col(column).is_not_null() & ~pl.col(column).str.contains(INSEE_COMMUNE)
    refuse_first(frame, bad, column, shown, header, "un code commune INSEE (5 caractères)")
    return frame


def department_of(commune: pl.Expr) -> pl.Expr:
    """The département of an INSEE commune code: 3 digits overseas (97x, 98x), else 2."""
    return (
        pl.when(commune.str.contains(r"^9[78]"))
        .then(commune.str.slice(0, 3))
        .otherwise(commune.str.slice(0, 2))
    )
