"""Intervals, comparison flags and small-count suppression (DESIGN §6).

Every interval function is vectorised: it takes scalars or array-likes (None and NaN meaning
"unknown") and returns a (lower, upper) pair of NumPy values, NaN where the interval is undefined.
The same functions are registered as DuckDB scalar UDFs so that the SQL marts compute exactly
what the tests check here.
"""

from collections.abc import Sequence

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
from duckdb.sqltypes import DOUBLE, VARCHAR

Z95 = 1.959963984540054

NOT_COMPARABLE = "non comparable"
SIMILAR = "similaire"
# polarity -> (label when the territory is above the reference, label when it is below)
_FLAG_LABELS = {
    "higher_is_better": ("meilleur", "moins bon"),
    "lower_is_better": ("moins bon", "meilleur"),
    "neutral": ("supérieur", "inférieur"),
}

DEFAULT_GROUP_COLS = ("indicator_id", "geo_level", "geo_code", "period", "dimension")
_HIDDEN_WHEN_SUPPRESSED = ("value", "numerator", "ci_low", "ci_high")
Territory = tuple[str, str]  # (geo_level, geo_code)
# a territory and the territories of one finer level that tile it exactly
Partition = tuple[Territory, Sequence[Territory]]


def _as_float(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def _special():
    """scipy.special, imported on first use: scipy.stats took 0.7 s of every command's start
    (the CLI's sql and serve never compute an interval); `observatoire run` imports it in the
    background while the night's first steps work in DuckDB."""
    from scipy import special

    return special


def _z(confidence: float) -> float:
    return Z95 if confidence == 0.95 else float(_special().ndtri(0.5 + confidence / 2))


def _unwrap(*arrays: np.ndarray):
    """0-d results become NumPy scalars, so that a scalar call gives scalars back."""
    return tuple(a[()] for a in arrays)


def wilson_interval(successes, trials, confidence: float = 0.95):
    """Wilson score interval without continuity correction (Newcombe 1998, method 3)."""
    k, n = np.broadcast_arrays(_as_float(successes), _as_float(trials))
    z = _z(confidence)
    valid = (n > 0) & (k >= 0) & (k <= n)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = p + z * z / (2 * n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        denominator = 1 + z * z / n
        low = np.clip((centre - half) / denominator, 0.0, 1.0)
        high = np.clip((centre + half) / denominator, 0.0, 1.0)
    # The closed forms are exactly 0 and 1 at the edges; rounding must not push p outside.
    low = np.where(k == 0, 0.0, low)
    high = np.where(k == n, 1.0, high)
    return _unwrap(np.where(valid, low, np.nan), np.where(valid, high, np.nan))


def poisson_interval(count, confidence: float = 0.95, exact_below: float = 10):
    """Interval for a Poisson count: exact (gamma quantiles) below `exact_below`, Byar above.

    Byar's approximation is the one APHO Technical Briefing 3 (2008) recommends for counts;
    it is within a few tenths of a percent of the exact limits from about 10 events on.
    """
    o = _as_float(count)
    alpha = 1 - confidence
    z = _z(confidence)
    valid = o >= 0
    use_exact = o < exact_below
    # the gamma quantiles of the counts that use them alone (NaN elsewhere, which costs nothing):
    # they were most of the time of the indicators' intervals, and most counts are above 10
    small = np.where(use_exact, o, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        # gammaincinv(a, q) is the gamma distribution's quantile, scipy.stats.gamma.ppf(q, a)
        exact_low = np.where(small > 0,
                             _special().gammaincinv(np.where(small > 0, small, 1), alpha / 2),
                             0.0)
        exact_high = _special().gammaincinv(small + 1, 1 - alpha / 2)
        byar_low = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
        byar_high = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    low = np.where(use_exact, exact_low, np.maximum(byar_low, 0.0))
    high = np.where(use_exact, exact_high, byar_high)
    return _unwrap(np.where(valid, low, np.nan), np.where(valid, high, np.nan))


def rate_interval(count, population, per: float = 10_000, confidence: float = 0.95):
    """Interval of count / population × per, the count being Poisson (DESIGN §6)."""
    low, high = poisson_interval(count, confidence)
    population = _as_float(population)
    scale = np.where(population > 0, per / np.where(population > 0, population, 1), np.nan)
    return _unwrap(_as_float(low) * scale, _as_float(high) * scale)


def comparison_flags(value, ci_low, ci_high, reference_value, polarity) -> np.ndarray:
    """Vectorised comparison of a territory with its reference, from the territory's CI.

    The reference inside [ci_low, ci_high] gives "similaire"; otherwise the side of the
    reference and the indicator's polarity give the label. A missing value, bound, reference
    or polarity gives "non comparable".
    """
    value, low, high, reference = (_as_float(x) for x in (value, ci_low, ci_high, reference_value))
    polarity = np.asarray(polarity, dtype=object)
    value, low, high, reference, polarity = np.broadcast_arrays(
        value, low, high, reference, polarity
    )
    known = np.array([isinstance(p, str) for p in polarity.ravel()], dtype=bool).reshape(
        polarity.shape
    )
    unknown = set(polarity[known].tolist()) - set(_FLAG_LABELS)
    if unknown:
        raise ValueError(
            f"Polarité inconnue : {sorted(unknown)} "
            f"(valeurs attendues : {', '.join(_FLAG_LABELS)})."
        )
    above = np.full(polarity.shape, NOT_COMPARABLE, dtype=object)
    below = above.copy()
    for name, (above_label, below_label) in _FLAG_LABELS.items():
        is_name = known & (polarity == name)
        above[is_name] = above_label
        below[is_name] = below_label
    missing = ~known | np.isnan(value) | np.isnan(low) | np.isnan(high) | np.isnan(reference)
    with np.errstate(invalid="ignore"):
        flags = np.select(
            [missing, (low <= reference) & (reference <= high), reference < low],
            [NOT_COMPARABLE, SIMILAR, above],
            default=below,
        )
    return flags.astype(str)


def comparison_flag(value, ci_low, ci_high, reference_value, polarity) -> str:
    return str(comparison_flags(value, ci_low, ci_high, reference_value, polarity)[()])


def suppress(
    frame: pl.DataFrame,
    threshold: int,
    count_col: str | Sequence[str] = "numerator",
    group_cols: Sequence[str] = DEFAULT_GROUP_COLS,
    margin_category: str = "ensemble",
    category_col: str = "category",
    partitions: Sequence[Partition] = (),
    level_cols: tuple[str, str] = ("geo_level", "geo_code"),
) -> pl.DataFrame:
    """Mark and blank the cells that would disclose a count under `threshold`.

    Primary: 0 < count < threshold, for any of the count columns (`count_col`, one name or
    several: a share publishes its denominator too, and « 0 of 2 professionals » describes both
    of them). A zero is published: it describes nobody, and disclosure
    rules of public health data holders count it as allowed ("A value of zero does not violate
    the minimum cell size policy", CMS Cell Size Suppression Policy, ResDAC 2017/2024; Washington
    DOH small numbers guidelines: "suppress all non-zero counts which are less than ten").
    Rows already marked `suppressed` stay suppressed; a null count is never disclosive by itself.

    Secondary, within each group (the rows sharing `group_cols`, i.e. one breakdown and its
    margin row whose category is `margin_category`): a margin under the threshold suppresses
    the whole group; if exactly one breakdown cell is hidden while the margin is published,
    the smallest other published cell is hidden too (or the margin, if there is none), so that
    no hidden count equals the margin minus published counts. Groups are disjoint, so one pass
    leaves every group with a hidden margin or zero or at least two hidden cells: it is stable.
    Territorial margins are linked only through `partitions` (see `protect_levels`): without
    them, communes summing to their EPCI are not checked against each other.

    Suppressed rows get null value, numerator, ci_low, ci_high (and the count columns), and a
    comparison flag, if any, of "non comparable", since it is read from the hidden value. The
    complement is chosen on the first count column.
    """
    group = list(group_cols)
    count_cols = [count_col] if isinstance(count_col, str) else list(count_col)
    count = pl.col(count_cols[0])
    primary = pl.any_horizontal(
        [((pl.col(c) > 0) & (pl.col(c) < threshold)).fill_null(False) for c in count_cols]
    )
    if "suppressed" in frame.columns:
        primary = primary | pl.col("suppressed").fill_null(False)
    hidden = pl.col("_hidden")
    margin = pl.col("_margin")

    marked = (
        frame.with_row_index("_row")
        .with_columns(
            _margin=(pl.col(category_col) == margin_category).fill_null(False),
            _hidden=primary,
        )
        .with_columns(_hidden=hidden | (margin & hidden).any().over(group))
        .with_columns(
            _needs_complement=(margin & ~hidden).any().over(group)
            & ((~margin & hidden).sum().over(group) == 1),
            _candidate=~margin & ~hidden & count.is_not_null(),
        )
        .sort([*group, count_cols[0], category_col, "_row"], nulls_last=True)
        .with_columns(_candidate_rank=pl.col("_candidate").cast(pl.Int64).cum_sum().over(group))
    )
    complement = pl.col("_candidate") & (pl.col("_candidate_rank") == 1)
    no_candidate = ~pl.col("_candidate").any().over(group)
    suppressed = hidden | (
        pl.col("_needs_complement") & (complement | (margin & no_candidate))
    )
    marked = marked.with_columns(suppressed=suppressed).sort("_row")
    if partitions:
        marked = marked.with_columns(suppressed=protect_levels(
            marked, partitions, count_cols[0], group, margin_category, category_col, level_cols,
        ))

    blanked = [
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(c)).alias(c)
        for c in dict.fromkeys([*count_cols, *_HIDDEN_WHEN_SUPPRESSED])
        if c in frame.columns
    ]
    if "comparison_flag" in frame.columns:
        blanked.append(
            pl.when(pl.col("suppressed"))
            .then(pl.lit(NOT_COMPARABLE))
            .otherwise(pl.col("comparison_flag"))
            .alias("comparison_flag")
        )
    columns = [*frame.columns, *([] if "suppressed" in frame.columns else ["suppressed"])]
    return marked.with_columns(blanked).select(columns)


TERRITORY_LEVELS = ("commune", "epci", "departement", "region")


def territory_partitions(communes, levels: Sequence[str] = TERRITORY_LEVELS) -> list[Partition]:
    """Exact tilings between geographic levels, from (commune, EPCI, département, région) codes
    (rows, or a frame of those four columns), between the `levels` given (the indicators'
    levels: the tilings by communes are 100,000 children at national scale).

    A parent is tiled by the children of a finer level when each of its communes belongs to one
    of them and none of them has a commune outside it: a département with a commune outside any
    EPCI, or an EPCI straddling two départements, is not tiled by EPCIs (its count is not the
    sum of published EPCI counts, so subtraction gives nothing exact).
    """
    frame = (communes.rename(dict(zip(communes.columns, TERRITORY_LEVELS, strict=True)))
             if isinstance(communes, pl.DataFrame) else
             pl.DataFrame([tuple(r) for r in communes],
                          schema=dict.fromkeys(TERRITORY_LEVELS, pl.String), orient="row"))
    levels = [level for level in TERRITORY_LEVELS if level in levels]
    partitions = []
    for fine in range(len(levels)):
        for coarse in range(fine + 1, len(levels)):
            tilings = (
                frame.select(child=levels[fine], parent=levels[coarse])
                .filter(pl.col("parent").is_not_null())
                .unique()
                .with_columns(parents_of_child=pl.col("parent").n_unique().over("child"))
                .group_by("parent")
                .agg(pl.col("child").sort(),
                     tiles=(pl.col("child").is_not_null() & (pl.col("parents_of_child") == 1))
                     .all())
                .filter("tiles")
                .sort("parent")
            )
            partitions += [((levels[coarse], parent), [(levels[fine], c) for c in children])
                           for parent, children in tilings.select("parent", "child").iter_rows()]
    return partitions


def protect_levels(
    marked: pl.DataFrame,
    partitions: Sequence[Partition],
    count_col: str,
    group_cols: Sequence[str],
    margin_category: str,
    category_col: str,
    level_cols: tuple[str, str] = ("geo_level", "geo_code"),
) -> pl.Series:
    """Extend the `suppressed` column of `marked` so no hidden count is a difference of
    published ones, across territories as well as within a group.

    Every additive relation is an equation total = sum of parts: a group's margin and its
    cells, and, for each partition and each cell (same group columns other than the territory,
    same category), the parent's cell and its children's cells, when every child reports that
    cell. An equation with exactly one hidden member gives it back, so the smallest published
    part is hidden too (tie-break on territory and category), or the total when no part is
    left; hiding one cell can open another equation, hence a work list until none has exactly
    one hidden member. A member with a null count takes no part, as in `suppress`.
    """
    cell = [*(c for c in group_cols if c not in level_cols), category_col]
    usable = (
        marked.select(*dict.fromkeys([*group_cols, *level_cols, *cell]), count_col)
        .with_row_index("_row")
        .filter(pl.col(count_col).is_not_null())
    )
    # Each equation is a run of row numbers, its total first, in one flat list, and the
    # equations of each row another: built as tuples and lists per equation and per row, they
    # were hundreds of thousands of objects that kept the cyclic garbage collector walking.
    equations = pl.concat([
        _group_equations(usable, group_cols, margin_category, category_col),
        _partition_equations(usable, partitions, level_cols, cell),
    ]).select(members=pl.concat_list("total", "parts")).with_row_index("equation")
    members = equations["members"].explode().to_list()
    starts = [0, *equations["members"].list.len().cum_sum().to_list()]
    by_member = equations.explode("members").sort("members", "equation")
    equations_of = by_member["equation"].to_list()
    bounds = np.searchsorted(by_member["members"].to_numpy(),
                             np.arange(marked.height + 1)).tolist()

    hidden = marked["suppressed"].fill_null(False).to_list()
    counts, levels, codes, categories = (marked[c].to_list()
                                         for c in (count_col, *level_cols, category_col))

    def order(i: int) -> tuple:
        return (counts[i] if counts[i] is not None else float("inf"), str(levels[i]),
                str(codes[i]), str(categories[i]), i)

    pending = list(range(len(starts) - 1))
    while pending:
        e = pending.pop()
        total, *parts = members[starts[e]:starts[e + 1]]
        if hidden[total] + sum(map(hidden.__getitem__, parts)) != 1:
            continue
        published = [i for i in parts if not hidden[i]]
        chosen = min(published, key=order) if published else total
        hidden[chosen] = True
        pending.extend(equations_of[bounds[chosen]:bounds[chosen + 1]])
    return pl.Series("suppressed", hidden, dtype=pl.Boolean)


# an equation: the row number of its total and those of its parts
_EQUATIONS = {"total": pl.UInt32, "parts": pl.List(pl.UInt32)}


def _group_equations(usable: pl.DataFrame, group_cols: Sequence[str], margin_category: str,
                     category_col: str) -> pl.DataFrame:
    """A group's margin (total) and its other cells (parts), groups in the order they appear."""
    margin = (pl.col(category_col) == margin_category).fill_null(False)
    return (
        usable.group_by(group_cols, maintain_order=True)
        .agg(total=pl.col("_row").filter(margin), parts=pl.col("_row").filter(~margin))
        .filter((pl.col("total").list.len() == 1) & (pl.col("parts").list.len() > 0))
        .select(pl.col("total").list.first(), "parts")
        .cast(_EQUATIONS)
    )


def _partition_equations(usable: pl.DataFrame, partitions: Sequence[Partition],
                         level_cols: tuple[str, str], cell: list[str]) -> pl.DataFrame:
    """For each partition, in order, and each cell of its parent, in the order it appears: the
    parent's row (total) and its children's rows (parts, in the children's order), when every
    child reports the cell. A territory reporting a cell twice counts by its last row."""
    territory = list(level_cols)
    cells = (
        usable.group_by([*territory, *cell], maintain_order=True)
        .agg(pl.col("_row").last())
        .with_row_index("_position")
    )
    # most partitions have children the indicator does not publish (communes): left out here
    levels = set(cells[level_cols[0]].to_list())
    kept = [(p, parent, children) for p, (parent, children) in enumerate(partitions)
            if children and parent[0] in levels and children[0][0] in levels]
    if not kept:
        return pl.DataFrame(schema=_EQUATIONS)
    schema = {"_p": pl.UInt32, **{c: usable.schema[c] for c in territory}}
    parents = pl.DataFrame(
        [(p, *parent) for p, parent, _ in kept], schema=schema, orient="row"
    ).with_columns(_children=pl.Series([len(children) for _, _, children in kept]))
    children = pl.DataFrame(
        [(p, *child, j) for p, _, children in kept for j, child in enumerate(children)],
        schema={**schema, "_j": pl.UInt32}, orient="row",
    )
    totals = parents.join(cells, on=territory).rename({"_row": "total"})
    parts = children.join(cells.drop("_position"), on=territory).drop(territory)
    return (
        totals.join(parts, on=["_p", *cell], nulls_equal=True)
        .group_by("_p", "_position")
        .agg(pl.col("total").first(), parts=pl.col("_row").sort_by("_j"),
             reported=pl.len(), children=pl.col("_children").first())
        .filter(pl.col("reported") == pl.col("children"))
        .sort("_p", "_position")
        .select("total", "parts")
        .cast(_EQUATIONS)
    )


def _doubles(values) -> pa.Array:
    return pa.array(_as_float(values), type=pa.float64(), from_pandas=True)


def _udfs():
    def wilson(bound: int):
        return lambda k, n: _doubles(wilson_interval(k.to_numpy(), n.to_numpy())[bound])

    def poisson(bound: int):
        return lambda count: _doubles(poisson_interval(count.to_numpy())[bound])

    def rate(bound: int):
        return lambda count, population, per: _doubles(
            rate_interval(count.to_numpy(), population.to_numpy(), per.to_numpy())[bound]
        )

    def flag(value, ci_low, ci_high, reference_value, polarity):
        flags = comparison_flags(
            value.to_numpy(), ci_low.to_numpy(), ci_high.to_numpy(), reference_value.to_numpy(),
            polarity.to_numpy(),
        )
        return pa.array(np.atleast_1d(flags).tolist(), type=pa.string())

    return {
        "wilson_low": (wilson(0), [DOUBLE, DOUBLE], DOUBLE),
        "wilson_high": (wilson(1), [DOUBLE, DOUBLE], DOUBLE),
        "poisson_low": (poisson(0), [DOUBLE], DOUBLE),
        "poisson_high": (poisson(1), [DOUBLE], DOUBLE),
        "rate_low": (rate(0), [DOUBLE, DOUBLE, DOUBLE], DOUBLE),
        "rate_high": (rate(1), [DOUBLE, DOUBLE, DOUBLE], DOUBLE),
        "comparison_flag": (flag, [DOUBLE, DOUBLE, DOUBLE, DOUBLE, VARCHAR], VARCHAR),
    }


def register_duckdb_functions(con: duckdb.DuckDBPyConnection) -> None:
    """Register the interval and flag UDFs on `con`; calling it again replaces them.

    Null handling is "special" because an undefined interval (no trials, no population) is a
    NULL computed from non-null inputs; NULL inputs become NaN in NumPy and NULL again on return.
    """
    for name, (function, parameters, return_type) in _udfs().items():
        try:
            con.remove_function(name)
        except duckdb.InvalidInputException:
            pass
        con.create_function(
            name, function, parameters, return_type,
            type="arrow", null_handling="special", side_effects=False,
        )
