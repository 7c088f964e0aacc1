"""The APL-like 2SFCA for GPs (pipelines/access): the method on a three-commune example worked
out by hand, the decay bands' edges, the night's indicator rows on a hand-made warehouse and on
a real night, its absence without coordinates, and its speed on the real La Poste centroids.

The hand example lies on one meridian (longitude 2°E), where the great-circle distance is the
arc R·Δφ (R = 6371.0088 km): A at 45°N, B 5 km north of A, C 10 km north of B. At 60 km/h with
a 1.3 detour, a km of crow-fly distance takes 1.3 minutes:
  A–B 5 km → 6.5 min → weight 1; B–C 10 km → 13 min → 0.5; A–C 15 km → 19.5 min → 0;
  each commune reaches itself in 0 min (weight 1).
Population A 1,000, B 2,000, C 4,000; GP FTE A 2, B 0, C 1.
Step 1 (demand reaching each supply place, and its ratio):
  A: 1,000 + 2,000 = 3,000 → R_A = 2/3,000;  B: 1,000 + 2,000 + 0.5·4,000 = 5,000 → R_B = 0;
  C: 0.5·2,000 + 4,000 = 5,000 → R_C = 1/5,000.
Step 2 (supply reachable per inhabitant, × 100,000):
  A: R_A + R_B = 6.6667e-4 → 66.667;  B: R_A + R_B + 0.5·R_C = 7.6667e-4 → 76.667;
  C: 0.5·R_B + R_C = 2e-4 → 20.
The FTE accessible to each commune's inhabitants (A_i·P_i): 0.66667, 1.53333, 0.8 (sum 3 = all
the supply, which the 2SFCA conserves).
"""

import math
import shutil
import time

import duckdb
import numpy as np
import polars as pl
import pytest
from support import make_landing, real_data, run_night
from test_suppression_scan import scan_dashboards, scan_marts

from pipelines import stats
from pipelines.access import catchment
from pipelines.access.assets import compute_gp_accessibility
from pipelines.settings import Settings
from pipelines.transform.assets import build_indicator_values, load_catalogue

R = 6371.0088
KM_PER_DEGREE = R * math.pi / 180
LAT_A = 45.0
LAT_B = LAT_A + 5 / KM_PER_DEGREE
LAT_C = LAT_B + 10 / KM_PER_DEGREE
LATITUDES = np.array([LAT_A, LAT_B, LAT_C])
LONGITUDES = np.full(3, 2.0)
POPULATION = np.array([1000.0, 2000.0, 4000.0])
FTE = np.array([2.0, 0.0, 1.0])
APL = {"A": 1e5 * 2 / 3000, "B": 1e5 * (2 / 3000 + 0.5 / 5000), "C": 1e5 / 5000}
ACCESSIBLE_FTE = {"A": 1000 * 2 / 3000, "B": 2000 * (2 / 3000 + 0.5 / 5000), "C": 4000 / 5000}


def test_distance_and_time_on_a_meridian():
    assert catchment.haversine_km(LAT_A, 2.0, LAT_C, 2.0) == pytest.approx(15.0, abs=1e-9)
    # Paris (48.8566, 2.3522) – Lyon (45.7640, 4.8357): 391.5 km on the sphere (published
    # great-circle distance, e.g. the GeographicLib/Movable Type calculators give 391.5 km)
    assert catchment.haversine_km(48.8566, 2.3522, 45.7640, 4.8357) == pytest.approx(391.5,
                                                                                   abs=0.5)
    assert catchment.travel_minutes(10.0) == pytest.approx(13.0)  # 10 km × 1.3 at 1 km/min


def test_band_edges_are_pinned():
    just = np.nextafter
    minutes = [0.0, 9.5, 10.0, just(10.0, 11.0), 12.0, 15.0, just(15.0, 16.0), 15.5, 400.0]
    assert catchment.decay_weight(minutes).tolist() == [1, 1, 1, 0.5, 0.5, 0.5, 0, 0, 0]


