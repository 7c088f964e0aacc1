"""The sha256 of landing files, read once per version of a file.

A night knows a file by its sha256: the plan hashes every landing file to find the new ones,
and the raw step again to skip the known ones. At national scale that is 625 MB hashed twice a
night (2 s) for files that have not changed since they were first loaded. A digest is kept with
the file's identity as the file system gives it (device, inode, size, modification and change
times in nanoseconds): any write changes the change time, which no program can set back, so a
file with the same identity has the same bytes. The digests outlive the process in
`<home>/build/landing-sha256.json`, written by the plan.
"""

import hashlib
import json
import os
from pathlib import Path

CACHE_NAME = "landing-sha256.json"
_known: dict[str, tuple[list[int], str]] = {}  # path -> (identity, sha256)


def _identity(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]


def file_sha256(path: Path) -> str:
    key = str(Path(path).resolve())
    identity = _identity(path)
    known = _known.get(key)
    if known and known[0] == identity:
        return known[1]
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    # the identity read before hashing: a file written meanwhile gets hashed again next time
    _known[key] = (identity, digest.hexdigest())
    return _known[key][1]


def load_digests(folder: Path) -> None:
    """Take the digests a previous night kept in `folder`; a damaged file is ignored."""
    try:
        kept = json.loads((folder / CACHE_NAME).read_text(encoding="utf-8"))
        _known.update({k: (list(v[0]), str(v[1])) for k, v in kept.items()
                       if k not in _known})
    except (OSError, ValueError, TypeError, IndexError):
        pass


def save_digests(folder: Path, paths: list[Path]) -> None:
    """Keep the digests of `paths` (the landing files of tonight) for the next nights."""
    kept = {key: value for key in (str(Path(p).resolve()) for p in paths)
            if (value := _known.get(key))}
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{CACHE_NAME}.partial"
    partial.write_text(json.dumps(kept), encoding="utf-8")
    os.replace(partial, folder / CACHE_NAME)
