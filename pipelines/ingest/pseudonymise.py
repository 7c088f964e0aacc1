"""Professional identifiers never reach a table: they are replaced by an HMAC as files are read.

The HMAC is keyed (settings.hmac_key) so that a hash cannot be reversed by hashing the public
RPPS directory, and stable across nights so that a professional's months can be joined.

What is kept of it is a BIGINT: 62 bits of the HMAC-SHA256, with bit 62 set. As 64 hexadecimal
characters it was most of the national warehouse (about 240 MB in each of raw.activity and
staging.activity, against about 70 MB as an integer), and grouping by it was three times
slower. Two of 300,000 professionals share a hash with a probability of about 1 in 10^8. Bit 62
puts every hash at 2^62 or more, 19 digits, where no RPPS (11 digits) or ADELI (9) can be:
the activity suite checks it, so an identifier that escaped pseudonymisation is seen.
"""

import hashlib

import polars as pl

# every pseudonym is at least this (keyed_hash); an identifier (11 or 9 digits) is far below
HASH_FLOOR = 1 << 62
RPPS = r"^\d{11}$"
ADELI = r"^\d{9}$"
# what a spreadsheet writes of an 11-digit number in a cell formatted as a number: "1,99E+10",
# the identifier rounded away
SCIENTIFIC = r"^\d+(?:[.,]\d+)?[eE]\+?\d+$"
# The national identification of a professional (the RPPS directory's « Identification
# nationale PP ») is the identifier behind the digit of its type: 8 and the RPPS (12 digits), 0
# and the ADELI (10). It is hashed as the identifier itself, so that the months of a file
# written one way join those of a file written the other.
NATIONAL_FORM = r"^(?:8\d{11}|0\d{9})$"
# An ADELI of a département 01 to 09 starts with 0, which a spreadsheet eats when the column is
# a number: 8 digits are that ADELI (no identifier has 8 digits).
ADELI_WITHOUT_ZERO = r"^\d{8}$"
# What a spreadsheet or a script adds to the digits of an identifier held as a number, every
# digit kept: the spaces of a number format that groups thousands (« 100 012 345 67 »), the
# decimals a float export writes (« 10001234567.0 »). The identifier is its digits.
NUMBER_DRESSING = r"[\s\x{a0}\x{202f}]|[.,]0+$"


# A professional appears in every monthly file: each identifier is hashed once per process
# rather than once per file, which divides the HMAC work by the number of months (9 M → 0.3 M
# at national scale). The hashes already made, with the format of their identifier, are a frame
# joined to each file, not a Python dictionary looked up row by row (that lookup was half of
# the activity load). Bounded, so a long-lived process (dagster dev) cannot grow without limit.
_HASHES: dict[bytes, pl.DataFrame] = {}
_MAX_CACHED = 2_000_000


def pseudonymise(frame: pl.DataFrame, column: str, key: bytes) -> pl.DataFrame:
    """Replace `column` by `<column>_hmac` and `<column>_format`; hash each distinct value once."""
    known = _HASHES.get(key)
    if known is None or known.height >= _MAX_CACHED:
        known = pl.DataFrame(schema={"value": pl.String, "hmac": pl.Int64,
                                     "format": pl.String})
    identifiers = frame.select(pl.col(column).alias("value"))
    # one join when every identifier was hashed with an earlier file, as in most months
    found = _lookup(identifiers, known)
    new = identifiers.filter(found["hmac"].is_null())["value"].drop_nulls().unique()
    if new.len():
        known = pl.concat([known, _hashed(new.to_list(), key)])
        found = _lookup(identifiers, known)
    _HASHES[key] = known
    return frame.select(pl.exclude(column)).with_columns(
        found["hmac"].alias(f"{column}_hmac"),
        pl.when(identifiers["value"].is_null()).then(pl.lit("absent"))
        .otherwise(found["format"]).alias(f"{column}_format"),
    )


def _lookup(identifiers: pl.DataFrame, known: pl.DataFrame) -> pl.DataFrame:
    """`hmac` and `format` of each identifier, row for row (the known values are distinct);
    the identifiers alone are joined, not the frame they come from."""
    return identifiers.join(known, on="value", how="left", maintain_order="left")


def keyed_hash(key: bytes, value: str) -> int:
    """The pseudonym of `value`: the first 62 bits of its HMAC-SHA256, with bit 62 set."""
    return keyed_hashes(key, [value])[0]


def keyed_hashes(key: bytes, values: list[str]) -> list[int]:
    """`keyed_hash` of each value. HMAC's two keyed SHA-256 states (RFC 2104) are made once and
    copied for each value, where `hmac.new` makes them again for each: under half the time for
    the 250,000 identifiers of a national month, which an incremental night hashes anew."""
    block = key if len(key) <= 64 else hashlib.sha256(key).digest()  # SHA-256's block: 64 bytes
    block = block.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
    hashes = []
    for value in values:
        digest = inner.copy()
        digest.update(value.encode())
        keyed = outer.copy()
        keyed.update(digest.digest())
        hashes.append((int.from_bytes(keyed.digest()[:8], "big") >> 2) | HASH_FLOOR)
    return hashes


def _hashed(values: list[str], key: bytes) -> pl.DataFrame:
    value = pl.col("value")
    digits = value.str.replace_all(NUMBER_DRESSING, "")
    identifiers = pl.DataFrame({"value": values}).with_columns(
        pl.when(digits.str.contains(NATIONAL_FORM)).then(digits.str.slice(1))
        .when(digits.str.contains(ADELI_WITHOUT_ZERO)).then("0" + digits)
        .when(digits.str.contains(r"^\d+$")).then(digits)
        .otherwise(value).alias("identifier"))
    identifier = pl.col("identifier")
    return identifiers.with_columns(
        pl.Series("hmac", keyed_hashes(key, identifiers["identifier"].to_list()),
                  dtype=pl.Int64),
        pl.when(identifier.str.contains(RPPS)).then(pl.lit("rpps"))
        .when(identifier.str.contains(ADELI)).then(pl.lit("adeli"))
        .when(value.str.contains(SCIENTIFIC)).then(pl.lit("scientifique"))
        .otherwise(pl.lit("invalide")).alias("format"),
    ).select("value", "hmac", "format")
