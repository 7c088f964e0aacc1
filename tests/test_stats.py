import math

import duckdb
import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import null_space
from scipy.stats import chi2, norm

from pipelines.stats import (
    Z95,
    comparison_flag,
    comparison_flags,
    poisson_interval,
    rate_interval,
    register_duckdb_functions,
    suppress,
    territory_partitions,
    wilson_interval,
)

# --- Wilson -----------------------------------------------------------------------------------
# Newcombe R.G. (1998), "Two-sided confidence intervals for the single proportion: comparison of
# seven methods", Statistics in Medicine 17:857-872, Table I, method 3 (score interval without
# continuity correction). Checked by hand with z = 1.959964, z² = 3.841459, and
#   lower/upper = (p + z²/2n ∓ z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n):
# 81/263: p = .307985, centre = .307985 + .007303 = .315288,
#         half = 1.959964·sqrt(.00081038 + .00001388) = .056271, 1 + z²/n = 1.014606
#         → .259017/1.014606 = .2553, .371559/1.014606 = .3662
# 15/148: p = .101351, centre = .114329, half = 1.959964·sqrt(.00061540 + .00004384) = .050324,
#         1 + z²/n = 1.025956 → .064006/1.025956 = .0624, .164653/1.025956 = .1605
# 0/20:   p = 0, centre = half = .096036, 1 + z²/n = 1.192073 → 0, .192073/1.192073 = .1611
# 1/29:   p = .034483, centre = .100715, half = 1.959964·sqrt(.00114806 + .00114193) = .093792,
#         1 + z²/n = 1.132464 → .006923/1.132464 = .0061, .194507/1.132464 = .1718
NEWCOMBE_TABLE_I = [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
]


@pytest.mark.parametrize(("k", "n", "low", "high"), NEWCOMBE_TABLE_I)
def test_wilson_matches_newcombe_table_i(k, n, low, high):
    got_low, got_high = wilson_interval(k, n)
    assert got_low == pytest.approx(low, abs=5e-5)
    assert got_high == pytest.approx(high, abs=5e-5)


def test_wilson_is_vectorised_and_undefined_without_trials():
    ks = np.array([k for k, _, _, _ in NEWCOMBE_TABLE_I] + [3, None, 2], dtype=float)
    ns = np.array([n for _, n, _, _ in NEWCOMBE_TABLE_I] + [0, 10, None], dtype=float)
    low, high = wilson_interval(ks, ns)
    assert low[:4] == pytest.approx([row[2] for row in NEWCOMBE_TABLE_I], abs=5e-5)
    assert high[:4] == pytest.approx([row[3] for row in NEWCOMBE_TABLE_I], abs=5e-5)
    assert np.isnan(low[4:]).all() and np.isnan(high[4:]).all()
    assert wilson_interval(12, 12)[1] == 1.0


def test_wilson_confidence_level_changes_the_width():
    low90, high90 = wilson_interval(81, 263, confidence=0.90)
    low95, high95 = wilson_interval(81, 263)
    assert low95 < low90 < high90 < high95


# --- Poisson ----------------------------------------------------------------------------------
# Exact limits: lower = chi²(α/2; 2k)/2, upper = chi²(1-α/2; 2k+2)/2, as tabulated in Breslow &
# Day (1987), Statistical Methods in Cancer Research vol. II, appendix, and Ulm (1990), Am J
# Epidemiol 131:373-375. Two of them have closed forms: k = 0 → upper = -ln(0.025) = 3.6889;
# k = 1 → lower = -ln(0.975) = 0.025318.
EXACT_POISSON = [
    (0, 0.0, 3.689),
    (1, 0.0253, 5.572),
    (5, 1.6235, 11.668),
    (10, 4.7954, 18.390),
]


@pytest.mark.parametrize(("count", "low", "high"), EXACT_POISSON)
def test_exact_poisson_matches_published_tables(count, low, high):
    got_low, got_high = poisson_interval(count, exact_below=11)
    assert got_low == pytest.approx(low, abs=5e-5 if low < 10 else 5e-4)
    assert got_high == pytest.approx(high, abs=5e-4)


