"""The night's accessibility step: GP supply and commune populations through the 2SFCA.

It writes two staging tables that models/indicators/apl_medecins_generalistes.sql turns into
indicator rows (communes, then EPCI, départements and régions weighted by population):
- staging.commune_catchments: the pairs of communes within reach, with time and weight;
- staging.gp_accessibility: per commune × complete year, the GP FTE located there and the FTE
  accessible to its inhabitants, or why it was not computed.

Without a coordinates file both tables are empty and the indicator has no row, so
marts.indicator_status reports it « non calculé » (never zeros).
"""

import dagster as dg
import duckdb
import polars as pl

from pipelines.access.catchment import catchments, two_step_fca
from pipelines.warehouse import WarehouseResource

GP = "medecin_generaliste"
COMPUTED = "calculé"
NO_COORDINATES = "coordonnées absentes"

CATCHMENT_SCHEMA = {"commune_code": pl.String, "reachable_commune_code": pl.String,
                    "distance_km": pl.Float64, "minutes": pl.Float64, "weight": pl.Float64}
ACCESSIBILITY_SCHEMA = {"year": pl.Int32, "commune_code": pl.String, "population": pl.Float64,
                        "gp_fte": pl.Float64, "accessible_fte": pl.Float64,
                        "apl": pl.Float64, "status": pl.String}

# The communes of the départements the activity data covers (as densite_etp): supply outside
# them is unknown, so they are neither supply nor demand.
_COMMUNES = """
WITH covered AS (
    SELECT DISTINCT c.department_code
    FROM staging.activity a JOIN ref.communes c USING (commune_code)
),
located AS (
    -- La Poste's file predates some mergers: a former commune's points join its current one
    SELECT l.current_code AS commune_code,
           sum(x.latitude * x.point_count) / sum(x.point_count) AS latitude,
           sum(x.longitude * x.point_count) / sum(x.point_count) AS longitude
    FROM staging.commune_centroids x
    JOIN ref.commune_code_lookup l ON l.code = x.commune_code
    WHERE x.point_count > 0
    GROUP BY 1
)
SELECT c.commune_code, CAST(c.population AS DOUBLE) AS population, x.latitude, x.longitude
FROM ref.communes c
LEFT JOIN located x USING (commune_code)
WHERE c.department_code IN (SELECT department_code FROM covered)
ORDER BY c.commune_code
"""

# GP FTE of each complete year (the year's FTE-months / 12), as densite_etp counts FTE.
_SUPPLY = f"""
WITH complete_years AS (
    SELECT year(period_month) AS year
    FROM staging.activity
    GROUP BY 1
    HAVING count(DISTINCT month(period_month)) = 12
)
SELECT CAST(year(period_month) AS INTEGER) AS year, commune_code, sum(fte) / 12 AS gp_fte
FROM staging.activity
WHERE profession_code = '{GP}' AND year(period_month) IN (SELECT year FROM complete_years)
GROUP BY ALL
"""


