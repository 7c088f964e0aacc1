"""An APL-like two-step floating catchment area (2SFCA) between commune centroids.

Method (Luo & Wang 2003, with the stepped decay of the DREES/IRDES "accessibilité potentielle
localisée"):

1. each place j with supply S_j (GP FTE) gets a ratio R_j = S_j / sum_i w(t_ij) P_i over the
   places i whose inhabitants (P_i, the demand) reach it;
2. each place i gets A_i = sum_j w(t_ij) R_j: the supply accessible per inhabitant.

Travel times are not road times: there is no routing engine offline. The great-circle distance
between two centroids is lengthened by DETOUR_FACTOR and driven at SPEED_KMH. The detour factor
1.3 is the usual road/crow-fly ratio for French secondary roads; 60 km/h is an assumed
door-to-door average on départemental roads (it understates urban congestion and overstates
mountain roads). A place reaches itself in 0 minutes.

Decay bands: the 2012 DREES/IRDES APL for GPs (Barlet, Coldefy, Collin, Lucas-Gabrielli, DREES
Études et Résultats n° 795 and document de travail n° 124, 2012) weights doctors 1 under 5
minutes, 0.3 from 5 to 10 and 0.1 from 10 to 15, none beyond 15 minutes, from observed
attendance by road time between chefs-lieux. Centroid-to-centroid crow-fly times are coarser
than that, so we keep the 15-minute cut-off with two wider steps: weight 1 up to 10 minutes,
0.5 up to 15 minutes, 0 beyond. Each band includes its upper edge: exactly 10 minutes weighs 1,
exactly 15 minutes weighs 0.5.

Every function is vectorised over NumPy arrays and has no I/O.
"""

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius
DETOUR_FACTOR = 1.3
SPEED_KMH = 60.0
# (upper edge in minutes, included; weight) in increasing order; beyond the last edge: 0
DECAY_BANDS = ((10.0, 1.0), (15.0, 0.5))


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (WGS84 on a sphere)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlambda = np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def travel_minutes(distance_km, detour_factor: float = DETOUR_FACTOR,
                   speed_kmh: float = SPEED_KMH) -> np.ndarray:
    return np.asarray(distance_km, dtype=float) * detour_factor / speed_kmh * 60.0


def decay_weight(minutes, bands=DECAY_BANDS) -> np.ndarray:
    """The band weight of each travel time; a band includes its upper edge."""
    minutes = np.asarray(minutes, dtype=float)
    edges = np.array([edge for edge, _ in bands])
    weights = np.array([weight for _, weight in bands] + [0.0])
    return weights[np.searchsorted(edges, minutes, side="left")]


@dataclass(frozen=True)
class Catchments:
    """Every ordered pair (origin, destination) of places within the last band, itself included:
    indices into the caller's arrays, with the pair's distance, time and weight (> 0)."""

    origin: np.ndarray
    destination: np.ndarray
    distance_km: np.ndarray
    minutes: np.ndarray
    weight: np.ndarray


def catchments(latitude, longitude, bands=DECAY_BANDS, detour_factor: float = DETOUR_FACTOR,
               speed_kmh: float = SPEED_KMH) -> Catchments:
    """The pairs of places that reach each other, found with a k-d tree on the unit sphere so
    that a whole country (35,000 communes) does not need its 1.2 billion pairs."""
    # imported here: scipy.spatial took 0.3 s of every command's start, and only a night with
    # commune coordinates gets this far
    from scipy.spatial import cKDTree

    latitude = np.asarray(latitude, dtype=float)
    longitude = np.asarray(longitude, dtype=float)
    max_km = bands[-1][0] / 60.0 * speed_kmh / detour_factor
    phi, lam = np.radians(latitude), np.radians(longitude)
    points = np.column_stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)])
    # chord of the largest great-circle distance, widened a little so that a pair exactly on
    # the last edge is not lost to rounding (the weights below decide, from the haversine)
    chord = 2 * np.sin(max_km / (2 * EARTH_RADIUS_KM)) * (1 + 1e-9)
    pairs = cKDTree(points).query_pairs(chord, output_type="ndarray")
    itself = np.arange(len(latitude))
    origin = np.concatenate([itself, pairs[:, 0], pairs[:, 1]])
    destination = np.concatenate([itself, pairs[:, 1], pairs[:, 0]])
    distance = haversine_km(latitude[origin], longitude[origin],
                            latitude[destination], longitude[destination])
    minutes = travel_minutes(distance, detour_factor, speed_kmh)
    weight = decay_weight(minutes, bands)
    kept = weight > 0
    return Catchments(origin[kept], destination[kept], distance[kept], minutes[kept],
                      weight[kept])


@dataclass(frozen=True)
class Accessibility:
    accessibility: np.ndarray  # A_i: supply reachable per unit of demand at each place
    supply_ratio: np.ndarray  # R_j: supply per weighted demand around j, NaN if none reaches j


def two_step_fca(origin, destination, weight, supply, demand) -> Accessibility:
    """The two steps over the pairs (origin i = where the demand lives, destination j = where
    the supply is). Supply that no demand reaches has a NaN ratio and is accessible to nobody:
    the caller reports it."""
    origin = np.asarray(origin)
    destination = np.asarray(destination)
    weight = np.asarray(weight, dtype=float)
    supply = np.asarray(supply, dtype=float)
    demand = np.asarray(demand, dtype=float)
    places = len(supply)
    weighted_demand = np.bincount(destination, weights=weight * demand[origin], minlength=places)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(weighted_demand > 0, supply / weighted_demand, np.nan)
    reached = np.nan_to_num(ratio[destination], nan=0.0)
    accessibility = np.bincount(origin, weights=weight * reached, minlength=places)
    return Accessibility(accessibility, ratio)