def test_exact_poisson_closed_forms_and_chi_square_definition():
    assert poisson_interval(0)[1] == pytest.approx(-math.log(0.025), rel=1e-9)
    assert poisson_interval(1)[0] == pytest.approx(-math.log(0.975), rel=1e-9)
    counts = np.arange(1, 10)
    low, high = poisson_interval(counts)
    assert low == pytest.approx(chi2.ppf(0.025, 2 * counts) / 2, rel=1e-9)
    assert high == pytest.approx(chi2.ppf(0.975, 2 * counts + 2) / 2, rel=1e-9)


def _byar_by_hand(o: float) -> tuple[float, float]:
    # APHO (2008), Technical Briefing 3: Commonly used public health statistics and their
    # confidence intervals, Byar's method:
    #   lower = O·(1 - 1/(9O) - z/(3√O))³,  upper = (O+1)·(1 - 1/(9(O+1)) + z/(3√(O+1)))³
    z = 1.959963985
    low = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
    high = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
    return low, high


def test_byar_for_100_events():
    # 100·(1 - .001111 - .065332)³ = 100·.933557³ = 81.36 (the brief's 81.37 does not follow
    # from the formula); 101·(1 - .001100 + .065008)³ = 101·1.063908³ = 121.63
    low, high = poisson_interval(100)
    assert low == pytest.approx(81.36, abs=5e-3)
    assert high == pytest.approx(121.63, abs=5e-3)


@pytest.mark.parametrize("count", [10, 37, 250, 1_000, 123_456])
def test_byar_above_the_exact_range(count):
    assert poisson_interval(count) == pytest.approx(_byar_by_hand(count), rel=1e-9)


def test_byar_is_close_to_exact_where_it_takes_over():
    byar = np.array(poisson_interval(10))
    exact = np.array(poisson_interval(10, exact_below=11))
    assert np.abs(byar / exact - 1).max() < 0.002


def test_poisson_undefined_for_negative_or_missing_counts():
    low, high = poisson_interval([-1, None, np.nan])
    assert np.isnan(low).all() and np.isnan(high).all()


def test_rate_interval_per_10000():
    # 100 events in 50,000 inhabitants: Byar limits × 10,000 / 50,000
    low, high = rate_interval(100, 50_000)
    by_hand = _byar_by_hand(100)
    assert (low, high) == pytest.approx((by_hand[0] / 5, by_hand[1] / 5), rel=1e-9)
    low, high = rate_interval([3, 3], [0, None])
    assert np.isnan(low).all() and np.isnan(high).all()


# --- properties -------------------------------------------------------------------------------
@st.composite
def proportions(draw, max_n=1_000_000):
    n = draw(st.integers(min_value=1, max_value=max_n))
    return draw(st.integers(min_value=0, max_value=n)), n


@given(proportions())
def test_wilson_contains_the_proportion(kn):
    k, n = kn
    low, high = wilson_interval(k, n)
    assert 0.0 <= low <= k / n <= high <= 1.0


@given(st.integers(min_value=0, max_value=1_000_000))
def test_poisson_contains_the_count(count):
    low, high = poisson_interval(count)
    assert 0.0 <= low <= count <= high


@given(proportions(max_n=100_000), st.integers(min_value=2, max_value=50))
def test_wilson_narrows_with_the_denominator(kn, m):
    k, n = kn
    small_low, small_high = wilson_interval(k, n)
    big_low, big_high = wilson_interval(k * m, n * m)
    assert big_high - big_low < small_high - small_low


@given(
    st.integers(min_value=0, max_value=100_000),
    st.integers(min_value=1, max_value=1_000_000),
    st.integers(min_value=2, max_value=50),
)
def test_rate_interval_narrows_with_the_population(count, population, m):
    small_low, small_high = rate_interval(count, population)
    big_low, big_high = rate_interval(count * m, population * m)
    assert big_high - big_low < small_high - small_low


@given(
    st.integers(min_value=0, max_value=1_000_000),
    st.integers(min_value=1, max_value=10_000_000),
    st.sampled_from([1_000, 100_000]),
)
def test_rate_interval_scales_with_per(count, population, per):
    base = np.array(rate_interval(count, population, per=10_000))
    scaled = np.array(rate_interval(count, population, per=per))
    assert scaled == pytest.approx(base * per / 10_000, rel=1e-12)


