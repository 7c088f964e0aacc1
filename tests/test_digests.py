"""Landing files are hashed once per version (pipelines/ingest/digests.py)."""

import hashlib
import os
import time
from pathlib import Path

import pytest

from pipelines.ingest import digests


@pytest.fixture(autouse=True)
def forget():
    digests._known.clear()
    yield
    digests._known.clear()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_file_rewritten_with_the_same_size_and_dates_is_hashed_again(tmp_path):
    path = tmp_path / "activite_2024-01.csv"
    path.write_text("periode;etp\n2024-01;0,8\n", encoding="utf-8")
    assert digests.file_sha256(path) == _sha(path)
    before = path.stat()
    time.sleep(0.01)
    path.write_text("periode;etp\n2024-01;0,9\n", encoding="utf-8")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    assert digests.file_sha256(path) == _sha(path)


def test_kept_digests_spare_reading_an_unchanged_file(tmp_path, monkeypatch):
    path = tmp_path / "recensement.csv"
    path.write_text("date_recensement;region\n2013-05;31\n", encoding="utf-8")
    expected = digests.file_sha256(path)
    digests.save_digests(tmp_path / "build", [path])
    digests._known.clear()
    digests.load_digests(tmp_path / "build")

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was read again")

    monkeypatch.setattr(Path, "open", no_reading)
    assert digests.file_sha256(path) == expected


def test_a_damaged_cache_is_ignored(tmp_path):
    (tmp_path / digests.CACHE_NAME).write_text("{not json", encoding="utf-8")
    digests.load_digests(tmp_path)
    path = tmp_path / "a.csv"
    path.write_text("x\n", encoding="utf-8")
    assert digests.file_sha256(path) == _sha(path)
