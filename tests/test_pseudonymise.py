"""The pseudonyms made in bulk are those of HMAC-SHA256 itself, whatever the key's length (a
key longer than SHA-256's block is hashed first) and whatever the identifier's text."""

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from pipelines.ingest.pseudonymise import HASH_FLOOR, keyed_hash, keyed_hashes


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