# --- comparison flags -------------------------------------------------------------------------
TRUTH_TABLE = [
    # value, ci_low, ci_high, reference, polarity, expected
    (12.0, 10.0, 14.0, 11.0, "higher_is_better", "similaire"),
    (12.0, 10.0, 14.0, 10.0, "higher_is_better", "similaire"),  # bound included
    (12.0, 10.0, 14.0, 8.0, "higher_is_better", "meilleur"),
    (12.0, 10.0, 14.0, 16.0, "higher_is_better", "moins bon"),
    (12.0, 10.0, 14.0, 8.0, "lower_is_better", "moins bon"),
    (12.0, 10.0, 14.0, 16.0, "lower_is_better", "meilleur"),
    (12.0, 10.0, 14.0, 14.0, "lower_is_better", "similaire"),
    (12.0, 10.0, 14.0, 8.0, "neutral", "supérieur"),
    (12.0, 10.0, 14.0, 16.0, "neutral", "inférieur"),
    (12.0, 10.0, 14.0, 12.5, "neutral", "similaire"),
    (None, 10.0, 14.0, 8.0, "higher_is_better", "non comparable"),
    (12.0, None, 14.0, 8.0, "higher_is_better", "non comparable"),
    (12.0, 10.0, float("nan"), 8.0, "higher_is_better", "non comparable"),
    (12.0, 10.0, 14.0, None, "lower_is_better", "non comparable"),
    (12.0, 10.0, 14.0, 8.0, None, "non comparable"),
]


@pytest.mark.parametrize(("value", "low", "high", "reference", "polarity", "expected"), TRUTH_TABLE)
def test_comparison_flag_truth_table(value, low, high, reference, polarity, expected):
    assert comparison_flag(value, low, high, reference, polarity) == expected


def test_comparison_flags_vectorised_matches_the_scalar_version():
    columns = list(zip(*TRUTH_TABLE, strict=True))
    flags = comparison_flags(*columns[:5])
    assert list(flags) == list(columns[5])
    assert list(comparison_flags([12, 12], [10, 10], [14, 14], [8, 16], "neutral")) == [
        "supérieur",
        "inférieur",
    ]


def test_comparison_flag_rejects_an_unknown_polarity():
    with pytest.raises(ValueError, match="Polarité inconnue"):
        comparison_flag(12, 10, 14, 8, "higher")


# --- suppression ------------------------------------------------------------------------------
GROUP = ("indicator_id", "geo_level", "geo_code", "period", "dimension")


def _group(counts: dict[str, int | None], geo_code: str = "47086", **extra) -> pl.DataFrame:
    categories = list(counts)
    numerators = list(counts.values())
    return pl.DataFrame(
        {
            "indicator_id": "msp_par_stade",
            "geo_level": "commune",
            "geo_code": geo_code,
            "period": "2024",
            "dimension": "stade",
            "category": categories,
            "numerator": numerators,
            "value": [None if c is None else c / 10 for c in numerators],
            "ci_low": 0.0,
            "ci_high": 1.0,
            **extra,
        },
        schema_overrides={"numerator": pl.Int64, "value": pl.Float64},
    )


def _hidden(result: pl.DataFrame) -> set[tuple[str, str]]:
    rows = result.filter(pl.col("suppressed")).select("geo_code", "category").rows()
    return set(rows)


def _recovered_by_subtraction(original: pl.DataFrame, result: pl.DataFrame) -> list:
    """An attacker's view: in each group, the margin equals the sum of its cells; every equation
    with one unknown left reveals it, and the revealed value feeds the next round."""
    known = {}
    for row, published in zip(original.iter_rows(named=True), result.iter_rows(named=True),
                              strict=True):
        key = tuple(row[c] for c in (*GROUP, "category"))
        known[key] = None if published["suppressed"] else row["numerator"]
    recovered = []
    progress = True
    while progress:
        progress = False
        for group_key in {key[:-1] for key in known}:
            cells = {k: v for k, v in known.items() if k[:-1] == group_key}
            unknown = [k for k, v in cells.items() if v is None]
            margin = group_key + ("ensemble",)
            if len(unknown) != 1 or margin not in cells:
                continue
            [hidden] = unknown
            others = sum(v for k, v in cells.items() if k not in (hidden, margin))
            known[hidden] = others if hidden == margin else cells[margin] - others
            recovered.append(hidden)
            progress = True
    return recovered


