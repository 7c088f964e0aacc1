"""Incremental rendering: a fragment of a page whose inputs did not change is not rendered again.

A night with one new month of activity changes a few indicators (the departures of the year
before it, say); rendering every section again cost the whole site's time (31 s at national
scale, more than a full night's render). A fragment (an indicator's section, the census block,
the programmes) is fingerprinted from the rows it reads, the territories, the geography and the
code of the dashboards; when the site being replaced has a fragment of the same page and name
with that fingerprint, its HTML, its views and its files (figures, CSV, table data) are taken
as they are: the files are hard-linked into the new site, which is still swapped in whole.

The site keeps what it needs for that in `donnees/fragments.json`: page → fragment → its
fingerprint, HTML, figure heights, figure files, views and files. A site without it (older, or
written by hand) is rendered whole.
"""

import functools
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import plotly
import polars as pl

from dashboards.views import DATA_DIR, FragmentFigures

MANIFEST = f"{DATA_DIR}/fragments.json"
PACKAGE = Path(__file__).resolve().parent


@functools.cache
def code_digest() -> str:
    """The dashboards' code and the libraries that shape their output: a new release renders
    everything again."""
    digest = hashlib.sha256(f"polars {pl.__version__} plotly {plotly.__version__}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(PACKAGE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def fingerprint(*inputs) -> str:
    """A digest of frames (schema and every row), and of anything JSON can write."""
    digest = hashlib.sha256()
    for value in inputs:
        if isinstance(value, pl.DataFrame):
            digest.update(f"frame {value.height} {value.schema}".encode())
            if value.height and value.width:
                digest.update(value.hash_rows(seed=0).to_numpy().tobytes())
        else:
            digest.update(json.dumps(value, sort_keys=True, default=str,
                                     ensure_ascii=False).encode())
        digest.update(b"\0")
    return digest.hexdigest()


@dataclass
class Fragments:
    """The previous render's fragments (from the site being replaced) and this render's."""

    salt: str
    previous_site: Path | None = None
    previous: dict[str, dict[str, dict]] = field(default_factory=dict)
    made: dict[str, dict[str, dict]] = field(default_factory=dict)
    reused: dict[str, list[str]] = field(default_factory=dict)  # page -> fragments kept

    @staticmethod
    def salt_of(*inputs) -> str:
        return fingerprint(code_digest(), *inputs)

    @classmethod
    def read(cls, site: Path, salt: str) -> "Fragments":
        try:
            previous = json.loads((site / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            previous = {}
        return cls(salt, site, previous)

    def fingerprint(self, inputs: list) -> str:
        return fingerprint(self.salt, *inputs)

    def reusable(self, page: str, name: str, fingerprint: str) -> dict | None:
        """The previous render's fragment when its inputs were these and its files are all
        still there."""
        entry = self.previous.get(page, {}).get(name)
        if not entry or entry["fingerprint"] != fingerprint or self.previous_site is None:
            return None
        if not self._present.issuperset(entry["files"]):
            return None
        return entry

    @functools.cached_property
    def _present(self) -> set[str]:
        """The files of the previous site, listed once (a national site has 5,000)."""
        present = set()
        for folder in (self.previous_site, self.previous_site / DATA_DIR):
            prefix = "" if folder == self.previous_site else f"{DATA_DIR}/"
            try:
                present |= {prefix + e.name for e in os.scandir(folder) if e.is_file()}
            except OSError:
                pass
        return present

    def keep(self, page: str, name: str, entry: dict) -> None:
        self.made.setdefault(page, {})[name] = entry
        self.reused.setdefault(page, []).append(name)

    def record(self, page: str, name: str, fingerprint: str, html: str,
               figures: FragmentFigures, files: list[str]) -> None:
        self.made.setdefault(page, {})[name] = {
            "fingerprint": fingerprint, "html": html, "heights": figures.heights,
            "chunks": figures.chunks, "views": figures.views,
            "files": figures.files(page) + files,
        }

    def link_reused(self, page: str, into: Path) -> list[str]:
        """Hard-link the files of the page's kept fragments into the new site (copied where
        the file system has no hard links)."""
        linked = [file for name in self.reused.get(page, [])
                  for file in self.made[page][name]["files"]]
        # strings rather than paths: 5,000 links at national scale
        source, target = str(self.previous_site), str(into)
        for folder in {os.path.dirname(file) for file in linked}:
            os.makedirs(os.path.join(target, folder), exist_ok=True)
        for file in linked:
            try:
                os.link(os.path.join(source, file), os.path.join(target, file))
            except OSError:
                shutil.copy2(os.path.join(source, file), os.path.join(target, file))
        return linked

    def write(self, into: Path) -> str:
        (into / MANIFEST).write_text(json.dumps(self.made, ensure_ascii=False,
                                                separators=(",", ":")), encoding="utf-8")
        return MANIFEST