def test_pairs_on_either_side_of_the_last_edge():
    # 15 minutes = 15 / 1.3 km; a place a metre inside is reached (0.5), a metre outside is not
    edge_km = 15 / 1.3
    latitudes = LAT_A + np.array([0.0, (edge_km - 0.001) / KM_PER_DEGREE,
                                  -(edge_km + 0.001) / KM_PER_DEGREE])
    pairs = catchment.catchments(latitudes, np.full(3, 2.0))
    reached = {(int(o), int(d)): w for o, d, w in zip(pairs.origin, pairs.destination,
                                                      pairs.weight, strict=True)}
    assert reached == {(0, 0): 1.0, (1, 1): 1.0, (2, 2): 1.0, (0, 1): 0.5, (1, 0): 0.5}


def test_three_communes_by_hand():
    pairs = catchment.catchments(LATITUDES, LONGITUDES)
    weights = {(int(o), int(d)): w for o, d, w in zip(pairs.origin, pairs.destination,
                                                      pairs.weight, strict=True)}
    assert weights == {(0, 0): 1, (1, 1): 1, (2, 2): 1, (0, 1): 1, (1, 0): 1,
                       (1, 2): 0.5, (2, 1): 0.5}
    result = catchment.two_step_fca(pairs.origin, pairs.destination, pairs.weight, FTE,
                                    POPULATION)
    assert (1e5 * result.accessibility).tolist() == pytest.approx(
        [APL["A"], APL["B"], APL["C"]], rel=1e-12)
    assert result.supply_ratio.tolist() == pytest.approx([2 / 3000, 0.0, 1 / 5000], rel=1e-12)


def test_supply_that_no_inhabitant_reaches_is_reported_not_spread():
    # a GP alone in an empty commune 100 km away: ratio NaN, nobody gains from it
    result = catchment.two_step_fca([0, 1], [0, 1], [1.0, 1.0], [1.0, 3.0], [500.0, 0.0])
    assert result.accessibility.tolist() == [1 / 500, 0.0]
    assert math.isnan(result.supply_ratio[1])


def test_catalogue_states_the_constants_the_code_uses():
    entry = next(e for e in load_catalogue() if e["id"] == "apl_medecins_generalistes")
    assert entry["detour_factor"] == catchment.DETOUR_FACTOR
    assert entry["speed_kmh"] == catchment.SPEED_KMH
    assert catchment.DECAY_BANDS == ((10.0, 1.0), (15.0, 0.5))
    assert "10 minutes inclus : poids 1" in entry["decay_bands"]
    assert "15 minutes inclus : poids 0,5" in entry["decay_bands"]
    assert entry["requires"] == "commune_centroids"


# --- the night's code on a hand-made warehouse -------------------------------------------------

# Communes A, B (EPCI E1) and C (EPCI E2), département D1 = région R1. La Poste wrote A under a
# former code (OLD_A), which the lookup maps to A. Two GPs in A and one in C, FTE 1 every month
# of 2024; a nurse in B (not a GP: no supply).
GPS = [("g1", "A"), ("g2", "A"), ("g3", "C")]


