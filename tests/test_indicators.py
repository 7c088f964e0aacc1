"""Every indicator of the catalogue on a small hand-made warehouse, run through the function the
night uses (pipelines.transform.assets.build_indicator_values), against values, intervals and
comparison flags worked out by hand below; then the catalogue against a real night.

The hand-made territory: région R1 (20,000 inhabitants) = département D1 (EPCI E1: communes C1
1,000 and C2 3,000 inhabitants; EPCI E2: commune C3 6,000) + département D2 (EPCI E3: commune
C4 10,000). The activity panel runs 2023-01 to 2024-12; a nurse in C4 is active every month so
that both years are complete and D2 is covered.

Reference values used below (z = 1.959964, z² = 3.841459):
- exact Poisson 95 % limits (Garwood 1936; Ulm 1990, Am J Epidemiol 131:373, table):
  0 → (0, 3.6889), 1 → (0.02532, 5.5716), 2 → (0.24221, 7.2247);
- Wilson (Newcombe 1998, method 3), (p + z²/2n ∓ z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n):
  1/3: centre .333333 + .640243 = .973577, half 1.959964·sqrt(.074074 + .106707) = .833343,
       1 + z²/n = 2.280486 → .061493, .792340;
  2/3: centre 1.306910, same half and divisor → .207662, .938507;
  2/4: centre .5 + .480182 = .980182, half 1.959964·sqrt(.0625 + .060023) = .686052,
       1 + z²/n = 1.960365 → .150038, .849961;
  0/1: centre = half = 1.920729, 1 + z² = 4.841459 → 0, .793452.
"""

import datetime as dt
import math

import duckdb
import polars as pl
import pytest

from pipelines import stats
from pipelines.settings import Settings
from pipelines.transform.assets import build_indicator_values, load_catalogue

Z = 1.959964
POISSON = {0: (0.0, 3.6889), 1: (0.02532, 5.5716), 2: (0.24221, 7.2247)}
WILSON = {(1, 3): (0.061493, 0.792340), (2, 3): (0.207662, 0.938507),
          (2, 4): (0.150038, 0.849961), (0, 1): (0.0, 0.793452)}

COMMUNES = [  # code, name, département, région, EPCI, population
    ("C1", "Un", "D1", "R1", "E1", 1000),
    ("C2", "Deux", "D1", "R1", "E1", 3000),
    ("C3", "Trois", "D1", "R1", "E2", 6000),
    ("C4", "Quatre", "D2", "R1", "E3", 10000),
]
ACTIVITY_COLUMNS = ("period_month", "professional_hash", "profession_code", "commune_code",
                    "birth_year", "fte", "acts", "patients_referring", "unscheduled_care")
GP, NURSE = "medecin_generaliste", "infirmier"


def month(text: str) -> dt.date:
    year, m = text.split("-")
    return dt.date(int(year), int(m), 1)


def months(first: str, last: str) -> list[dt.date]:
    start, end = month(first), month(last)
    out = []
    while start <= end:
        out.append(start)
        start = dt.date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return out


def pseudonym(who: str) -> int:
    """A hand-made professional's pseudonym: an integer of 2^62 or more, as the night's."""
    return (1 << 62) + int.from_bytes(who.encode(), "big")


def present(who, profession, commune, first="2023-01", last="2024-12", birth_year=1975,
            fte=1.0, acts=100, patients_referring=None, unscheduled=None):
    return [(m, pseudonym(who), profession, commune, birth_year, fte, acts, patients_referring,
             unscheduled) for m in months(first, last)]


FILLER = present("filler", NURSE, "C4", acts=300)


def insert(con, statement: str, rows) -> None:
    if rows:
        con.executemany(statement, rows)


def warehouse(path, activity=(), census=(), census_communes=(), followup=(),
              followup_communes=()) -> duckdb.DuckDBPyConnection:
    """A DuckDB file with the ref and staging tables the indicator models read."""
    con = duckdb.connect(str(path / "hand.duckdb"))
    for schema in ("ref", "staging", "marts"):
        con.execute(f"CREATE SCHEMA {schema}")
    con.execute("CREATE TABLE ref.communes (commune_code VARCHAR, commune_name VARCHAR, "
                "department_code VARCHAR, region_code VARCHAR, epci_code VARCHAR, "
                "population BIGINT)")
    insert(con, "INSERT INTO ref.communes VALUES (?, ?, ?, ?, ?, ?)", COMMUNES)
    con.execute("CREATE TABLE ref.epci AS SELECT * FROM (VALUES ('E1', 'CC Une'), "
                "('E2', 'CC Deux'), ('E3', 'CC Trois')) t(epci_code, epci_name)")
    con.execute("CREATE TABLE ref.departements AS SELECT * FROM (VALUES "
                "('D1', 'Département Un', 'R1'), ('D2', 'Département Deux', 'R1')) "
                "t(department_code, department_name, region_code)")
    con.execute("CREATE TABLE ref.regions AS SELECT * FROM (VALUES ('R1', 'Région Test')) "
                "t(region_code, region_name)")
    con.execute("CREATE TABLE staging.activity (period_month DATE, professional_hash BIGINT, "
                "profession_code VARCHAR, commune_code VARCHAR, birth_year INTEGER, "
                "fte DECIMAL(12, 4), acts BIGINT, patients_referring BIGINT, "
                "unscheduled_care BIGINT)")
    insert(con, f"INSERT INTO staging.activity VALUES ({', '.join('?' * 9)})",
                    [*FILLER, *activity])
    con.execute("CREATE TABLE staging.census (project_id VARCHAR, census_date DATE, "
                "region_code VARCHAR, territory VARCHAR, project_name VARCHAR, "
                "structure_type VARCHAR, stage_code VARCHAR, fragile_zone BOOLEAN, "
                "near_zus BOOLEAN, nmr_modules VARCHAR)")
    insert(
        con, "INSERT INTO staging.census VALUES (?, ?, 'R1', ?, ?, ?, ?, ?, ?, ?)",
        [(p, month(d), t, p, kind, stage, fragile, zus, nmr)
         for p, d, t, kind, stage, fragile, zus, nmr in census],
    )
    con.execute("CREATE TABLE staging.census_communes (project_id VARCHAR, census_date DATE, "
                "commune_code VARCHAR)")
    insert(con, "INSERT INTO staging.census_communes VALUES (?, ?, ?)",
                    [(p, month(d), c) for p, d, c in census_communes])
    con.execute("CREATE TABLE staging.followup (programme VARCHAR, territory VARCHAR, "
                "criterion VARCHAR, period VARCHAR, value DOUBLE, target DOUBLE, "
                "target_direction VARCHAR, milestone VARCHAR)")
    # a row may end with its target's direction, « au moins » when it does not, then a step's
    # state
    insert(con, "INSERT INTO staging.followup VALUES (?, 'Territoire', ?, ?, ?, ?, ?, ?)",
           [(*r[:5], r[5] if len(r) > 5 else "au moins" if r[4] is not None else None,
             r[6] if len(r) > 6 else None)
            for r in followup])
    con.execute("CREATE TABLE staging.followup_communes (programme VARCHAR, "
                "commune_code VARCHAR)")
    insert(con, "INSERT INTO staging.followup_communes VALUES (?, ?)",
           list(followup_communes))
    stats.register_duckdb_functions(con)
    return con


