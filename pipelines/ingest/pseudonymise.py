"""Professional identifiers never reach a table: they are replaced by an HMAC as files are read.

The HMAC is keyed (settings.hmac_key) so that a hash cannot be reversed by hashing the public
RPPS directory, and stable across nights so that a professional's months can be joined.
"""

import hashlib
import hmac
import re

import polars as pl

RPPS = re.compile(r"^\d{11}$")
ADELI = re.compile(r"^\d{9}$")


def identifier_format(identifier: str | None) -> str:
    if identifier is None:
        return "absent"
    if RPPS.match(identifier):
        return "rpps"
    if ADELI.match(identifier):
        return "adeli"
    return "invalide"


def mask(identifier: str | None) -> str | None:
    """What an audit row may show of a malformed identifier: its length, never its digits."""
    if identifier is None:
        return None
    return f"<identifiant masqué, {len(identifier)} caractères>"


# A professional appears in every monthly file: hashing each identifier once per process rather
# than once per file divides the HMAC work by the number of months (9 M → 0.3 M at national
# scale). Bounded, so a long-lived process (dagster dev) cannot grow without limit.
_HASHES: dict[tuple[bytes, str], str] = {}
_MAX_CACHED = 2_000_000


def _hmac(key: bytes, value: str) -> str:
    found = _HASHES.get((key, value))
    if found is None:
        if len(_HASHES) >= _MAX_CACHED:
            _HASHES.clear()
        found = _HASHES[(key, value)] = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return found


def pseudonymise(frame: pl.DataFrame, column: str, key: bytes) -> pl.DataFrame:
    """Replace `column` by `<column>_hmac` and `<column>_format`; hash each distinct value once."""
    distinct = frame.get_column(column).drop_nulls().unique().to_list()
    hashes = {v: _hmac(key, v) for v in distinct}
    formats = {v: identifier_format(v) for v in distinct}
    ids = pl.col(column)
    return frame.with_columns(
        ids.replace_strict(hashes, default=None, return_dtype=pl.String).alias(f"{column}_hmac"),
        ids.replace_strict(formats, default="absent", return_dtype=pl.String).alias(
            f"{column}_format"
        ),
    ).drop(column)