def test_primary_and_secondary_suppression():
    frame = _group({"ensemble": 40, "reflexion": 3, "conception": 12, "fonctionnement": 25})
    result = suppress(frame, threshold=5)
    assert _hidden(result) == {("47086", "reflexion"), ("47086", "conception")}
    hidden = result.filter(pl.col("suppressed"))
    assert hidden.select("numerator", "value", "ci_low", "ci_high").null_count().row(0) == (2,) * 4
    published = result.filter(~pl.col("suppressed"))
    assert published["numerator"].to_list() == [40, 25]
    assert result.columns == [*frame.columns, "suppressed"]
    assert result["category"].to_list() == frame["category"].to_list()


def test_no_hidden_count_is_recovered_by_subtraction():
    frame = pl.concat([
        _group({"ensemble": 40, "reflexion": 3, "conception": 12, "fonctionnement": 25}),
        _group({"ensemble": 30, "reflexion": 2, "conception": 4, "fonctionnement": 24}, "47091"),
        _group({"ensemble": 9, "reflexion": 9, "conception": 0}, "47120"),
    ])
    result = suppress(frame, threshold=5)
    assert _recovered_by_subtraction(frame, result) == []
    # the attack is real: publish the complement again and 40 - 12 - 25 gives the hidden 3
    only_primary = result.with_columns(
        suppressed=pl.col("suppressed") & ~((pl.col("geo_code") == "47086")
                                            & (pl.col("category") == "conception"))
    )
    assert _recovered_by_subtraction(frame, only_primary) == [
        ("msp_par_stade", "commune", "47086", "2024", "stade", "reflexion")
    ]


def test_two_primary_cells_need_no_complement():
    frame = _group({"ensemble": 30, "reflexion": 2, "conception": 4, "fonctionnement": 24})
    result = suppress(frame, threshold=5)
    assert _hidden(result) == {("47086", "reflexion"), ("47086", "conception")}


def test_margin_under_the_threshold_suppresses_the_group():
    frame = pl.concat([
        _group({"ensemble": 4, "reflexion": 1, "conception": 3, "fonctionnement": 0}),
        _group({"ensemble": 20, "reflexion": 0, "conception": 20}, "47091"),
    ])
    result = suppress(frame, threshold=5)
    assert _hidden(result) == {
        ("47086", c) for c in ("ensemble", "reflexion", "conception", "fonctionnement")
    }


def test_zero_counts_are_published():
    frame = _group({"ensemble": 20, "reflexion": 0, "conception": 0, "fonctionnement": 20})
    assert not suppress(frame, threshold=5)["suppressed"].any()


def test_margin_is_hidden_when_no_other_cell_can_be_the_complement():
    frame = _group({"ensemble": 40, "reflexion": 3, "conception": None})
    result = suppress(frame, threshold=5)
    assert _hidden(result) == {("47086", "reflexion"), ("47086", "ensemble")}


def test_activity_threshold_and_earlier_suppression_are_kept():
    frame = _group(
        {"ensemble": 60, "a": 10, "b": 11, "c": 39},
        suppressed=[False, False, False, True],
        comparison_flag="meilleur",
    )
    result = suppress(frame, threshold=11)
    assert _hidden(result) == {("47086", "a"), ("47086", "c")}
    assert result.columns == frame.columns
    assert result.filter(pl.col("suppressed"))["comparison_flag"].to_list() == [
        "non comparable"
    ] * 2


def test_a_small_denominator_hides_its_share_even_with_a_zero_numerator():
    # « 0 of 2 nurses are 60 or over » describes both nurses: the denominator counts them too
    frame = _group({"ensemble": 4, "infirmier": 0, "medecin": 4},
                   denominator=[40.0, 2.0, 38.0])
    result = suppress(frame, threshold=11, count_col=["numerator", "denominator"])
    # the nurses' cell is hidden on its denominator; the margin (4 over 40) is under 11 as well
    assert _hidden(result) == {("47086", "ensemble"), ("47086", "infirmier"),
                               ("47086", "medecin")}
    assert result["denominator"].to_list() == [None, None, None]
    # with the numerator alone, the zero share and its denominator of 2 were published
    alone = suppress(frame.with_columns(numerator=pl.Series([20, 0, 20])), threshold=11)
    assert ("47086", "infirmier") not in _hidden(alone)
    both = suppress(frame.with_columns(numerator=pl.Series([20, 0, 20])), threshold=11,
                    count_col=["numerator", "denominator"])
    # hidden on the denominator, then the doctors as the complement; the margin stays
    assert _hidden(both) == {("47086", "infirmier"), ("47086", "medecin")}
    assert both.filter(pl.col("category") == "infirmier")["denominator"].to_list() == [None]
    assert both.filter(pl.col("category") == "ensemble")["denominator"].to_list() == [40.0]


