"""What changed since the previous night.

The warehouse keeps only the latest figures (each night rebuilds the marts), so the site keeps
the values it published in a small Parquet file next to the pages, with those of the night
before (a render of the same night again keeps its comparison). The next render compares the new
warehouse with it. Masked cells are stored as masked, never with a value. Frames rather than a
dictionary per value: at national scale (240,000 values) the dictionaries, their JSON and the
comparison took 4 s of a render.
"""

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from dashboards.warehouse import Snapshot

STATE_FILE = "valeurs-publiees.parquet"
KEY_COLUMNS = ("indicator_id", "geo_level", "geo_code", "period", "dimension", "category")
# key: "indicator|level|code|period|dimension|category"; v: the value shown (null when masked);
# m: masked; n: the territory's name; c: the category's label
VALUES_SCHEMA = {"key": pl.String, "v": pl.Float64, "m": pl.Boolean, "n": pl.String,
                 "c": pl.String}
CHANGE_KINDS = ("modifiée", "nouvelle", "disparue", "masquée", "démasquée")


@dataclass(frozen=True)
class PublishedValues:
    night_id: str
    published_at: str
    values: pl.DataFrame  # VALUES_SCHEMA, one row per published cell

    @classmethod
    def of(cls, night_id: str, published_at: str, values: dict[str, dict]) -> "PublishedValues":
        """From {key: {"v", "m", "n", "c"}} (tests, and hand-made states)."""
        return cls(night_id, published_at, pl.DataFrame(
            [{"key": key, **{c: cell.get(c) for c in "vmnc"}} for key, cell in values.items()],
            schema=VALUES_SCHEMA))


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
    kind: str  # one of CHANGE_KINDS


def published_values(snapshot: Snapshot) -> PublishedValues:
    rows = snapshot.indicators
    values = rows.select(
        key=pl.concat_str([pl.col(c).cast(pl.String).fill_null("None") for c in KEY_COLUMNS],
                          separator="|"),
        v=pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("value")).cast(pl.Float64),
        m=pl.col("suppressed").fill_null(False),
        n=pl.col("geo_name"), c=pl.col("category_label"),
    ).cast(VALUES_SCHEMA)
    publication = snapshot.publication
    return PublishedValues(publication.night_id, publication.published_at.isoformat(), values)


def _state(path: Path) -> dict[str, PublishedValues]:
    frame = pl.read_parquet(path)
    return {role: PublishedValues(part["night_id"][0], part["published_at"][0],
                                  part.select(list(VALUES_SCHEMA)))
            for (role,), part in frame.partition_by("role", as_dict=True).items()}


def read_previous(out_dir: Path, current: PublishedValues) -> PublishedValues | None:
    """The last night the site showed before this one (a re-render keeps its comparison)."""
    try:
        state = _state(out_dir / STATE_FILE)
    except (OSError, pl.exceptions.PolarsError):
        return None
    shown = state.get("current")
    if shown is not None and shown.night_id != current.night_id:
        return shown
    return state.get("previous")


def write_state(path: Path, current: PublishedValues, previous: PublishedValues | None) -> None:
    pl.concat([
        values.values.with_columns(role=pl.lit(role), night_id=pl.lit(values.night_id),
                                   published_at=pl.lit(values.published_at))
        for role, values in (("current", current), ("previous", previous)) if values
    ]).write_parquet(path, statistics=False)


def compare(previous: PublishedValues, current: PublishedValues) -> list[Change]:
    """The cells that changed, in key order."""
    both = previous.values.join(current.values, on="key", how="full", coalesce=True,
                                suffix="_after")
    before, after = pl.col("v"), pl.col("v_after")
    moved = (before - after).abs() > 1e-9 * pl.max_horizontal(pl.lit(1.0), before.abs())
    kind = (pl.when(pl.col("m").is_null()).then(pl.lit("nouvelle"))
            .when(pl.col("m_after").is_null()).then(pl.lit("disparue"))
            .when(pl.col("m") != pl.col("m_after"))
            .then(pl.when(pl.col("m_after")).then(pl.lit("masquée"))
                  .otherwise(pl.lit("démasquée")))
            .when(before.is_null() | after.is_null())
            .then(pl.when(before.is_null() & after.is_null()).then(None)
                  .otherwise(pl.lit("modifiée")))
            .when(moved).then(pl.lit("modifiée")))
    changed = (both.with_columns(kind=kind).filter(pl.col("kind").is_not_null()).sort("key")
               .select("key", "kind", "v", "v_after",
                       n=pl.coalesce("n_after", "n"), c=pl.coalesce("c_after", "c")))
    changes = []
    for key, kind_of, value_before, value_after, name, label in changed.iter_rows():
        indicator_id, geo_level, geo_code, period, _, _ = key.split("|")
        changes.append(Change(indicator_id, geo_level, geo_code, period, name, label,
                              value_before, value_after, kind_of))
    return changes


def files_of_night(snapshot: Snapshot) -> pl.DataFrame:
    return snapshot.loaded_files.filter(pl.col("load_id") == snapshot.publication.night_id)
