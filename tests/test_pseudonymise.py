"""The pseudonyms made in bulk are those of HMAC-SHA256 itself, whatever the key's length (a
key longer than SHA-256's block is hashed first) and whatever the identifier's text."""

import hashlib
import hmac

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from pipelines.ingest.pseudonymise import HASH_FLOOR, keyed_hash, keyed_hashes, pseudonymise


def _reference(key: bytes, value: str) -> int:
    digest = hmac.new(key, value.encode(), hashlib.sha256).digest()
    return (int.from_bytes(digest[:8], "big") >> 2) | HASH_FLOOR


@given(key=st.binary(max_size=200), values=st.lists(st.text(), max_size=20))
def test_bulk_pseudonyms_are_the_hmac_of_each_identifier(key, values):
    hashes = keyed_hashes(key, values)
    assert hashes == [_reference(key, v) for v in values]
    assert hashes == [keyed_hash(key, v) for v in values]
    assert all(HASH_FLOOR <= h < 2 * HASH_FLOOR for h in hashes)


def test_keys_around_the_block_size():
    for size in (0, 63, 64, 65, 128):
        key = bytes(range(size))
        assert keyed_hashes(key, ["10003456789", "123456789", "é"]) == [
            _reference(key, v) for v in ("10003456789", "123456789", "é")]


def test_a_national_identification_is_the_professional_of_its_identifier():
    """« Identification nationale PP »: 8 then the RPPS, 0 then the ADELI; and an ADELI whose
    leading 0 a spreadsheet ate. The same professional written any of these ways has one
    pseudonym; other lengths are not read as such."""
    key = b"cle"
    written = ["10003456789", "810003456789", "023456789", "0023456789", "81000345678",
               "8100034567890", "910003456789", None, "23456789"]
    frame = pseudonymise(pl.DataFrame({"id": written, "row": range(len(written))}), "id", key)
    assert frame["id_hmac"].to_list()[:5] == [
        _reference(key, "10003456789"), _reference(key, "10003456789"),
        _reference(key, "023456789"), _reference(key, "023456789"),
        _reference(key, "81000345678")]
    assert frame["id_hmac"][5] == _reference(key, "8100034567890")
    # an ADELI whose leading 0 a spreadsheet ate
    assert frame["id_hmac"][8] == _reference(key, "023456789")
    assert frame["id_format"].to_list() == [
        "rpps", "rpps", "adeli", "adeli", "rpps", "invalide", "invalide", "absent", "adeli"]


def test_an_identifier_held_as_a_number_is_its_digits():
    """A spreadsheet's number format groups the digits (« 100 012 345 67 », with a space or a
    no-break space), a float export adds « .0 »: every digit is there, and the professional
    keeps the pseudonym of the identifier; a decimal that is not zero, a rounded identifier or
    a grouped number of the wrong length is still no identifier."""
    key = b"cle"
    written = ["10003456789", "100 034 567 89", "10\u00a0003\u00a0456\u00a0789",
               "10003456789.0", "10003456789,00", "8 100 034 567 89", "23 456 789",
               "023456789.0", "10003456789.5", "1,00035E+10", "1 234"]
    frame = pseudonymise(pl.DataFrame({"id": written, "row": range(len(written))}), "id", key)
    rpps, adeli = _reference(key, "10003456789"), _reference(key, "023456789")
    assert frame["id_hmac"].to_list()[:8] == [rpps] * 6 + [adeli] * 2
    assert frame["id_format"].to_list() == ["rpps"] * 6 + ["adeli"] * 2 + [
        "invalide", "scientifique", "invalide"]