group_counts = st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None)
@given(st.lists(group_counts, min_size=1, max_size=5), st.sampled_from([5, 11]))
def test_random_groups_never_reveal_a_hidden_count(groups, threshold):
    frame = pl.concat([
        _group({"ensemble": sum(cells)} | {f"c{i}": c for i, c in enumerate(cells)}, f"{g:05d}")
        for g, cells in enumerate(groups)
    ])
    result = suppress(frame, threshold=threshold)
    assert _recovered_by_subtraction(frame, result) == []
    published = result.filter(~pl.col("suppressed"))
    assert published["numerator"].is_in([0, *range(threshold, 1000)]).all()
    assert result.filter(pl.col("suppressed"))["value"].null_count() == result["suppressed"].sum()
    # a published row is unchanged
    unchanged = frame.filter(~result["suppressed"])
    assert published.drop("suppressed").equals(unchanged)


# --- suppression across geographic levels -------------------------------------------------------
# A région tiled by départements, tiled by EPCIs, tiled by communes: every parent's count is the
# sum of its children's, for each category as for the margin.
LEVELS = ("region", "departement", "epci", "commune")


@st.composite
def territory_trees(draw):
    """(frame of every territory × category, partitions parent → children one level down)."""
    categories = [f"c{i}" for i in range(draw(st.integers(min_value=1, max_value=3)))]
    counts, partitions = {}, []

    def grow(level: int, code: str) -> list[int]:
        if level == len(LEVELS) - 1:
            cells = [draw(st.sampled_from([0, 0, 1, 2, 3, 4, 6, 8, 10, 12, 20, 40]))
                     for _ in categories]
        else:
            children = [f"{code}{k}" for k in range(draw(st.integers(min_value=1, max_value=3)))]
            partitions.append(((LEVELS[level], code),
                               [(LEVELS[level + 1], child) for child in children]))
            sums = [grow(level + 1, child) for child in children]
            cells = [sum(column) for column in zip(*sums, strict=True)]
        counts[LEVELS[level], code] = cells
        return cells

    grow(0, "R")
    rows = [
        ("apl", level, code, "2024", category, count)
        for (level, code), cells in counts.items()
        for category, count in [("ensemble", sum(cells)), *zip(categories, cells, strict=True)]
    ]
    frame = pl.DataFrame(rows, orient="row", schema={
        "indicator_id": pl.String, "geo_level": pl.String, "geo_code": pl.String,
        "period": pl.String, "category": pl.String, "numerator": pl.Int64})
    return frame, partitions


LEVEL_GROUP = ("indicator_id", "geo_level", "geo_code", "period")


def _equations(frame: pl.DataFrame, partitions) -> list[tuple[int, list[int]]]:
    """Every published additive relation, as (row of the total, rows of the parts)."""
    index = {(r["geo_level"], r["geo_code"], r["category"]): i
             for i, r in enumerate(frame.iter_rows(named=True))}
    equations = []
    for (level, code, category), i in index.items():
        parts = [j for (lv, cd, cat), j in index.items()
                 if (lv, cd) == (level, code) and cat != "ensemble"]
        if category == "ensemble" and parts:
            equations.append((i, parts))
    categories = {c for _, _, c in index}
    for (level, code), children in partitions:
        for category in categories:
            equations.append((index[level, code, category],
                              [index[lv, cd, category] for lv, cd in children]))
    return equations