def run(con, tmp_path, indicator_id, count_threshold=1, activity_threshold=1) -> dict:
    """The night's function on one catalogue entry → {(geo_level, geo_code, period, category): row}.

    Thresholds of 1 publish every cell, so that values can be checked; suppression has its own
    tests with the default thresholds.
    """
    entry = next(e for e in load_catalogue() if e["id"] == indicator_id)
    settings = Settings(home=tmp_path, landing=tmp_path, count_threshold=count_threshold,
                        activity_threshold=activity_threshold)
    frame = build_indicator_values(con, settings, catalogue=[entry])
    assert set(frame["indicator_id"]) <= {indicator_id}
    return {(r["geo_level"], r["geo_code"], r["period"], r["category"]): r
            for r in frame.iter_rows(named=True)}


def check(row, value, ci=None, reference=None, flag=None, rel=1e-3):
    assert row["value"] == pytest.approx(value, rel=rel, abs=1e-9)
    if ci is not None:
        assert row["ci_low"] == pytest.approx(ci[0], rel=rel, abs=1e-6)
        assert row["ci_high"] == pytest.approx(ci[1], rel=rel, abs=1e-6)
    if reference is not None:
        assert row["reference_value"] == pytest.approx(reference, rel=rel)
    if flag is not None:
        assert row["comparison_flag"] == flag


def byar(count: float) -> tuple[float, float]:
    """Byar's approximation written out (Breslow & Day 1987, vol. II, eq. 2.15)."""
    low = count * (1 - 1 / (9 * count) - Z / (3 * math.sqrt(count))) ** 3
    high = (count + 1) * (1 - 1 / (9 * (count + 1)) + Z / (3 * math.sqrt(count + 1))) ** 3
    return low, high


def wilson(k: float, n: float) -> tuple[float, float]:
    """The score interval written out, for counts too large for the table above."""
    p = k / n
    centre = p + Z * Z / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - half) / (1 + Z * Z / n), (centre + half) / (1 + Z * Z / n)


# --- supply ------------------------------------------------------------------------------------

TWO_GPS_IN_C1 = [*present("a", GP, "C1", fte=0.5), *present("b", GP, "C1", fte=1.0)]


def test_densite_professionnels(tmp_path):
    rows = run(warehouse(tmp_path, TWO_GPS_IN_C1), tmp_path, "densite_professionnels")
    # E1: 2 GPs / 4,000 inhabitants × 10,000 = 5; D1 (its reference): 2 / 10,000 × 10,000 = 2
    check(rows["epci", "E1", "2023", GP], 5.0,
          ci=(0.24221 * 2.5, 7.2247 * 2.5), reference=2.0, flag="similaire")
    # E2 has no GP: a published 0, with the interval of a zero count
    check(rows["epci", "E2", "2023", GP], 0.0, ci=(0.0, 3.6889 * 10_000 / 6_000))


def test_densite_etp(tmp_path):
    rows = run(warehouse(tmp_path, TWO_GPS_IN_C1), tmp_path, "densite_etp")
    # E1 2023: (0.5 × 12 + 1.0 × 12) / 12 = 1.5 FTE for 4,000 inhabitants → 3.75 per 10,000;
    # interval: 2 professionals' exact limits × 10,000/4,000 × 0.75 FTE per professional
    e1 = rows["epci", "E1", "2023", GP]
    check(e1, 3.75, ci=(0.24221 * 2.5 * 0.75, 7.2247 * 2.5 * 0.75), reference=1.5,
          flag="similaire")
    assert e1["numerator"] == pytest.approx(1.5)
    assert e1["denominator"] == 4000
    check(rows["departement", "D1", "2023", GP], 1.5, reference=0.75)  # région: 1.5 / 20,000
    check(rows["epci", "E1", "2023", "ensemble"], 3.75)


def test_densite_etp_follows_the_headcount_threshold(tmp_path):
    rows = run(warehouse(tmp_path, TWO_GPS_IN_C1), tmp_path, "densite_etp",
               activity_threshold=11)
    hidden = rows["epci", "E1", "2023", GP]
    # 2 GPs < 11: hidden although 1.5 FTE is no headcount; the margin (same 2) is hidden too
    assert hidden["suppressed"] and hidden["value"] is None and hidden["numerator"] is None
    assert rows["epci", "E1", "2023", "ensemble"]["suppressed"]
    assert "suppression_count" not in rows["epci", "E1", "2023", GP]


# a GP in C1 and, from July 2023, in C2 too (both in E1), where the files give another birth
# year; another in C1 and C3 (E1 and E2, both in D1)
TWO_WORKPLACES = [
    *present("a", GP, "C1", fte=0.5, birth_year=1964),
    *present("a", GP, "C2", first="2023-07", fte=0.25, birth_year=1963),
    *present("b", GP, "C1", fte=1.0),
    *present("b", GP, "C3", fte=0.5),
]


def test_a_professional_in_two_communes_of_a_territory_counts_once(tmp_path):
    con = warehouse(tmp_path, TWO_WORKPLACES)
    heads = run(con, tmp_path, "densite_professionnels")
    assert heads["epci", "E1", "2023", GP]["numerator"] == 2
    assert heads["epci", "E2", "2023", GP]["numerator"] == 1
    assert heads["departement", "D1", "2023", GP]["numerator"] == 2
    assert heads["departement", "D1", "2023", "ensemble"]["numerator"] == 2
    fte = run(con, tmp_path, "densite_etp")
    # E1 2023: a's 0.5 × 12 + 0.25 × 6 and b's 1.0 × 12 FTE-months; D1 adds b's 0.5 × 12 in C3
    assert fte["epci", "E1", "2023", GP]["numerator"] == pytest.approx(19.5 / 12)
    assert fte["departement", "D1", "2023", "ensemble"]["numerator"] == pytest.approx(25.5 / 12)
    aged = run(con, tmp_path, "part_60_ans_et_plus")
    # a's latest birth year, 1964: 59 in 2023, 60 in 2024; b (1975) is not
    assert aged["epci", "E1", "2023", GP]["numerator"] == 0
    assert (aged["epci", "E1", "2024", GP]["numerator"],
            aged["epci", "E1", "2024", GP]["denominator"]) == (1, 2)
    assert aged["departement", "D1", "2024", "ensemble"]["denominator"] == 2


