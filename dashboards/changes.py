"""What changed since the previous night.

The warehouse keeps only the latest figures (each night rebuilds the marts), so the site keeps
the values it published in a small JSON file next to the pages. The next render compares the
new warehouse with it. Masked cells are stored as masked, never with a value.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dashboards.warehouse import Snapshot

STATE_FILE = "valeurs-publiees.json"
KEY_COLUMNS = ("indicator_id", "geo_level", "geo_code", "period", "dimension", "category")


@dataclass(frozen=True)
class PublishedValues:
    night_id: str
    published_at: str
    values: dict[str, dict]  # "indicator|level|code|period|dimension|category" -> v, n, c

    def to_json(self) -> dict:
        return {"night_id": self.night_id, "published_at": self.published_at,
                "values": self.values}

    @classmethod
    def from_json(cls, data: dict) -> "PublishedValues":
        return cls(data["night_id"], data["published_at"], data["values"])


@dataclass(frozen=True)
class Change:
    indicator_id: str
    geo_level: str
    geo_code: str
    period: str
    geo_name: str
    category_label: str
    before: float | None
    after: float | None
    kind: str  # "modifiée", "nouvelle", "disparue", "masquée", "démasquée"


def published_values(snapshot: Snapshot) -> PublishedValues:
    values = {}
    for row in snapshot.indicators.iter_rows(named=True):
        key = "|".join(str(row[c]) for c in KEY_COLUMNS)
        shown = None if row["suppressed"] else row["value"]
        values[key] = {"v": shown, "m": bool(row["suppressed"]), "n": row["geo_name"],
                       "c": row["category_label"]}
    publication = snapshot.publication
    return PublishedValues(publication.night_id, publication.published_at.isoformat(), values)


def read_previous(out_dir: Path, current: PublishedValues) -> PublishedValues | None:
    """The last night the site showed before this one (a re-render keeps its comparison)."""
    path = out_dir / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if state.get("night_id") != current.night_id:
        return PublishedValues.from_json(state)
    return PublishedValues.from_json(state["previous"]) if state.get("previous") else None


def state_json(current: PublishedValues, previous: PublishedValues | None) -> str:
    state = current.to_json() | {"previous": previous.to_json() if previous else None}
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"))


def compare(previous: PublishedValues, current: PublishedValues) -> list[Change]:
    changes = []
    for key in sorted(set(previous.values) | set(current.values)):
        before, after = previous.values.get(key), current.values.get(key)
        kind = _kind(before, after)
        if kind is None:
            continue
        indicator_id, geo_level, geo_code, period, _, _ = key.split("|")
        label = after or before
        changes.append(Change(indicator_id, geo_level, geo_code, period, label["n"], label["c"],
                              before and before["v"], after and after["v"], kind))
    return changes


def _kind(before: dict | None, after: dict | None) -> str | None:
    if before is None:
        return "nouvelle"
    if after is None:
        return "disparue"
    if before["m"] != after["m"]:
        return "masquée" if after["m"] else "démasquée"
    if before["v"] is None or after["v"] is None:
        return None if before["v"] == after["v"] else "modifiée"
    return "modifiée" if abs(before["v"] - after["v"]) > 1e-9 * max(1, abs(before["v"])) else None


def files_of_night(snapshot: Snapshot) -> pl.DataFrame:
    return snapshot.loaded_files.filter(pl.col("load_id") == snapshot.publication.night_id)