def _determined(frame: pl.DataFrame, result: pl.DataFrame, partitions) -> list[tuple]:
    """The hidden cells that the equations pin down, whatever the combination of equations an
    analyst tries: a hidden cell is determined when every solution of the system restricted to
    the hidden cells (its null space) leaves it fixed."""
    hidden = [i for i, h in enumerate(result["suppressed"]) if h]
    if not hidden:
        return []
    column = {row: k for k, row in enumerate(hidden)}
    matrix = np.zeros((len(_equations(frame, partitions)), len(hidden)))
    for e, (total, parts) in enumerate(_equations(frame, partitions)):
        for row, sign in [(total, 1.0), *((p, -1.0) for p in parts)]:
            if row in column:
                matrix[e, column[row]] += sign
    null = null_space(matrix) if matrix.any() else np.eye(len(hidden))
    keys = frame.select("geo_level", "geo_code", "category").rows()
    return [keys[row] for row, k in column.items() if np.abs(null[k]).max(initial=0) < 1e-9]


def test_a_lone_hidden_commune_under_a_published_epci_gets_a_companion():
    # EPCI E = communes a (3, hidden), b (12), c (15): 30 - 12 - 15 gives back the 3
    partitions = [(("epci", "E"), [("commune", "a"), ("commune", "b"), ("commune", "c")])]
    frame = pl.DataFrame({
        "indicator_id": "apl", "geo_level": ["epci", "commune", "commune", "commune"],
        "geo_code": ["E", "a", "b", "c"], "period": "2024", "category": "ensemble",
        "numerator": [30, 3, 12, 15]})
    alone = suppress(frame, threshold=5, group_cols=LEVEL_GROUP)
    assert alone["suppressed"].to_list() == [False, True, False, False]
    assert _determined(frame, alone, partitions) == [("commune", "a", "ensemble")]
    linked = suppress(frame, threshold=5, group_cols=LEVEL_GROUP, partitions=partitions)
    # the smallest published commune, b, is hidden with a; the EPCI stays published
    assert linked["suppressed"].to_list() == [False, True, True, False]
    assert linked["numerator"].to_list() == [30, None, None, 15]
    assert _determined(frame, linked, partitions) == []


def test_a_parent_with_a_single_hidden_child_is_hidden_when_no_other_child_exists():
    partitions = [(("departement", "D"), [("epci", "E")])]
    frame = pl.DataFrame({
        "indicator_id": "apl", "geo_level": ["departement", "epci"], "geo_code": ["D", "E"],
        "period": "2024", "category": "ensemble", "numerator": [7, 7]})
    result = suppress(frame, threshold=11, group_cols=LEVEL_GROUP, partitions=partitions)
    assert result["suppressed"].to_list() == [True, True]


def test_a_hidden_parent_is_not_the_sum_of_published_children():
    # each group alone is protected: D hides its 3 nurses and, as complement, its 12 GPs; E1
    # hides its 3 nurses and its 5 physiotherapists. Across levels, D's GPs are 12 + 0 from
    # the EPCIs, then D's nurses 40 - 12 - 25; E1's physiotherapists are 25 - 20.
    partitions = [(("departement", "D"), [("epci", "E1"), ("epci", "E2")])]
    rows = [("departement", "D", "ensemble", 40), ("departement", "D", "inf", 3),
            ("departement", "D", "mg", 12), ("departement", "D", "kine", 25),
            ("epci", "E1", "ensemble", 20), ("epci", "E1", "inf", 3), ("epci", "E1", "mg", 12),
            ("epci", "E1", "kine", 5), ("epci", "E2", "ensemble", 20), ("epci", "E2", "inf", 0),
            ("epci", "E2", "mg", 0), ("epci", "E2", "kine", 20)]
    frame = pl.DataFrame(
        [("apl", level, code, "2024", category, n) for level, code, category, n in rows],
        orient="row", schema=["indicator_id", "geo_level", "geo_code", "period", "category",
                              "numerator"])
    alone = suppress(frame, threshold=5, group_cols=LEVEL_GROUP)
    assert {("departement", "D", "mg"), ("departement", "D", "inf"),
            ("epci", "E1", "kine")} <= set(_determined(frame, alone, partitions))
    linked = suppress(frame, threshold=5, group_cols=LEVEL_GROUP, partitions=partitions)
    assert _determined(frame, linked, partitions) == []