def test_indicators_run_on_an_activity_table_without_the_columns_they_do_not_read(tmp_path):
    con = warehouse(tmp_path, TWO_GPS_IN_C1)
    for column in ("birth_year", "acts", "patients_referring", "unscheduled_care"):
        con.execute(f"ALTER TABLE staging.activity DROP COLUMN {column}")
    for indicator in ("densite_etp", "installations", "departs", "departs_remplaces"):
        run(con, tmp_path, indicator)
    assert run(con, tmp_path, "densite_professionnels")["epci", "E1", "2023", GP]["numerator"] == 2


def test_part_60_ans_et_plus(tmp_path):
    gps = [*present("a", GP, "C1", birth_year=1960),   # 63 in 2023
           *present("b", GP, "C1", birth_year=1970),   # 53
           *present("c", GP, "C1", birth_year=1964),   # 59 in 2023, 60 in 2024
           *present("d", GP, "C3", birth_year=None)]   # unknown: left out
    rows = run(warehouse(tmp_path, gps), tmp_path, "part_60_ans_et_plus")
    low, high = WILSON[1, 3]
    check(rows["epci", "E1", "2023", GP], 100 / 3, ci=(100 * low, 100 * high),
          reference=100 / 3, flag="similaire")
    low, high = WILSON[2, 3]
    check(rows["epci", "E1", "2024", GP], 200 / 3, ci=(100 * low, 100 * high))
    assert rows["epci", "E1", "2024", GP]["denominator"] == 3


def test_part_60_ans_et_plus_reads_the_age_band_where_there_is_no_birth_year(tmp_path):
    gps = [*present("a", GP, "C1", birth_year=None),   # « 60 ans et plus »
           *present("b", GP, "C1", birth_year=None),   # « 55-59 », then « 60-64 » from 2024-07
           *present("c", GP, "C1", birth_year=None),   # « 55-64 »: across 60, says nothing
           *present("d", GP, "C1", birth_year=1970),   # 53 in 2023: its « 60+ » is ignored
           *present("e", GP, "C1", birth_year=None)]   # no band: left out
    con = warehouse(tmp_path, gps)
    con.execute("ALTER TABLE staging.activity ADD COLUMN aged_60_by_band BOOLEAN")
    for who, aged, since in (("a", True, "2023-01"), ("b", False, "2023-01"),
                             ("b", True, "2024-07"), ("d", True, "2023-01")):
        con.execute("UPDATE staging.activity SET aged_60_by_band = ? WHERE professional_hash = ? "
                    "AND period_month >= ?", [aged, pseudonym(who), month(since)])
    rows = run(con, tmp_path, "part_60_ans_et_plus")
    # 2023: a of a, b, d; 2024: a and b (60 in one of its months) of the same three
    assert (rows["epci", "E1", "2023", GP]["numerator"],
            rows["epci", "E1", "2023", GP]["denominator"]) == (1, 3)
    assert (rows["epci", "E1", "2024", GP]["numerator"],
            rows["epci", "E1", "2024", GP]["denominator"]) == (2, 3)


MOVES = [
    *present("p1", GP, "C1"),                                 # there all along
    *present("p2", GP, "C1", first="2023-04"),                # settles in 2023
    *present("p3", GP, "C1", last="2023-06"),                 # leaves in 2023
    *present("p4", NURSE, "C1", first="2023-03", last="2023-09"),  # both, in 2023
    *present("p5", GP, "C1", last="2024-01"),                 # moves from E1 to E2 in 2024
    *present("p5", GP, "C3", first="2024-02"),
    *present("p6", GP, "C1", first="2024-12"),                # settles in the panel's last month
]


def test_installations(tmp_path):
    rows = run(warehouse(tmp_path, MOVES), tmp_path, "installations")
    check(rows["epci", "E1", "2023", GP], 1, ci=POISSON[1])
    check(rows["epci", "E1", "2023", NURSE], 1, ci=POISSON[1])
    check(rows["epci", "E1", "2023", "ensemble"], 2, ci=POISSON[2])
    check(rows["epci", "E1", "2024", GP], 1)          # p6
    check(rows["epci", "E2", "2024", GP], 1)          # p5 arrives in E2…
    check(rows["departement", "D1", "2024", GP], 1)   # …but not in D1: only p6
    check(rows["epci", "E3", "2023", GP], 0, ci=POISSON[0])
    assert rows["epci", "E1", "2023", GP]["comparison_flag"] == "non comparable"


def test_departs(tmp_path):
    rows = run(warehouse(tmp_path, MOVES), tmp_path, "departs")
    check(rows["epci", "E1", "2023", "ensemble"], 2, ci=POISSON[2])   # p3, p4
    check(rows["epci", "E1", "2024", GP], 1, ci=POISSON[1])           # p5 leaves E1
    check(rows["departement", "D1", "2024", "ensemble"], 0)           # p5 stays in D1
    check(rows["epci", "E2", "2024", GP], 0)


def test_solde_installations(tmp_path):
    rows = run(warehouse(tmp_path, MOVES), tmp_path, "solde_installations")
    check(rows["epci", "E1", "2023", "ensemble"], 0, ci=(-Z * 2, Z * 2))    # 2 − 2, √(2 + 2)
    check(rows["departement", "D1", "2024", "ensemble"], 1, ci=(1 - Z, 1 + Z))  # 1 − 0
    check(rows["epci", "E1", "2024", GP], 0, ci=(-Z * math.sqrt(2), Z * math.sqrt(2)))


def test_solde_hidden_when_either_count_is_small(tmp_path):
    rows = run(warehouse(tmp_path, MOVES), tmp_path, "solde_installations", count_threshold=5)
    # 1 installation and 0 departure: the balance would give the hidden installation back
    assert rows["departement", "D1", "2024", "ensemble"]["suppressed"]
    assert rows["epci", "E1", "2023", "ensemble"]["suppressed"]
    nothing = rows["epci", "E3", "2023", "ensemble"]   # 0 and 0 describe nobody
    assert not nothing["suppressed"] and nothing["value"] == 0


