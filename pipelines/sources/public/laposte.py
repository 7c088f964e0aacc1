"""La Poste's "base officielle des codes postaux" (laposte_hexasmal.csv) → commune centroids.

The file has one row per INSEE code × postcode × "Ligne 5" (a locality such as LOMME under
59350 Lille), each with "lat,lon" in `coordonnees_gps`. A commune's centroid is the mean of its
distinct points. Communes none of whose rows has coordinates are returned too, with null
latitude/longitude and `point_count` 0, so that the caller can report them.
"""

from pathlib import Path

import polars as pl

from pipelines.sources.contracts import Column, Contract
from pipelines.sources.public.common import (
    cast_checked,
    commune_codes_checked,
    padded_code,
    read_whole,
    refuse_first,
    shown_name,
)
from pipelines.sources.reader import SOURCE_ROW

CONTRACT = Contract(
    family="laposte_codes_postaux",
    label="base officielle des codes postaux de La Poste avec coordonnees_gps",
    columns=(
        Column("commune_code", True, "Code INSEE", ("Code_commune_INSEE",)),
        Column("commune_name", True, "Nom de la commune", ("Nom_commune", "Nom_de_la_commune")),
        Column("postal_code", True, "Code postal", ("Code_postal",)),
        Column("line_5", False, "Localité (ligne 5 de l'adresse)", ("Ligne_5",)),
        Column("gps", True, "« latitude,longitude »", ("coordonnees_gps", "coordonnées GPS")),
    ),
)
_GPS = "coordonnees_gps"


def read_laposte_centroids(path: Path) -> pl.DataFrame:
    """One row per INSEE code: commune_code, commune_name (as La Poste writes it),
    postal_codes (sorted, comma-separated), latitude, longitude (WGS84), point_count."""
    shown = shown_name(path)
    frame = read_whole(path, CONTRACT)
    frame = commune_codes_checked(frame, "commune_code", shown, "Code_commune_INSEE")
    frame = frame.with_columns(padded_code("postal_code", 5))
    gps = pl.col("gps")
    refuse_first(frame, gps.is_not_null() & (gps.str.count_matches(",", literal=True) != 1),
                 "gps", shown, _GPS, "de la forme « latitude,longitude »")
    parts = gps.str.split_exact(",", 1)
    frame = frame.with_columns(
        latitude=parts.struct.field("field_0").str.strip_chars(),
        longitude=parts.struct.field("field_1").str.strip_chars(),
    )
    for axis in ("latitude", "longitude"):
        frame = cast_checked(frame, axis, pl.Float64, shown, _GPS, f"une {axis}",
                             non_negative=False)
    refuse_first(frame, ~pl.col("latitude").is_between(-90, 90)
                 | ~pl.col("longitude").is_between(-180, 180),
                 "gps", shown, _GPS, "une position « latitude,longitude » valide")
    communes = frame.sort(SOURCE_ROW).group_by("commune_code").agg(
        pl.col("commune_name").first(),
        pl.col("postal_code").drop_nulls().unique().sort().str.join(",").alias("postal_codes"),
    )
    centroids = (
        frame.select("commune_code", "latitude", "longitude").drop_nulls().unique()
        .group_by("commune_code")
        .agg(pl.col("latitude").mean(), pl.col("longitude").mean(),
             pl.len().cast(pl.Int64).alias("point_count"))
    )
    return (
        communes.join(centroids, on="commune_code", how="left")
        .with_columns(pl.col("point_count").fill_null(0))
        .sort("commune_code")
    )
