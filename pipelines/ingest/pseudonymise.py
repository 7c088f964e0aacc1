"""Professional identifiers never reach a table: they are replaced by an HMAC as files are read.

The HMAC is keyed (settings.hmac_key) so that a hash cannot be reversed by hashing the public
RPPS directory, and stable across nights so that a professional's months can be joined.
"""

import hashlib
import hmac

import polars as pl

RPPS = r"^\d{11}$"
ADELI = r"^\d{9}$"


# A professional appears in every monthly file: each identifier is hashed once per process
# rather than once per file, which divides the HMAC work by the number of months (9 M → 0.3 M
# at national scale). The hashes already made are a frame joined to each file, not a Python
# dictionary looked up row by row (that lookup was half of the activity load). Bounded, so a
# long-lived process (dagster dev) cannot grow without limit.
_HASHES: dict[bytes, pl.DataFrame] = {}
_MAX_CACHED = 2_000_000


def _hashes(key: bytes, values: pl.Series) -> pl.DataFrame:
    """`values` (distinct, no null) with their HMAC, in columns `value` and `hmac`."""
    known = _HASHES.get(key)
    if known is None or known.height >= _MAX_CACHED:
        known = pl.DataFrame(schema={"value": pl.String, "hmac": pl.String})
    new = values.to_frame("value").join(known, on="value", how="anti")["value"].to_list()
    if new:
        made = [hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in new]
        known = pl.concat([known, pl.DataFrame({"value": new, "hmac": made},
                                               schema=known.schema)])
    _HASHES[key] = known
    return known


def pseudonymise(frame: pl.DataFrame, column: str, key: bytes) -> pl.DataFrame:
    """Replace `column` by `<column>_hmac` and `<column>_format`; hash each distinct value once."""
    ids = pl.col(column)
    hashes = _hashes(key, frame.get_column(column).drop_nulls().unique())
    return frame.join(hashes.rename({"value": column, "hmac": f"{column}_hmac"}), on=column,
                      how="left", maintain_order="left").with_columns(
        pl.when(ids.is_null()).then(pl.lit("absent"))
        .when(ids.str.contains(RPPS)).then(pl.lit("rpps"))
        .when(ids.str.contains(ADELI)).then(pl.lit("adeli"))
        .otherwise(pl.lit("invalide")).alias(f"{column}_format"),
    ).select(*(c for c in frame.columns if c != column), f"{column}_hmac", f"{column}_format")