def test_departs_remplaces_matches_one_departure_to_one_installation(tmp_path):
    gps = [
        *present("da", GP, "C1", last="2023-03"),
        *present("db", GP, "C1", last="2023-03"),
        *present("dc", GP, "C1", last="2023-11"),
        *present("dd", GP, "C1", last="2024-03"),      # 2024: window beyond the panel
        *present("i1", GP, "C1", first="2023-04"),
        *present("i2", GP, "C1", first="2024-06"),
        *present("n1", NURSE, "C1", first="2023-05"),  # another profession replaces nobody
    ]
    rows = run(warehouse(tmp_path, gps), tmp_path, "departs_remplaces")
    # da takes i1 (1 month later); db finds only i2, 15 months later: not replaced; dc takes i2
    # (7 months). "At least one installation in the window" would have said 3 of 3.
    low, high = WILSON[2, 3]
    row = rows["epci", "E1", "2023", GP]
    check(row, 200 / 3, ci=(100 * low, 100 * high), reference=200 / 3, flag="similaire")
    assert (row["numerator"], row["denominator"]) == (2, 3)
    assert not any(key[2] == "2024" for key in rows)


# --- activity ----------------------------------------------------------------------------------

RATES = [
    *present("a", GP, "C1", fte=1.0, acts=400, patients_referring=1000, unscheduled=100),
    *present("b", GP, "C1", fte=0.5, acts=100, patients_referring=500, unscheduled=50),
    *present("c", GP, "C3", fte=1.0, acts=200, patients_referring=600, unscheduled=20),
]


def test_actes_par_etp(tmp_path):
    rows = run(warehouse(tmp_path, RATES), tmp_path, "actes_par_etp")
    # E1 2023: (400 + 100) × 12 = 6,000 acts over (1.0 + 0.5) × 12 = 18 FTE-months
    low, high = byar(6000)
    # D1: (6,000 + 2,400) / 30 = 280, below E1's interval; polarity neutral
    check(rows["epci", "E1", "2023", GP], 6000 / 18, ci=(low / 18, high / 18), reference=280,
          flag="supérieur")
    assert not any(key[3] == "ensemble" for key in rows)  # no all-professions sum of acts


def test_patients_mt_par_etp_mg(tmp_path):
    rows = run(warehouse(tmp_path, RATES), tmp_path, "patients_mt_par_etp_mg")
    # E1: mean monthly patients 1,000 + 500 = 1,500 over mean monthly FTE 1.5 → 1,000;
    # D1: (1,500 + 600) / 2.5 = 840
    low, high = byar(1500)
    check(rows["epci", "E1", "2023", GP], 1000, ci=(low / 1.5, high / 1.5), reference=840,
          flag="supérieur")
    assert {key[3] for key in rows} == {GP}   # the filler nurse gives no such column


def test_part_soins_non_programmes(tmp_path):
    rows = run(warehouse(tmp_path, RATES), tmp_path, "part_soins_non_programmes")
    # E1: (100 + 50) × 12 = 1,800 of 6,000 acts = 30 %; D1: 2,040 / 8,400 = 24.29 %
    low, high = wilson(1800, 6000)
    check(rows["epci", "E1", "2023", GP], 30.0, ci=(100 * low, 100 * high),
          reference=100 * 2040 / 8400, flag="supérieur")
    # by hand: centre .3 + 3.841459/12,000 = .300320, half 1.959964·sqrt(.000035 + .0000000267)
    # = .011600, divisor 1.000640 → .288536
    assert 100 * low == pytest.approx(28.8536, abs=0.001)


def test_only_the_months_and_professionals_whose_files_give_the_count_take_part(tmp_path):
    gps = [
        # a gives unscheduled care (30 of 100 acts) and patients (1,200) from January to June
        *present("a", GP, "C1", last="2023-06", patients_referring=1200, unscheduled=30),
        *present("a", GP, "C1", first="2023-07"),
        *present("b", GP, "C1", acts=500),   # never gives them
    ]
    con = warehouse(tmp_path, gps)
    rows = run(con, tmp_path, "part_soins_non_programmes")
    e1 = rows["epci", "E1", "2023", GP]
    assert (e1["value"], e1["numerator"], e1["denominator"]) == (30.0, 180, 600)
    assert ("epci", "E1", "2024", GP) not in rows
    # 6 × 1,200 / 12 patients a month over 6 × 1.0 / 12 FTE
    assert run(con, tmp_path, "patients_mt_par_etp_mg")["epci", "E1", "2023", GP]["value"] == 1200
    # one professional behind each, not two: hidden under a threshold of 2
    for indicator in ("part_soins_non_programmes", "patients_mt_par_etp_mg"):
        hidden = run(con, tmp_path, indicator, activity_threshold=2)["epci", "E1", "2023", GP]
        assert hidden["suppressed"], indicator


# --- projects ----------------------------------------------------------------------------------

TA, TB = "Territoire A", "Territoire B"


def test_projets_nombre_part_stade_part_territoire(tmp_path):
    census = [("P1", "2020-01", TA, "MSP", "reflexion", None, None, None),
              ("P2", "2020-01", TA, "MSP", "fonctionnement", None, None, None),
              ("P3", "2020-01", TA, "MSP", "fonctionnement", None, None, None),
              ("P4", "2020-01", TB, "PSP", "fonctionnement", None, None, None)]
    con = warehouse(tmp_path, census=census)
    rows = run(con, tmp_path, "projets_nombre")
    assert rows["region", "R1", "2020-01", "ensemble"]["value"] == 4
    assert rows["territoire_sante", "territoire_a", "2020-01", "fonctionnement"]["value"] == 2
    rows = run(con, tmp_path, "projets_part_stade")
    # Territoire A: 2 of 3 operating; région: 3 of 4
    low, high = WILSON[2, 3]
    check(rows["territoire_sante", "territoire_a", "2020-01", "fonctionnement"], 200 / 3,
          ci=(100 * low, 100 * high), reference=75.0, flag="similaire")
    rows = run(con, tmp_path, "projets_part_territoire")
    # 2 of the région's 3 operating projects are in Territoire A
    low, high = WILSON[2, 3]
    check(rows["territoire_sante", "territoire_a", "2020-01", "fonctionnement"], 200 / 3,
          ci=(100 * low, 100 * high))