def _has_coordinates(con: duckdb.DuckDBPyConnection) -> bool:
    columns = {row[0] for row in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = 'staging' AND table_name = 'commune_centroids'").fetchall()}
    return {"latitude", "longitude", "point_count"} <= columns


def compute_gp_accessibility(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(catchments, accessibility) frames for the night's data; both empty without
    coordinates. Demand is the municipal population: the reference geography has no age
    bands, so the DREES age standardisation of demand cannot be applied."""
    empty = (pl.DataFrame(schema=CATCHMENT_SCHEMA), pl.DataFrame(schema=ACCESSIBILITY_SCHEMA))
    if not _has_coordinates(con):
        return empty
    communes = con.sql(_COMMUNES).pl()
    located = communes.filter(pl.col("latitude").is_not_null())
    if located.is_empty():
        return empty
    pairs = catchments(located["latitude"].to_numpy(), located["longitude"].to_numpy())
    codes = located["commune_code"].to_numpy()
    catchment_frame = pl.DataFrame({
        "commune_code": codes[pairs.origin], "reachable_commune_code": codes[pairs.destination],
        "distance_km": pairs.distance_km, "minutes": pairs.minutes, "weight": pairs.weight,
    }, schema=CATCHMENT_SCHEMA)

    supply = con.sql(_SUPPLY).pl()
    population = located["population"].to_numpy()
    years = []
    for year in sorted(supply["year"].unique().to_list()):
        # aligned with `located`, whose order the pairs' indices refer to
        fte = (located.select("commune_code")
               .join(supply.filter(pl.col("year") == year), on="commune_code", how="left",
                     maintain_order="left")
               ["gp_fte"].fill_null(0.0).to_numpy())
        result = two_step_fca(pairs.origin, pairs.destination, pairs.weight, fte, population)
        years.append(located.select(
            pl.lit(year, pl.Int32).alias("year"), "commune_code", "population",
            pl.Series("gp_fte", fte),
            pl.Series("accessible_fte", result.accessibility * population),
            pl.Series("apl", 1e5 * result.accessibility), pl.lit(COMPUTED).alias("status"),
        ))
        # communes without coordinates: their GPs cannot be placed, their inhabitants not reached
        years.append(
            communes.filter(pl.col("latitude").is_null())
            .join(supply.filter(pl.col("year") == year), on="commune_code", how="left")
            .select(pl.lit(year, pl.Int32).alias("year"), "commune_code", "population",
                    pl.col("gp_fte").fill_null(0.0),
                    pl.lit(None, pl.Float64).alias("accessible_fte"),
                    pl.lit(None, pl.Float64).alias("apl"),
                    pl.lit(NO_COORDINATES).alias("status"))
        )
    accessibility = (pl.concat(years).cast(ACCESSIBILITY_SCHEMA) if years else empty[1])
    return catchment_frame, accessibility.sort("year", "commune_code")


_INPUTS = [["staging", "commune_centroids"], ["staging", "activity"], ["ref", "communes"],
           ["ref", "commune_code_lookup"]]


def _replace(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> None:
    con.register("incoming", frame.to_arrow())
    con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM incoming")
    con.unregister("incoming")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(["staging", "commune_catchments"], group_name="staging", deps=_INPUTS,
                     description="Paires de communes à moins de 15 minutes (temps estimé à vol "
                     "d'oiseau × détour), avec leur poids dans l'APL."),
        dg.AssetSpec(["staging", "gp_accessibility"], group_name="staging",
                     deps=_INPUTS,
                     description="Accessibilité potentielle localisée aux médecins généralistes "
                     "par commune et par année (méthode à deux étapes, 2SFCA)."),
    ],
)
def gp_accessibility(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    with warehouse.connect(context) as con:
        catchment_frame, accessibility = compute_gp_accessibility(con)
        con.execute("CREATE SCHEMA IF NOT EXISTS staging")
        _replace(con, "staging.commune_catchments", catchment_frame)
        _replace(con, "staging.gp_accessibility", accessibility)
    computed = accessibility.filter(pl.col("status") == COMPUTED)
    unlocated = accessibility.filter(pl.col("status") == NO_COORDINATES)
    # the 2SFCA conserves supply (sum of accessible FTE = sum of FTE) except for GPs whose
    # catchment holds no inhabitant: the two sums side by side show any such loss
    conservation = computed.group_by("year").agg(pl.col("gp_fte").sum(),
                                                 pl.col("accessible_fte").sum()).sort("year")
    yield dg.MaterializeResult(asset_key=["staging", "commune_catchments"], metadata={
        "pairs": catchment_frame.height,
        "status": "calculé" if catchment_frame.height else "non calculé : coordonnées absentes",
    })
    yield dg.MaterializeResult(asset_key=["staging", "gp_accessibility"], metadata={
        "rows": accessibility.height,
        "communes_without_coordinates": unlocated["commune_code"].n_unique(),
        "gp_fte_without_coordinates": float(unlocated["gp_fte"].sum() or 0.0),
        "gp_fte_and_accessible_fte_by_year": dg.MetadataValue.json(
            {str(y): [round(f, 3), round(a, 3)] for y, f, a in conservation.iter_rows()}),
    })