def test_territory_partitions_keep_only_exact_tilings():
    communes = [  # commune, EPCI, département, région
        ("01001", "E1", "01", "84"), ("01002", "E1", "01", "84"), ("01003", "E2", "01", "84"),
        ("38001", "E3", "38", "84"), ("73001", "E3", "73", "84"), ("73002", None, "73", "84"),
    ]
    partitions = {(parent, tuple(children)) for parent, children in territory_partitions(communes)}
    assert (("epci", "E1"), (("commune", "01001"), ("commune", "01002"))) in partitions
    assert (("departement", "01"), (("epci", "E1"), ("epci", "E2"))) in partitions
    assert (("region", "84"), (("departement", "01"), ("departement", "38"),
                               ("departement", "73"))) in partitions
    # E3 straddles 38 and 73, and 73002 is in no EPCI: neither département is tiled by EPCIs,
    # nor is the région
    parents = {(parent, children[0][0]) for parent, children in partitions}
    assert (("departement", "38"), "epci") not in parents
    assert (("departement", "73"), "epci") not in parents
    assert (("region", "84"), "epci") not in parents
    assert (("departement", "73"), "commune") in parents
    # the tilings between the levels an indicator publishes are the same without the communes
    published = ("epci", "departement", "region")
    assert territory_partitions(communes, published) == [
        (parent, children) for parent, children in territory_partitions(communes)
        if parent[0] in published and children[0][0] in published]
    # read as a frame, as the night does
    frame = pl.DataFrame(communes, schema=["commune_code", "epci_code", "department_code",
                                           "region_code"], orient="row")
    assert territory_partitions(frame) == territory_partitions(communes)


@settings(max_examples=200, deadline=None)
@given(territory_trees(), st.sampled_from([5, 11]))
def test_random_territory_trees_never_reveal_a_hidden_count(tree, threshold):
    frame, partitions = tree
    result = suppress(frame, threshold=threshold, group_cols=LEVEL_GROUP, partitions=partitions)
    assert _determined(frame, result, partitions) == []
    published = result.filter(~pl.col("suppressed"))
    assert published["numerator"].is_in([0, *range(threshold, 10_000)]).all()
    assert published.drop("suppressed").equals(frame.filter(~result["suppressed"]))


# --- DuckDB -----------------------------------------------------------------------------------
@pytest.fixture
def con():
    connection = duckdb.connect()
    register_duckdb_functions(connection)
    register_duckdb_functions(connection)  # idempotent
    yield connection
    connection.close()


def test_duckdb_intervals_match_python(con):
    rows = con.sql(
        """
        select k, n, wilson_low(k, n) as wl, wilson_high(k, n) as wh,
               poisson_low(k) as pl, poisson_high(k) as ph,
               rate_low(k, n, 10000) as rl, rate_high(k, n, 10000) as rh
        from (values (81, 263), (0, 20), (5, 40), (100, 50000), (3, 0), (null, 10), (4, null))
             t(k, n)
        """
    ).pl()
    k = rows["k"].to_numpy()
    n = rows["n"].to_numpy()
    for sql, python in [
        (("wl", "wh"), wilson_interval(k, n)),
        (("pl", "ph"), poisson_interval(k)),
        (("rl", "rh"), rate_interval(k, n)),
    ]:
        for column, expected in zip(sql, python, strict=True):
            got = rows[column].to_numpy()
            assert np.array_equal(np.isnan(got), np.isnan(expected)), column
            assert got[~np.isnan(got)] == pytest.approx(expected[~np.isnan(expected)], rel=1e-12)
    assert rows.filter(pl.col("k").is_null() | pl.col("n").is_null() | (pl.col("n") == 0)).select(
        "wl", "wh", "rl", "rh"
    ).null_count().row(0) == (3, 3, 3, 3)
    assert rows.filter(pl.col("k").is_null())["pl"].to_list() == [None]


def test_duckdb_comparison_flag_matches_python(con):
    values = ", ".join(
        "({}, {}, {}, {}, {})".format(
            *("null" if v is None else repr(v) for v in row[:4]),
            "null" if row[4] is None else f"'{row[4]}'",
        )
        for row in TRUTH_TABLE
    ).replace("nan", "'nan'::double")
    got = con.sql(
        f"select comparison_flag(v, lo, hi, r, p) from (values {values}) t(v, lo, hi, r, p)"
    ).fetchall()
    assert [flag for (flag,) in got] == [row[5] for row in TRUTH_TABLE]


def test_z95_is_the_normal_quantile():
    assert Z95 == pytest.approx(norm.ppf(0.975), abs=1e-15)