def test_projets_transitions(tmp_path):
    census = [("P1", "2020-01", TA, "MSP", "reflexion", None, None, None),
              ("P1", "2020-07", TA, "MSP", "conception", None, None, None),
              ("P2", "2020-01", TA, "MSP", "conception", None, None, None),
              ("P2", "2020-07", TA, "MSP", "conception", None, None, None),
              ("P3", "2020-01", TB, "MSP", "reflexion", None, None, None),
              ("P4", "2020-07", TB, "MSP", "fonctionnement", None, None, None)]
    rows = run(warehouse(tmp_path, census=census), tmp_path, "projets_transitions")
    region = {key[3]: row["value"] for key, row in rows.items() if key[:3] == ("region", "R1",
                                                                              "2020-07")}
    assert region == {"reflexion>conception": 1, "conception>conception": 1, "sorti": 1,
                      "nouveau": 1, "ensemble": 4}
    assert rows["territoire_sante", "territoire_a", "2020-07", "ensemble"]["value"] == 2
    assert not any(key[2] == "2020-01" for key in rows)  # no previous census to compare with


def test_projets_duree_stade(tmp_path):
    history = {  # project: (territory, stage at 2020-01, 2020-07, 2021-01, 2021-07)
        "P1": (TB, "reflexion", "conception", "conception", "operationnalisation"),  # 12 months
        "P3": (TA, "reflexion", "conception", "operationnalisation", "operationnalisation"),  # 6
        "P4": (TA, "reflexion", "reflexion", "conception", "fonctionnement"),  # 6
        "P5": (TA, "reflexion", "conception", "conception", "conception"),  # still running
        "P6": (TA, None, "reflexion", "conception", "conception"),  # entry into reflexion unseen
    }
    dates = ("2020-01", "2020-07", "2021-01", "2021-07")
    census = [(p, d, t, "MSP", s, None, None, None)
              for p, (t, *stages) in history.items()
              for d, s in zip(dates, stages, strict=True) if s]
    rows = run(warehouse(tmp_path, census=census), tmp_path, "projets_duree_stade")
    # Conception stays seen from entry to exit: 12, 6, 6 → median 6; n = 3: ranks
    # round(1.5 ∓ 0.98·√3) → round(−0.197) = 0 → 1, round(4.197) = 4 → 3: [6, 12].
    # Reflexion stays all began before the first census (or, for P6, its entry is unseen).
    region = rows["region", "R1", "2021-07", "conception"]
    check(region, 6, ci=(6, 12))
    assert region["numerator"] == 3
    assert {key[3] for key in rows} == {"conception"}
    # Territoire B: one stay of 12 months, ranks 1 and 1 → [12, 12]; the région's 6 lies below:
    # lower is better, so B is "moins bon"; Territoire A: [6, 6] holds 6.
    check(rows["territoire_sante", "territoire_b", "2021-07", "conception"], 12, ci=(12, 12),
          reference=6, flag="moins bon")
    check(rows["territoire_sante", "territoire_a", "2021-07", "conception"], 6, ci=(6, 6),
          flag="similaire")


ZONES = [("P1", "2020-01", TA, "MSP", "reflexion", True, True, None),
         ("P2", "2020-01", TA, "MSP", "reflexion", True, False, None),
         ("P3", "2020-01", TA, "MSP", "reflexion", False, False, None),
         ("P4", "2020-01", TB, "MSP", "reflexion", False, True, None),
         ("P5", "2020-01", TB, "MSP", "reflexion", None, None, None)]  # not given: left out


def test_projets_part_zone_fragile(tmp_path):
    rows = run(warehouse(tmp_path, census=ZONES), tmp_path, "projets_part_zone_fragile")
    low, high = WILSON[2, 4]
    check(rows["region", "R1", "2020-01", "ensemble"], 50.0, ci=(100 * low, 100 * high))
    low, high = WILSON[2, 3]
    check(rows["territoire_sante", "territoire_a", "2020-01", "ensemble"], 200 / 3,
          ci=(100 * low, 100 * high), reference=50.0, flag="similaire")
    low, high = WILSON[0, 1]
    check(rows["territoire_sante", "territoire_b", "2020-01", "ensemble"], 0.0,
          ci=(0.0, 100 * high), reference=50.0, flag="similaire")


def test_projets_part_zus(tmp_path):
    rows = run(warehouse(tmp_path, census=ZONES), tmp_path, "projets_part_zus")
    low, high = WILSON[2, 4]   # P1 and P4 of the 4 given
    check(rows["region", "R1", "2020-01", "ensemble"], 50.0, ci=(100 * low, 100 * high))
    low, high = WILSON[1, 3]
    check(rows["territoire_sante", "territoire_a", "2020-01", "ensemble"], 100 / 3,
          ci=(100 * low, 100 * high), reference=50.0, flag="similaire")


def test_shares_of_zones_not_computed_when_the_census_leaves_them_empty(tmp_path):
    census = [(p, d, t, k, s, None, None, n) for p, d, t, k, s, *_, n in ZONES]
    con = warehouse(tmp_path, census=census)
    assert run(con, tmp_path, "projets_part_zone_fragile") == {}
    assert run(con, tmp_path, "projets_part_zus") == {}


def test_population_couverte_msp(tmp_path):
    census = [("P1", "2020-01", TA, "MSP", "fonctionnement", None, None, None),
              ("P2", "2020-01", TA, "PSP", "fonctionnement", None, None, None),
              ("P3", "2020-01", TA, "MSP", "conception", None, None, None),
              ("P4", "2020-01", TA, "CPTS", "fonctionnement", None, None, None)]
    links = [("P1", "2020-01", "C1"), ("P2", "2020-01", "C1"), ("P2", "2020-01", "C2"),
             ("P3", "2020-01", "C3"), ("P4", "2020-01", "C3")]
    rows = run(warehouse(tmp_path, census=census, census_communes=links), tmp_path,
               "population_couverte_msp")
    # C1 (once) + C2 = 4,000 inhabitants covered; C3 only by a project in design and a CPTS
    check(rows["departement", "D1", "2020-01", "ensemble"], 40.0, ci=(40.0, 40.0))
    check(rows["epci", "E1", "2020-01", "ensemble"], 100.0, reference=40.0, flag="meilleur")
    check(rows["epci", "E2", "2020-01", "ensemble"], 0.0, reference=40.0, flag="moins bon")
    # D2 has no project in this census: neither it, its EPCI nor the région gets a row
    assert {key[:2] for key in rows} == {("departement", "D1"), ("epci", "E1"), ("epci", "E2")}
    assert rows["departement", "D1", "2020-01", "ensemble"]["comparison_flag"] == "non comparable"