def hand_warehouse(path, centroids: bool = True) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path / "access.duckdb"))
    for schema in ("ref", "staging", "marts"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("CREATE TABLE ref.communes AS SELECT * FROM (VALUES "
                "('A', 'Ahun', 'D1', 'R1', 'E1', 1000), ('B', 'Bé', 'D1', 'R1', 'E1', 2000), "
                "('C', 'Cé', 'D1', 'R1', 'E2', 4000)) t(commune_code, commune_name, "
                "department_code, region_code, epci_code, population)")
    con.execute("CREATE TABLE ref.commune_code_lookup AS SELECT * FROM (VALUES "
                "('A', 'A', 'actuelle'), ('OLD_A', 'A', 'ancien_code'), ('B', 'B', 'actuelle'), "
                "('C', 'C', 'actuelle')) t(code, current_code, via)")
    con.execute("CREATE TABLE ref.epci AS SELECT * FROM (VALUES ('E1', 'CC Un'), "
                "('E2', 'CC Deux')) t(epci_code, epci_name)")
    con.execute("CREATE TABLE ref.departements AS SELECT 'D1' AS department_code, "
                "'Département Un' AS department_name, 'R1' AS region_code")
    con.execute("CREATE TABLE ref.regions AS SELECT 'R1' AS region_code, "
                "'Région Une' AS region_name")
    if centroids:
        con.execute("CREATE TABLE staging.commune_centroids (commune_code VARCHAR, "
                    "latitude DOUBLE, longitude DOUBLE, point_count BIGINT, "
                    "_source_file VARCHAR)")
        con.executemany("INSERT INTO staging.commune_centroids VALUES (?, ?, 2.0, 1, 'lp.csv')",
                        [("OLD_A", LAT_A), ("B", LAT_B), ("C", LAT_C)])
    else:  # what the night stages when no file was supplied
        con.execute("CREATE TABLE staging.commune_centroids (_source_file VARCHAR)")
    con.execute("CREATE TABLE staging.activity (period_month DATE, professional_hash VARCHAR, "
                "profession_code VARCHAR, commune_code VARCHAR, fte DOUBLE)")
    months = [f"2024-{m:02d}-01" for m in range(1, 13)]
    rows = [(m, who, "medecin_generaliste", where, 1.0) for who, where in GPS for m in months]
    rows += [(m, "n1", "infirmier", "B", 1.0) for m in months]
    rows += [("2025-01-01", "g1", "medecin_generaliste", "A", 1.0)]  # an incomplete year
    con.executemany("INSERT INTO staging.activity VALUES (?, ?, ?, ?, ?)", rows)
    stats.register_duckdb_functions(con)
    return con


def apl_rows(con, path, activity_threshold: int) -> dict:
    catchments_frame, accessibility = compute_gp_accessibility(con)
    for table, frame in (("commune_catchments", catchments_frame),
                         ("gp_accessibility", accessibility)):
        con.register("incoming", frame.to_arrow())
        con.execute(f"CREATE TABLE staging.{table} AS SELECT * FROM incoming")
        con.unregister("incoming")
    entry = [e for e in load_catalogue() if e["id"] == "apl_medecins_generalistes"]
    settings = Settings(home=path, landing=path, activity_threshold=activity_threshold)
    frame = build_indicator_values(con, settings, catalogue=entry)
    return {(r["geo_level"], r["geo_code"], r["period"]): r for r in frame.iter_rows(named=True)}


def test_indicator_rows_by_hand(tmp_path):
    con = hand_warehouse(tmp_path)
    # threshold 2 so that most cells show; the commune C reaches one GP (g3) only
    rows = apl_rows(con, tmp_path, activity_threshold=2)
    assert set(rows) == {("commune", c, "2024") for c in "ABC"} | {
        ("epci", "E1", "2024"), ("epci", "E2", "2024"), ("departement", "D1", "2024"),
        ("region", "R1", "2024")}
    # D1 (= R1): all 3 FTE over 7,000 inhabitants
    d1 = 1e5 * 3 / 7000
    # distinct GPs within reach: A reaches A, B (g1, g2); B reaches all (3); C reaches B, C (g3);
    # E1 reaches A, B, C (3); D1 and R1: 3. Exact Poisson 95 % limits (Garwood 1936; Ulm 1990):
    # 2 → (0.24221, 7.2247), 3 → (0.61867, 8.7673).
    poisson = {2: (0.24221, 7.2247), 3: (0.61867, 8.7673)}
    expected = {  # value, numerator, denominator, GPs in reach, reference, flag
        ("commune", "B"): (APL["B"], ACCESSIBLE_FTE["B"], 2000, 3, d1, "similaire"),
        ("departement", "D1"): (d1, 3.0, 7000, 3, d1, "similaire"),
    }
    for (level, code), (value, numerator, denominator, gps, reference, flag) in expected.items():
        row = rows[level, code, "2024"]
        low, high = poisson[gps]
        assert row["suppressed"] is False, (level, code)
        assert row["value"] == pytest.approx(value, rel=1e-9)
        assert row["numerator"] == pytest.approx(numerator, rel=1e-9)
        assert row["denominator"] == denominator
        assert row["ci_low"] == pytest.approx(value * low / gps, rel=1e-4)
        assert row["ci_high"] == pytest.approx(value * high / gps, rel=1e-4)
        assert row["reference_value"] == pytest.approx(reference, rel=1e-9)
        assert row["comparison_flag"] == flag
    assert rows["region", "R1", "2024"]["reference_value"] is None
    assert rows["commune", "A", "2024"]["geo_name"] == "Ahun"
    assert rows["commune", "A", "2024"]["unit"] == "ETP pour 100 000 habitants"
    # C and E2 reach one GP: hidden. Accessible FTE add up (D1 = A + B + C, D1 = E1 + E2), so
    # with D1 published, C would be D1 − A − B and E2 would be D1 − E1: the smallest published
    # part of each sum, A (2 GPs) and E1, is hidden too. Value and interval blanked for all four.
    for key in (("commune", "C", "2024"), ("epci", "E2", "2024"),
                ("commune", "A", "2024"), ("epci", "E1", "2024")):
        assert rows[key]["suppressed"] is True
        assert (rows[key]["value"], rows[key]["ci_low"], rows[key]["numerator"]) == (
            None, None, None)


def test_default_threshold_hides_territories_reaching_under_11_gps(tmp_path):
    rows = apl_rows(hand_warehouse(tmp_path), tmp_path, activity_threshold=11)
    assert rows and all(r["suppressed"] and r["value"] is None for r in rows.values())


def test_absent_coordinates_give_no_rows_not_zeros(tmp_path):
    con = hand_warehouse(tmp_path, centroids=False)
    catchments_frame, accessibility = compute_gp_accessibility(con)
    assert catchments_frame.is_empty() and accessibility.is_empty()
    assert apl_rows(con, tmp_path, activity_threshold=2) == {}


def test_a_commune_without_coordinates_is_reported_and_its_territories_not_computed(tmp_path):
    con = hand_warehouse(tmp_path)
    con.execute("DELETE FROM staging.commune_centroids WHERE commune_code = 'C'")
    _, accessibility = compute_gp_accessibility(con)
    c = accessibility.filter(pl.col("commune_code") == "C").row(0, named=True)
    assert (c["status"], c["gp_fte"], c["apl"]) == ("coordonnées absentes", 1.0, None)
    rows = apl_rows(con, tmp_path, activity_threshold=2)
    # A and B are computed without C's supply or demand; E2, D1 and R1 hold C: not computed
    assert set(rows) == {("commune", "A", "2024"), ("commune", "B", "2024"),
                         ("epci", "E1", "2024")}
    assert rows["commune", "A", "2024"]["value"] == pytest.approx(1e5 * 2 / 3000)


def test_absent_coordinates_on_a_night_report_not_computed(published):
    """The session's tiny landing has no reference/laposte/: the indicator says why."""
    entry = next(e for e in load_catalogue() if e["id"] == "apl_medecins_generalistes")
    status = published.execute(
        "SELECT rows, status, reason FROM marts.indicator_status "
        "WHERE indicator_id = 'apl_medecins_generalistes'").fetchone()
    assert status == (0, "non calculé", entry["requires_note"])
    assert published.execute("SELECT count(*) FROM staging.gp_accessibility").fetchone() == (0,)


# --- real centroids -----------------------------------------------------------------------------


def test_a_whole_departement_on_the_la_poste_centroids_in_under_a_minute():
    from pipelines.sources.public.laposte import read_laposte_centroids

    centroids = read_laposte_centroids(real_data("geography/laposte_hexasmal.csv"))
    nord = centroids.filter(pl.col("commune_code").str.starts_with("59")
                            & pl.col("latitude").is_not_null())
    assert nord.height >= 640  # 648 communes in 2020
    rng = np.random.default_rng(59)
    population = rng.integers(100, 20_000, nord.height).astype(float)
    fte = rng.poisson(1.5, nord.height) * rng.uniform(0.5, 1.1, nord.height)
    started = time.perf_counter()
    pairs = catchment.catchments(nord["latitude"].to_numpy(), nord["longitude"].to_numpy())
    result = catchment.two_step_fca(pairs.origin, pairs.destination, pairs.weight, fte,
                                    population)
    elapsed = time.perf_counter() - started
    print(f"\n2SFCA on {nord.height} communes of Nord: {len(pairs.origin)} pairs, "
          f"{elapsed:.3f} s")
    assert elapsed < 60
    # every commune reaches itself, and supply is conserved (no commune is empty)
    assert len(pairs.origin) > nord.height
    assert (result.accessibility * population).sum() == pytest.approx(fte.sum(), rel=1e-9)


def test_a_night_with_la_poste_centroids_publishes_apl_rows(tmp_path):
    landing = make_landing(tmp_path / "landing")
    (landing / "reference" / "laposte").mkdir(parents=True)
    shutil.copy(real_data("geography/laposte_hexasmal.csv"), landing / "reference" / "laposte")
    home = tmp_path / "home"
    result = run_night(home, landing)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    con = duckdb.connect(str(home / "warehouse" / "observatoire.duckdb"), read_only=True)
    status = con.execute("SELECT status FROM marts.indicator_status "
                         "WHERE indicator_id = 'apl_medecins_generalistes'").fetchone()
    assert status == ("calculé",)
    levels = dict(con.execute(
        "SELECT geo_level, count(*) FROM marts.indicator_values "
        "WHERE indicator_id = 'apl_medecins_generalistes' GROUP BY ALL").fetchall())
    communes = con.execute("SELECT count(*) FROM ref.communes "
                           "WHERE department_code IN ('16', '47')").fetchone()[0]
    assert levels["commune"] == 2 * communes  # two complete years, every commune located
    assert levels["departement"] == 2 * 2
    # Charente and Lot-et-Garonne are more than 15 minutes apart, so each département's APL
    # holds exactly its own GP FTE: ten times its GP FTE per 10,000 inhabitants (densite_etp)
    pairs = con.execute("""
        SELECT a.geo_code, a.period, a.value, d.value
        FROM marts.indicator_values a
        JOIN marts.indicator_values d USING (geo_level, geo_code, period)
        WHERE a.indicator_id = 'apl_medecins_generalistes' AND a.geo_level = 'departement'
          AND d.indicator_id = 'densite_etp' AND d.category = 'medecin_generaliste'
    """).fetchall()
    assert len(pairs) == 4
    for code, period, apl, density in pairs:
        assert apl == pytest.approx(10 * density, rel=1e-9), (code, period)
    hidden = con.execute(
        "SELECT count(*) FILTER (WHERE suppressed), count(*) FILTER (WHERE suppressed AND "
        "value IS NOT NULL) FROM marts.indicator_values "
        "WHERE indicator_id = 'apl_medecins_generalistes'").fetchone()
    assert hidden[0] > 0 and hidden[1] == 0
    # communes add up to their EPCI and département (numerators and populations): a published
    # territory with exactly one hidden commune would give it back. stats.suppress does not link
    # territorial levels, so this is measured on this night, not guaranteed (min is 2 here).
    one_hidden = con.execute("""
        WITH v AS (SELECT * FROM marts.indicator_values
                   WHERE indicator_id = 'apl_medecins_generalistes'),
        m AS (SELECT 'epci' AS level, epci_code AS code, commune_code FROM ref.communes
              UNION ALL SELECT 'departement', department_code, commune_code FROM ref.communes)
        SELECT count(*) FROM (
            SELECT p.geo_code, p.period, sum(c.suppressed::INTEGER) AS hidden
            FROM v p
            JOIN m ON m.level = p.geo_level AND m.code = p.geo_code
            JOIN v c ON c.geo_level = 'commune' AND c.geo_code = m.commune_code
                    AND c.period = p.period
            WHERE NOT p.suppressed GROUP BY ALL)
        WHERE hidden = 1""").fetchone()[0]
    assert one_hidden == 0
    # the suppression scan of acceptance 4, on this night's marts and extracts with APL rows
    assert scan_marts(con) == []
    assert scan_dashboards(home / "dashboards") == []
    con.close()