def test_population_couverte_msp_leaves_a_neighbouring_region_to_its_own_census(tmp_path):
    """A project at the border serves a commune of another région, which this census does not
    describe: no coverage is published there, whatever that one project covers."""
    census = [("P1", "2020-01", TA, "MSP", "fonctionnement", None, None, None)]
    links = [("P1", "2020-01", "C1"), ("P1", "2020-01", "C5")]
    con = warehouse(tmp_path, census=census, census_communes=links)
    con.execute("INSERT INTO ref.communes VALUES ('C5', 'Cinq', 'D3', 'R2', 'E1', 500)")
    con.execute("INSERT INTO ref.departements VALUES ('D3', 'Département Trois', 'R2')")
    con.execute("INSERT INTO ref.regions VALUES ('R2', 'Région Voisine')")
    rows = run(con, tmp_path, "population_couverte_msp")
    assert {key[:2] for key in rows} == {("departement", "D1"), ("epci", "E2")}
    check(rows["departement", "D1", "2020-01", "ensemble"], 10.0, ci=(10.0, 10.0))


def test_projets_modules_nmr(tmp_path):
    census = [("P1", "2020-01", TA, "MSP", "fonctionnement", None, None, "1 et 2"),
              ("P2", "2020-01", TA, "MSP", "fonctionnement", None, None, "2"),
              ("P3", "2020-01", TB, "MSP", "fonctionnement", None, None, "3"),
              ("P4", "2020-01", TB, "MSP", "fonctionnement", None, None, None)]
    rows = run(warehouse(tmp_path, census=census), tmp_path, "projets_modules_nmr")
    region = {key[3]: row["value"] for key, row in rows.items() if key[0] == "region"}
    assert region == {"module_1": 1, "module_2": 2, "module_3": 1, "ensemble": 3}
    assert rows["territoire_sante", "territoire_a", "2020-01", "ensemble"]["value"] == 2


# --- follow-up ---------------------------------------------------------------------------------

def test_suivi_valeur_taux_et_statut(tmp_path):
    followup = [("Prog", "Atteint", "2020", 10, 10), ("Prog", "Bonne voie", "2020", 8, 10),
                ("Prog", "Juste 75 %", "2020", 7.5, 10), ("Prog", "Retard", "2020", 7, 10),
                ("Prog", "Sans cible", "2020", 3, None)]
    con = warehouse(tmp_path, followup=followup)
    rows = run(con, tmp_path, "suivi_valeur")
    check(rows["programme", "prog", "2020", "Bonne voie"], 8, reference=10)
    rows = run(con, tmp_path, "suivi_taux_realisation")
    check(rows["programme", "prog", "2020", "Bonne voie"], 80.0, reference=100.0)
    assert ("programme", "prog", "2020", "Sans cible") not in rows
    rows = run(con, tmp_path, "suivi_statut")
    statuses = {key[3]: row["value"] for key, row in rows.items()}
    assert statuses == {"atteint": 1, "en_bonne_voie": 2, "en_retard": 1, "sans_cible": 1,
                        "ensemble": 5}


def test_a_step_counts_in_its_state_and_has_no_value(tmp_path):
    """« Réalisation du diagnostic » is followed by its state: suivi_statut counts it there,
    beside the numbers' statuses; it has no value nor rate to publish."""
    followup = [("Prog", "Sites", "2020", 10, 10), ("Prog", "Diagnostic", "2020", None, None,
                                                    None, "réalisé"),
                ("Prog", "Charte", "2020", None, None, None, "en cours"),
                ("Prog", "Site web", "2020", None, None, None, "abandonné")]
    con = warehouse(tmp_path, followup=followup)
    assert set(run(con, tmp_path, "suivi_valeur")) == {("programme", "prog", "2020", "Sites")}
    assert set(run(con, tmp_path, "suivi_taux_realisation")) == {
        ("programme", "prog", "2020", "Sites")}
    rows = run(con, tmp_path, "suivi_statut")
    assert {key[3]: row["value"] for key, row in rows.items()} == {
        "atteint": 1, "realise": 1, "en_cours": 1, "abandonne": 1, "ensemble": 4}


def test_every_published_category_has_its_french_label(published):
    """The demo's roadmap has steps: their states are categories of suivi_statut, and a
    category without a label would show its code on the pages."""
    unlabelled = published.execute(
        """SELECT DISTINCT v.dimension, v.category FROM marts.indicator_values v
           ANTI JOIN marts.category_labels l USING (dimension, category)
           WHERE v.dimension NOT IN ('critere')""").fetchall()
    assert unlabelled == []
    states = published.execute(
        """SELECT DISTINCT l.label FROM marts.indicator_values v
           JOIN marts.category_labels l USING (dimension, category)
           WHERE v.indicator_id = 'suivi_statut'""").fetchall()
    assert {"Réalisé", "En cours", "Non réalisé"} <= {label for (label,) in states}


def test_a_target_au_plus_is_reached_from_below(tmp_path):
    """« au plus 2 départs non remplacés »: 1 reaches it, 2.5 is within 75 % of it."""
    followup = [("Prog", criterion, "2020", value, target, "au plus")
                for criterion, value, target in [("Un", 1, 2), ("Proche", 2.5, 2), ("Loin", 3, 2),
                                                 ("Aucun", 0, 0), ("Un de trop", 1, 0)]]
    con = warehouse(tmp_path, followup=followup)
    rows = run(con, tmp_path, "suivi_taux_realisation")
    assert {key[3]: row["value"] for key, row in rows.items()} == {
        "Un": 200.0, "Proche": 80.0, "Loin": pytest.approx(66.667, abs=1e-3)}
    rows = run(con, tmp_path, "suivi_statut")
    assert {key[3]: row["value"] for key, row in rows.items()} == {
        "atteint": 2, "en_bonne_voie": 1, "en_retard": 2, "ensemble": 5}


def test_a_period_whose_value_is_not_known_yet_counts_as_non_renseigne(tmp_path):
    followup = [("Prog", "Sites", "2024", 6, 7), ("Prog", "Sites", "2025", None, 7)]
    con = warehouse(tmp_path, followup=followup)
    assert set(run(con, tmp_path, "suivi_valeur")) == {("programme", "prog", "2024", "Sites")}
    assert set(run(con, tmp_path, "suivi_taux_realisation")) == {
        ("programme", "prog", "2024", "Sites")}
    rows = run(con, tmp_path, "suivi_statut")
    assert {key: row["value"] for key, row in rows.items() if key[2] == "2025"} == {
        ("programme", "prog", "2025", "non_renseigne"): 1,
        ("programme", "prog", "2025", "ensemble"): 1}


def test_suivi_installations_observees(tmp_path):
    criterion = "Nombre d'installations de professionnels de santé"
    followup = [("CLS X", criterion, "2023", 1, 3), ("CLS X", criterion, "2024", 9, 3),
                ("CLS X", criterion, "2024-T1", 1, None),          # not a year: left out
                ("CLS X", "Nombre d'étudiants stagiaires", "2023", 4, 5),
                ("CLS Y", criterion, "2023", 2, 3)]                # territory not resolved
    activity = [*present("s1", GP, "C1", first="2023-04"),          # settles in 2023
                *present("s2", NURSE, "C2", first="2024-03"),       # 2024
                *present("s3", GP, "C2", first="2024-05"),          # 2024
                *present("m", GP, "C1", last="2023-12"),            # moves inside the territory
                *present("m", GP, "C2", first="2024-01"),
                *present("o", GP, "C3", first="2024-02")]           # outside the territory
    con = warehouse(tmp_path, activity, followup=followup,
                    followup_communes=[("CLS X", "C1"), ("CLS X", "C2"), ("CLS Y", None)])
    rows = run(con, tmp_path, "suivi_installations_observees")
    assert set(rows) == {("programme", "cls_x", "2023", criterion),
                         ("programme", "cls_x", "2024", criterion)}
    # 1 observed, 1 reported: inside [0.0253, 5.57]
    check(rows["programme", "cls_x", "2023", criterion], 1, ci=POISSON[1], reference=1,
          flag="similaire")
    # 2 observed, 9 reported: above [0.242, 7.22] → the observation is below the report
    check(rows["programme", "cls_x", "2024", criterion], 2, ci=POISSON[2], reference=9,
          flag="inférieur")


# --- the catalogue against a night -------------------------------------------------------------

CATALOGUE_KEYS = ("id", "label", "definition", "numerator", "denominator", "unit", "source",
                  "geo_levels", "polarity", "suppression", "suppression_note", "seed")


def test_every_catalogue_entry_is_complete():
    for entry in load_catalogue():
        missing = [k for k in CATALOGUE_KEYS if k not in entry]
        assert not missing, (entry["id"], missing)
        assert entry["polarity"] in ("higher_is_better", "lower_is_better", "neutral")
        assert entry["suppression"] in ("none", "count", "activity")
        assert ("requires" in entry) == ("requires_note" in entry), entry["id"]


def test_every_indicator_in_the_marts_is_catalogued_and_every_entry_has_rows(published):
    catalogue = {e["id"]: e for e in load_catalogue()}
    in_marts = {r[0] for r in published.execute(
        "SELECT DISTINCT indicator_id FROM marts.indicator_values").fetchall()}
    assert in_marts <= set(catalogue)
    status = {r[0]: r[1:] for r in published.execute(
        "SELECT indicator_id, rows, status, reason FROM marts.indicator_status").fetchall()}
    assert set(status) == set(catalogue)
    for indicator_id, entry in catalogue.items():
        rows, state, reason = status[indicator_id]
        if indicator_id in in_marts:
            assert (rows > 0, state, reason) == (True, "calculé", None)
        else:
            # only an indicator whose optional input is missing may lack rows, and it says so
            assert "requires" in entry, indicator_id
            assert (rows, state, reason) == (0, "non calculé", entry["requires_note"])
    # the tiny landing carries every optional input of this helper's indicators
    not_computed = set(catalogue) - in_marts
    assert all(catalogue[i]["requires"] == "commune_centroids" for i in not_computed), \
        not_computed


def test_seed_002_nmr_modules(published):
    # Seed 002, fiche 5: nine structures; modules 1 and 2 for seven of them, module 2 alone for
    # Aulnoy-lez-Valenciennes, module 3 for Denain.
    rows = dict(published.execute(
        """SELECT category, value FROM marts.indicator_values
           WHERE indicator_id = 'projets_modules_nmr' AND geo_level = 'region'
             AND period = '2013-05'""").fetchall())
    assert rows == {"ensemble": 9, "module_1": 7, "module_2": 8, "module_3": 1}


def test_cross_check_on_the_demo_cls(published):
    """The Pays Ruffécois CLS (seed 004) reports installations for 2023 and 2024, the years of
    the tiny activity panel; its territory resolves through data/reference/territory_aliases."""
    rows = published.execute(
        """SELECT period, reference_value FROM marts.indicator_values
           WHERE indicator_id = 'suivi_installations_observees'
             AND geo_name = 'Contrat local de santé du Pays Ruffécois' ORDER BY period"""
    ).fetchall()
    assert rows == [("2023", 2.0), ("2024", 3.0)]
    communes = published.execute(
        """SELECT count(*) FROM staging.followup_communes
           WHERE programme = 'Contrat local de santé du Pays Ruffécois'""").fetchone()[0]
    assert communes == 80


def test_staging_tables_of_the_hand_made_warehouse_match_the_night(published, tmp_path):
    """The hand-made tables above must keep the columns the models read from the real ones."""
    con = warehouse(tmp_path)
    for table in ("staging.activity", "staging.census", "staging.census_communes",
                  "staging.followup", "staging.followup_communes", "ref.communes"):
        schema, name = table.split(".")
        query = ("SELECT column_name, data_type FROM information_schema.columns "
                 "WHERE table_schema = ? AND table_name = ?")
        mine = set(con.execute(query, [schema, name]).fetchall())
        real = set(published.execute(query, [schema, name]).fetchall())
        assert mine <= real, (table, mine - real)


def test_one_frame_per_indicator_has_the_published_columns(tmp_path):
    con = warehouse(tmp_path, TWO_GPS_IN_C1)
    entry = next(e for e in load_catalogue() if e["id"] == "densite_etp")
    frame = build_indicator_values(con, Settings(home=tmp_path, landing=tmp_path), [entry])
    assert isinstance(frame, pl.DataFrame)
    assert "suppression_count" not in frame.columns and "comparison_flag" in frame.columns


def test_an_indicator_whose_model_gives_the_same_output_is_not_recomputed(tmp_path):
    """The digests of the models' outputs say which indicators a night may take as published."""
    from pipelines.transform.assets import build_indicators, refresh_activity_years

    con = warehouse(tmp_path, TWO_GPS_IN_C1)
    refresh_activity_years(con)
    settings = Settings(home=tmp_path, landing=tmp_path)
    entries = [e for e in load_catalogue() if e["id"] in ("densite_etp", "departs")]
    first = build_indicators(con, settings, entries)
    assert set(first.digests) == {"densite_etp", "departs"} and not first.unchanged
    again = build_indicators(con, settings, entries, first.digests)
    assert again.unchanged == {"densite_etp", "departs"} and again.frame.is_empty()
    # a GP leaves C1 at the end of 2023: the FTE of 2024 changes, so do the departures
    con.execute("DELETE FROM staging.activity WHERE professional_hash = ? "
                "AND period_month >= DATE '2024-01-01'", [pseudonym("b")])
    refresh_activity_years(con, [2024])
    changed = build_indicators(con, settings, entries, first.digests)
    assert changed.unchanged == set() and changed.digests != first.digests
    # one indicator changed, the other not: only the changed one is recomputed, and it is
    # what a night without digests computes
    mixed = build_indicators(con, settings, entries,
                             {"densite_etp": first.digests["densite_etp"],
                              "departs": changed.digests["departs"]})
    assert mixed.unchanged == {"departs"}
    assert set(mixed.frame["indicator_id"]) == {"densite_etp"}
    assert mixed.frame.equals(changed.frame.filter(pl.col("indicator_id") == "densite_etp"))
    # the key makes the digest: another home's key gives other digests
    other = Settings(home=tmp_path / "other", landing=tmp_path)
    assert build_indicators(con, other, entries).digests != changed.digests


def test_the_years_of_the_changed_months_refreshed_give_the_table_rebuilt_whole(tmp_path):
    from pipelines.transform.assets import refresh_activity_years

    con = warehouse(tmp_path, TWO_GPS_IN_C1)
    assert refresh_activity_years(con) == 6  # filler, a, b × 2023, 2024
    # b leaves in June 2024, a works one month of 2025
    con.execute("DELETE FROM staging.activity WHERE professional_hash = ? "
                "AND period_month >= DATE '2024-06-01'", [pseudonym("b")])
    insert(con, f"INSERT INTO staging.activity VALUES ({', '.join('?' * 9)})",
           present("a", GP, "C1", first="2025-01", last="2025-01", fte=0.5))
    table = "SELECT * FROM staging.activity_years ORDER BY ALL"
    refresh_activity_years(con, [2024])
    stale = con.sql(table).fetchall()
    refresh_activity_years(con, [2024, 2025])
    refreshed = con.sql(table).fetchall()
    refresh_activity_years(con)
    assert refreshed == con.sql(table).fetchall() != stale
    b_2024 = con.execute("SELECT last_month, fte FROM staging.activity_years "
                         "WHERE professional_hash = ? AND year = 2024",
                         [pseudonym("b")]).fetchone()
    assert b_2024 == (dt.date(2024, 5, 1), 5)


def test_indicators_read_what_their_shared_tables_read_and_no_more():
    from pipelines.transform.assets import indicator_inputs

    inputs = indicator_inputs()
    # through yearly_activity, professional_years and covered_territories
    assert ("staging", "activity") in inputs["densite_etp"]
    assert ("ref", "communes") in inputs["densite_etp"]
    # the territories' macros read the reference alone: a month of activity leaves it alone
    assert ("staging", "activity") not in inputs["population_couverte_msp"]
    assert {("staging", "census"), ("ref", "communes")} <= inputs["population_couverte_msp"]


def test_status_says_not_computed_with_the_catalogue_reason(tmp_path):
    from pipelines.sql import model_sql

    con = duckdb.connect(str(tmp_path / "status.duckdb"))
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE SCHEMA staging")
    con.execute("""CREATE TABLE marts.indicator_catalogue AS SELECT * FROM (VALUES
        ('a', 'A', FALSE, '{}'),
        ('b', 'B', FALSE, '{"requires": "census_zus", "requires_note": "Pas de colonne ZUS."}'),
        ('c', 'C', FALSE, '{}'),
        ('d', 'D', TRUE, '{"requires": "activity_age",
                           "requires_note": "Pas de colonne annee_naissance."}'),
        ('e', 'E', TRUE, '{}'),
        ('f', 'F', TRUE, '{"requires": "commune_centroids",
                           "requires_note": "Pas de coordonnées des communes."}')
        ) t(indicator_id, label, activity_based, details)""")
    con.execute("""CREATE TABLE marts.indicator_values AS SELECT * FROM (VALUES
        ('a', FALSE), ('a', TRUE)) t(indicator_id, suppressed)""")
    con.execute("CREATE TABLE staging.activity (period_month DATE)")
    con.execute("INSERT INTO staging.activity SELECT DATE '2023-01-01' + INTERVAL (m) MONTH "
                "FROM range(12) t(m)")
    rows = con.sql(model_sql("marts", "indicator_status")).fetchall()
    assert rows == [
        ("a", "A", None, 2, 1, "calculé", None),
        ("b", "B", "census_zus", 0, 0, "non calculé", "Pas de colonne ZUS."),
        ("c", "C", None, 0, 0, "non calculé",
         "ses données sources n'ont pas été reçues ou ne suffisent pas à le calculer cette nuit"),
        ("d", "D", "activity_age", 0, 0, "non calculé",
         "Pas de colonne annee_naissance."),
        ("e", "E", None, 0, 0, "non calculé",
         "ses données sources n'ont pas été reçues ou ne suffisent pas à le calculer cette nuit"),
        ("f", "F", "commune_centroids", 0, 0, "non calculé", "Pas de coordonnées des communes."),
    ]

    def reasons() -> dict[str, str]:
        return {r[0]: r[6] for r in con.sql(model_sql("marts", "indicator_status")).fetchall()}

    # the activity itself missing is said as such, for an indicator made from it or from one
    # of its columns, not blamed on the column nor left unsaid
    con.execute("DELETE FROM staging.activity WHERE period_month > DATE '2023-02-01'")
    short = reasons()
    assert "aucune année complète" in short["d"] and short["e"] == short["d"]
    assert short["f"] == "Pas de coordonnées des communes."
    assert short["c"].startswith("ses données sources")
    con.execute("DELETE FROM staging.activity")
    missing = reasons()
    assert missing["d"] == missing["e"] == (
        "Aucune statistique d'activité des professionnels n'a été reçue "
        "(dossier activity/ du dépôt).")
