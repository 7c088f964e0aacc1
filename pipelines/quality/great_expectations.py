"""Run a Great Expectations suite (expectations/<table>.py) on a staged table.

GX is imported here, inside the check, never at definitions load: it costs seconds to import
and the webserver or the CLI must not pay that (DESIGN §8). Its SQL datasource does not work on
DuckDB, so the table is handed to it as pandas frames. GX evaluates every expectation a suite
declares, on one of two kinds of frame:

- a rule that judges each value on its own (PER_VALUE: not null, regex, membership, bounds)
  gives on a column's distinct values the verdict it gives on its rows, so it runs on a frame of
  those values, which DuckDB counts: a national activity column has at most 290,000 of them
  against 9 million rows. The rows it fails are the rows that hold the values GX flagged, and
  are counted from their multiplicities;
- any other rule (uniqueness, row count, a rule with `mostly`, which weighs rows) runs on the
  rows, in batches of whole BATCH_COLUMN values, with only the columns it reads, text as
  categoricals.

Either way the sampled offending values and their lines are those of the first ten offending
rows in the order of their file and line (of the table's rows when it has no lines); a
uniqueness rule shows each duplicate beside the first row of its key.
"""

import functools
import importlib
import json
import os
from dataclasses import dataclass, replace

import duckdb

SEVERITY = {"critical": "ERROR", "warning": "WARN", "info": "WARN"}
SKIPPED_EMPTY = "suite_skipped_empty_table"
SOURCE_LINE = ("_source_file", "_source_row")
SAMPLE = 10


@dataclass(frozen=True)
class ReferenceSets:
    """Allowed values that suites check membership against, read from the night's ref tables."""

    communes: list[str]
    professions: list[str]
    stages: list[str]
    structure_types: list[str]
    regions: list[str]
    departments: list[str]
    epci: list[str]

    @classmethod
    def read(cls, con: duckdb.DuckDBPyConnection) -> "ReferenceSets":
        def column(sql: str) -> list[str]:
            return [row[0] for row in con.execute(sql).fetchall()]

        return cls(
            communes=column("SELECT commune_code FROM ref.communes"),
            professions=column("SELECT profession_code FROM ref.professions"),
            stages=column("SELECT stage_code FROM ref.stages"),
            structure_types=column("SELECT structure_type FROM ref.structure_types"),
            regions=column("SELECT region_code FROM ref.regions"),
            departments=column("SELECT department_code FROM ref.departements"),
            epci=column("SELECT epci_code FROM ref.epci"),
        )


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    observed_value: str | None
    unexpected_count: int | None
    sample: list
    # where the sampled values are: "file, ligne N" for staged rows
    rows: tuple[str, ...] = ()

    @property
    def blocking_failure(self) -> bool:
        return not self.success and self.severity == "ERROR"


# Rules that judge each row by its own value alone (a null included): on a column's distinct
# values GX gives them the verdict it gives on the rows, and flags the values of the rows it
# would flag there.
PER_VALUE = frozenset({
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
})
UNIQUENESS = frozenset({"expect_compound_columns_to_be_unique",
                        "expect_column_values_to_be_unique"})
# where every offending row is in the frame: counts, values and lines are found from them (GX
# lists no more than 200 offending values)
RESULT_FORMAT = {"result_format": "COMPLETE", "return_unexpected_index_query": False,
                 "exclude_unexpected_values": True}

# Rows validated at once. A suite that names a BATCH_COLUMN (every expectation holds row by row,
# or within one value of that column: the activity uniqueness key includes the month) has its
# expectations on rows run on batches of that column's values of at most this many rows, then
# their outcomes are added up: at national scale the activity table as one pandas frame took
# 5 GB.
BATCH_ROWS = 2_000_000


@dataclass(frozen=True)
class _Rows:
    """The rows a suite checks: its table in DuckDB, restricted to `where`."""

    con: duckdb.DuckDBPyConnection
    table: str
    where: str | None
    types: dict[str, str]

    @property
    def origin(self) -> list[str]:
        """The columns that say where a row comes from: its file and line, or its file alone
        (a public reference file, which its reader takes whole)."""
        return [c for c in SOURCE_LINE if c in self.types] if SOURCE_LINE[0] in self.types else []

    def filtered(self, condition: str | None) -> str:
        return f" WHERE {condition}" if condition else ""

    def typed(self, column: str) -> str:
        return _typed(f"t.{_quoted(column)}", self.types[column])

    def first(self, joined: str, select: str, condition: str | None,
              grouped: list[str] | None = None) -> list[tuple]:
        """`select` and where the first SAMPLE rows of `joined` come from (the table as t,
        joined to what picks the offending rows): file and line, or file alone, or None, in
        that order and then the table's. With `grouped` columns, the rows sharing their values
        come together, after the first of them."""
        origin = [f"t.{c}" for c in self.origin]
        order = [*origin, "t.rowid"]
        if grouped:
            order.insert(0, f"min(({', '.join(order)})) OVER (PARTITION BY "
                            f"{', '.join(f't.{_quoted(c)}' for c in grouped)})")
        found = self.con.execute(
            f"SELECT {', '.join([select, *origin])} FROM {self.table} AS t {joined}"
            f"{self.filtered(condition)} ORDER BY {', '.join(order)} "
            f"LIMIT {SAMPLE}").fetchall()
        return [(key, ", ligne ".join(str(w) for w in where if w is not None) or None)
                for key, *where in found]


def run_suite(con: duckdb.DuckDBPyConnection, suite_name: str,
              where: str | None = None) -> list[ExpectationOutcome]:
    """`where` restricts the suite to the rows a night changed (the activity months it
    refreshed); the rest of the table passed when it was published."""
    module = importlib.import_module(f"expectations.{suite_name}")
    subset = f" WHERE {where}" if where else ""
    count = con.execute(f"SELECT count(*) FROM {module.TABLE}{subset}").fetchone()[0]
    if count == 0:
        # public reference files are optional: no file, no rows (and no typed columns) to check;
        # an incremental night may also have no new activity row
        return [ExpectationOutcome(
            expectation=SKIPPED_EMPTY, column=None, severity="WARN", success=True,
            observed_value=json.dumps({"lignes": 0, "raison": (
                "aucune ligne nouvelle à contrôler cette nuit" if where
                else "aucune ligne à contrôler (aucun fichier déposé)")}, ensure_ascii=False),
            unexpected_count=0, sample=[],
        )]
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx

    _without_batch_fingerprints()
    reference = ReferenceSets.read(con)
    schema, table = module.TABLE.split(".")
    rows = _Rows(con, module.TABLE, where, dict(con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
        "AND table_name = ?", [schema, table]).fetchall()))
    night = _batch_definition()
    declared = module.expectations(gx, reference)
    per_value = [e for e in declared if _per_value(e)]
    on_rows = [e for e in declared if not _per_value(e)]
    keys = list(dict.fromkeys(c for e in on_rows for c in _columns_of(e)))
    # a suite may name the rows it flags by a column people read rather than by a key's value
    shown_as = getattr(module, "SHOWN_AS", {})
    file_columns = getattr(module, "FILE_COLUMNS", {})
    columns = list(dict.fromkeys([*keys, *(shown_as[c] for c in keys if c in shown_as)]))
    # text read on rows is given to GX as categoricals over its distinct values (_row_frame)
    text = [c for c in columns if rows.types.get(c) == "VARCHAR"]
    judged = list(dict.fromkeys(e.column for e in per_value))
    outcomes: dict[int, ExpectationOutcome] = {}
    # DuckDB reads, one after another and on a connection of its own, what GX is given next
    # while GX judges what it was given: its scans and GX's Python run on two cores at once.
    # The rows need the values of their text first, the longest to count.
    with _Reader(rows) as reader:
        distinct = {c: reader.submit(_distinct, c) for c in text}
        if on_rows:
            categories = reader.submit(_numbered, text, [distinct[c] for c in text])
            batches = reader.read_ahead(_row_table, _batches(con, module, where, count),
                                        columns, text)
        distinct |= {c: reader.submit(_distinct, c) for c in judged if c not in distinct}

        def judge(columns: list[str]) -> None:
            for column in columns:
                outcomes.update(_on_distinct_values(
                    gx, night, rows, column, distinct[column].result(),
                    [e for e in per_value if e.column == column]))

        judge([c for c in judged if c in text])
        if on_rows:
            outcomes.update(_on_rows(gx, night, rows, batches, on_rows, columns,
                                     categories.result(), shown_as, file_columns))
        judge([c for c in judged if c not in text])
    return [outcomes[id(e)] for e in declared]


class _Reader:
    """Runs DuckDB reads of the suite's rows in a thread, in the order they are submitted, on a
    cursor of the connection (a connection is used by one thread at a time)."""

    def __init__(self, rows: _Rows):
        self._rows = rows

    def __enter__(self) -> "_Reader":
        from concurrent.futures import ThreadPoolExecutor

        self._cursor = self._rows.con.cursor()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gx-read")
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(cancel_futures=True)
        self._cursor.close()

    def submit(self, read, *args):
        return self._pool.submit(read, replace(self._rows, con=self._cursor), *args)

    def read_ahead(self, read, conditions: list, *args):
        """read(rows, condition, *args) for each condition, in order, each read while the caller
        works on the one before; the first is submitted now."""
        pending = [self.submit(read, conditions[0], *args)]

        def results():
            for following in [*conditions[1:], None]:
                result = pending.pop().result()
                if following is not None:
                    pending.append(self.submit(read, following, *args))
                yield result

        return results()


def _per_value(expectation) -> bool:
    # `mostly` weighs rows, which distinct values do not; a row condition reads other columns
    return (expectation.expectation_type in PER_VALUE and expectation.mostly == 1
            and expectation.row_condition is None)


def _distinct(rows: _Rows, column: str):
    """The column's distinct values (`value`, typed as a frame carries them, so that two values
    are distinct in DuckDB only when they are in pandas) and their rows (`n`)."""
    return rows.con.sql(
        f"SELECT {rows.typed(column)} AS value, count(*) AS n FROM {rows.table} AS t"
        f"{rows.filtered(rows.where)} GROUP BY ALL").arrow().read_all()


def _on_distinct_values(gx, night, rows: _Rows, column: str, distinct,
                        declared: list) -> dict[int, ExpectationOutcome]:
    """The outcomes of per-value rules on one column, run by GX on its distinct values."""
    import pandas as pd
    import pyarrow as pa

    frame = pd.DataFrame({column: _pandas_column(distinct["value"])})
    ran = [_for_frame(gx, expectation, frame) for expectation in declared]
    counts = distinct["n"].to_numpy()
    outcomes = {}
    results = _validate(gx, night, rows.table, frame, ran)
    for expectation, executed, result in zip(declared, ran, results, strict=True):
        outcome = _outcome(result, expectation, executed)
        flagged = _flagged(result)
        if flagged is not None:
            first = []
            if flagged:
                positions = pa.array(flagged, pa.int64())
                first = _with_registered(rows.con, "gx_flagged", pa.table(
                    {"gx_position": positions, "gx_value": distinct["value"].take(positions)}),
                    lambda: rows.first(
                        f"JOIN gx_flagged AS f ON {rows.typed(column)} "
                        "IS NOT DISTINCT FROM f.gx_value", "f.gx_position", rows.where))
            shown = [position for position, _ in first]
            outcome = replace(outcome, unexpected_count=int(counts[flagged].sum()),
                              **_sample(first, dict(zip(
                                  shown, _reported(frame, expectation, shown), strict=True))))
        outcomes[id(expectation)] = outcome
    return outcomes


def _on_rows(gx, night, rows: _Rows, batches, declared: list, columns: list[str],
             categories: dict, shown_as: dict[str, str], file_columns: dict[str, str]
             ) -> dict[int, ExpectationOutcome]:
    """The outcomes of the other rules, run by GX on the rows, batch by batch."""
    merged: dict[int, ExpectationOutcome] = {}
    # the first offending rows of each batch, (rowid, value GX gave)
    offending: dict[int, list] = {id(e): [] for e in declared}
    for table in batches:
        frame = _row_frame(table, columns, categories)
        rowids = table["gx_row"].to_numpy()
        ran = [_for_frame(gx, expectation, frame) for expectation in declared]
        results = _validate(gx, night, rows.table, frame, ran)
        for expectation, executed, result in zip(declared, ran, results, strict=True):
            outcome = _outcome(result, expectation, executed)
            key = id(expectation)
            merged[key] = outcome if key not in merged else _added(merged[key], outcome)
            flagged = _flagged(result)
            if flagged:
                position = dict(zip(rowids[flagged].tolist(), flagged, strict=True))
                first = [rowid for rowid, _ in _first_rows(rows, list(position),
                                                           _duplicated_key(expectation))]
                offending[key] += zip(first, _reported(frame, expectation,
                                                       [position[r] for r in first], shown_as,
                                                       file_columns),
                                      strict=True)
    for expectation in declared:
        if candidates := offending[id(expectation)]:
            merged[id(expectation)] = replace(merged[id(expectation)], **_sample(
                _first_rows(rows, [rowid for rowid, _ in candidates],
                            _duplicated_key(expectation)), dict(candidates)))
    return merged


def _numbered(rows: _Rows, text: list[str], distinct: list) -> dict:
    """Number the values of each text column for _row_table, and give the categories of those
    numbers for _row_frame."""
    import pandas as pd
    import pyarrow as pa

    categories = {}
    for position, (column, values) in enumerate(
            (c, d.result()["value"].drop_null()) for c, d in zip(text, distinct, strict=True)):
        rows.con.register(f"gx_codes_{position}", pa.table(
            {"gx_value": values, "gx_code": pa.array(range(len(values)), pa.int32())}))
        categories[column] = pd.CategoricalDtype(pd.Index(values.to_numpy(), dtype=object))
    return categories


def _row_table(rows: _Rows, condition: str | None, columns: list[str], text: list[str]):
    """The rows of a batch (`gx_row`: rowid), with the columns `columns`, text as the numbers
    of its values (_numbered)."""
    select, joins = ["t.rowid AS gx_row"], []
    for column in columns:
        if column in text:
            name = f"gx_codes_{text.index(column)}"
            joins.append(f"LEFT JOIN {name} ON t.{_quoted(column)} = {name}.gx_value")
            select.append(f"coalesce({name}.gx_code, -1) AS {_quoted(column)}")
        else:
            select.append(f"{rows.typed(column)} AS {_quoted(column)}")
    return rows.con.sql(f"SELECT {', '.join(select)} FROM {rows.table} AS t {' '.join(joins)}"
                        f"{rows.filtered(condition)}").arrow().read_all()


def _row_frame(table, columns: list[str], categories: dict):
    """The pandas frame of a batch; its rows are those of `table`, in order.

    Text columns are categoricals: the same values for GX, but pandas compares their codes
    rather than the text (pandas took 4.7 s to find the duplicated national activity keys as
    text, and 1.8 s as categoricals, when the professional hash was still 64 characters).
    """
    import pandas as pd

    return pd.DataFrame({
        column: pd.Categorical.from_codes(table[column].to_numpy(), dtype=categories[column],
                                          validate=False)
        if column in categories else _pandas_column(table[column]).array
        for column in columns}, index=pd.RangeIndex(table.num_rows))


def _first_rows(rows: _Rows, rowids: list[int], grouped: list[str] | None = None
                ) -> list[tuple[int, str | None]]:
    """The first SAMPLE of the rows `rowids`, with their lines (`grouped`: _Rows.first)."""
    import pyarrow as pa

    return _with_registered(rows.con, "gx_rows", pa.table({"gx_row": pa.array(rowids, pa.int64())}),
                            lambda: rows.first("SEMI JOIN gx_rows AS r ON t.rowid = r.gx_row",
                                               "t.rowid", None, grouped))


def _duplicated_key(expectation) -> list[str] | None:
    """The key of a uniqueness rule, whose offending rows are shown duplicate beside duplicate:
    in file and line order alone, a corrected file sent under a new name showed ten lines of the
    first file and none of the second."""
    return _columns_of(expectation) if expectation.expectation_type in UNIQUENESS else None


def _with_registered(con: duckdb.DuckDBPyConnection, name: str, table, query):
    con.register(name, table)
    try:
        return query()
    finally:
        con.unregister(name)


def _sample(first: list[tuple], values: dict) -> dict:
    """`sample` and `rows` of an outcome from its first offending rows (key, line) and the
    values GX reports for them, by key."""
    return {"sample": [_plain(values[key]) for key, _ in first],
            "rows": tuple(line for _, line in first if line is not None)}


def _flagged(result) -> list[int] | None:
    """The positions in its frame of the rows GX found offending, or None for a rule that does
    not judge rows."""
    details = result.result or {}
    if "unexpected_index_list" not in details:
        return None
    return details["unexpected_index_list"]


def _reported(frame, expectation, positions: list[int], shown_as: dict[str, str] | None = None,
              file_columns: dict[str, str] | None = None) -> list:
    """The values GX reports for the rows at `positions`: a rule's value, or the record of its
    columns for a rule on several; a column of `shown_as` by the column it names, and a record's
    columns by the names of `file_columns`."""
    shown = [(shown_as or {}).get(c, c) for c in _columns_of(expectation)]
    if getattr(expectation, "column", None):
        return [_as_written(shown[0], v) for v in frame[shown[0]].iloc[positions]]
    return [{(file_columns or {}).get(c, c): _as_written(c, v) for c, v in record.items()}
            for record in frame.iloc[positions][shown].to_dict("records")]


def _as_written(column: str, value):
    """A month (a column named *_month holds the first day of one) as the file writes it,
    2024-06, rather than as the date 2024-06-01."""
    import pandas as pd

    if column.endswith("_month") and isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m")
    return value


def _without_batch_fingerprints() -> None:
    """GX hashes every pandas frame it is given, whole, into a fingerprint of the batch that
    nothing here reads (a third of the national activity suite on one new month: 250,000
    professional hashes). It leaves out the frames of HASH_THRESHOLD bytes and more."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


@functools.cache
def _batch_definition():
    """An ephemeral GX context's batch definition for pandas frames, without progress bars: one
    for every suite a process runs (each frame is given when it is validated), since making the
    context, its source, asset and definition took 30 ms a suite."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return (context.data_sources.add_pandas("staging").add_dataframe_asset("tables")
            .add_batch_definition_whole_dataframe("night"))


def warm_up() -> None:
    """Validate two rows with a rule of each kind the suites use: GX builds its context, its
    pandas engine and its metrics on first use (0.1 s), which the worker does ahead of a
    night's first suite (pipelines/quality/worker.py)."""
    import great_expectations as gx
    import pandas as pd

    e = gx.expectations
    _validate(gx, _batch_definition(), "warm_up",
              pd.DataFrame({"a": ["x", "y"], "b": [1.0, 2.0]}),
              [e.ExpectColumnValuesToNotBeNull(column="a"),
               e.ExpectColumnValuesToMatchRegex(column="a", regex="^[xy]$"),
               e.ExpectColumnValuesToNotBeInSet(column="a", value_set=["z"]),
               e.ExpectColumnValuesToBeBetween(column="b", min_value=0),
               e.ExpectCompoundColumnsToBeUnique(column_list=["a", "b"])])


def _validate(gx, night, name: str, frame, ran: list) -> list:
    """GX's results of the expectations `ran` on `frame`, in their order."""
    from great_expectations.validator.v1_validator import Validator

    suite = gx.ExpectationSuite(name=name)
    for expectation in ran:
        suite.add_expectation(expectation)
    # what Batch.validate runs, without loading the batch a first time: GX fingerprints every
    # frame it loads by hashing it whole
    results = list(Validator(batch_definition=night, batch_parameters={"dataframe": frame},
                             result_format=RESULT_FORMAT).validate_expectation_suite(suite).results)
    ordered = []
    # GX groups the results by column
    for expectation in ran:
        config = expectation.configuration
        match = next((r for r in results if r.expectation_config.type == config.type
                      and {k: v for k, v in r.expectation_config.kwargs.items()
                           if k != "batch_id"} == config.kwargs), None)
        if match is None:
            raise ValueError(f"GX returned no result for {config.type} {config.kwargs}")
        results.remove(match)
        ordered.append(match)
    return ordered


def _batches(con: duckdb.DuckDBPyConnection, module, where: str | None,
             rows: int) -> list[str | None]:
    """Conditions that split the rows to check into batches of whole BATCH_COLUMN values.

    A batch is a range of consecutive values, so that DuckDB skips the row groups outside it
    instead of reading every row of the table for every batch.
    """
    column = getattr(module, "BATCH_COLUMN", None)
    if column is None or rows <= BATCH_ROWS:
        return [where]
    subset = f" WHERE {where}" if where else ""
    counts = con.execute(f"SELECT {column}::VARCHAR, typeof(any_value({column})), count(*) "
                         f"FROM {module.TABLE}{subset} GROUP BY {column} "
                         f"ORDER BY {column} NULLS FIRST").fetchall()
    groups: list[list] = [[]]
    size = 0
    for value, kind, count in counts:
        if groups[-1] and size + count > BATCH_ROWS:
            groups.append([])
            size = 0
        groups[-1].append((value, kind))
        size += count
    conditions = []
    for values in groups:
        known = ["CAST('" + v.replace("'", "''") + f"' AS {kind})"
                 for v, kind in values if v is not None]
        parts = ([f"{column} BETWEEN {known[0]} AND {known[-1]}"] if known else []) + (
            [f"{column} IS NULL"] if values[0][0] is None else [])
        condition = "(" + " OR ".join(parts) + ")"
        conditions.append(f"({where}) AND {condition}" if where else condition)
    return conditions


def _outcome(result, declared, ran) -> ExpectationOutcome:
    """The outcome of the rule the suite declares from GX's result of the rule that ran (the
    same, or an equivalent one: _for_frame), without its sample (found by the caller)."""
    config = result.expectation_config
    if config.type != ran.expectation_type:
        raise ValueError(f"GX returned {config.type} where {ran.expectation_type} ran")
    details = result.result or {}
    return ExpectationOutcome(
        expectation=declared.expectation_type,
        column=",".join(_columns_of(declared)) or None,
        severity=SEVERITY[str(config.severity.value)],
        success=bool(result.success),
        observed_value=_text(details.get("observed_value")),
        unexpected_count=details.get("unexpected_count"),
        sample=[],
    )


def _added(a: ExpectationOutcome, b: ExpectationOutcome) -> ExpectationOutcome:
    """One expectation's outcome over two batches: failed if either failed, counts added."""
    if (a.expectation, a.column, a.severity) != (b.expectation, b.column, b.severity):
        raise ValueError(f"outcomes of different expectations cannot be added: {a} and {b}")
    counts = [c for c in (a.unexpected_count, b.unexpected_count) if c is not None]
    return replace(
        a, success=a.success and b.success,
        observed_value=a.observed_value if a.observed_value is not None else b.observed_value,
        unexpected_count=sum(counts) if counts else None,
    )


def _typed(expression: str, kind) -> str:
    """`expression` cast by DuckDB to what `.df()` makes of its type (datetime64 for dates,
    float64 for decimals): the frames reach pandas through Arrow, ten times faster than `.df()`
    on millions of rows, with the values `.df()` gives."""
    if str(kind) == "DATE":
        return f"{expression}::TIMESTAMP"
    if str(kind).startswith("DECIMAL"):
        return f"{expression}::DOUBLE"
    return expression


def _pandas_column(column):
    """An Arrow column as `.df()` gives it: integers and booleans with nulls become pandas'
    nullable types, not floats."""
    import pandas as pd
    import pyarrow as pa

    nullable = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(),
                pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
                pa.bool_(): pd.BooleanDtype()}
    return column.to_pandas(types_mapper=nullable.get if column.null_count else None)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _for_frame(gx, expectation, frame):
    """The expectation GX runs on this frame: a membership rule becomes its complement, "no
    value among the frame's values missing from the allowed set".

    The verdict, the unexpected count, the offending values and their rows are those of the
    rule itself, but GX copies an expectation's configuration hundreds of times while it plans
    the metrics: with the 35,000 commune codes of the reference in it, those copies were half
    of the national activity check. The complement's set is empty on a clean night.
    """
    if expectation.expectation_type != "expect_column_values_to_be_in_set":
        return expectation
    column = expectation.column
    allowed = set(expectation.value_set)
    present = frame[column].dropna().unique().tolist() if column in frame.columns else []
    return gx.expectations.ExpectColumnValuesToNotBeInSet(
        column=column, value_set=sorted(v for v in present if v not in allowed),
        mostly=expectation.mostly, severity=expectation.severity)


def _columns_of(expectation) -> list[str]:
    """The columns an expectation reads, from its fields: its configuration copies a 35,000-value
    set."""
    if getattr(expectation, "column", None):
        return [expectation.column]
    return list(getattr(expectation, "column_list", None) or [])


def _plain(value):
    import pandas as pd

    if isinstance(value, dict):  # the record of a rule on several columns, as an analyst reads it
        shown = {column: _plain(v) for column, v in value.items()}
        return ", ".join(f"{column} = {'(vide)' if v is None else v}"
                         for column, v in shown.items())
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):  # NaN, NA, NaT
        return None
    if isinstance(value, pd.Timestamp):  # a month or a date, not "Timestamp('2023-01-01 …')"
        return (value.date() if value == value.normalize() else value.to_pydatetime()).isoformat()
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    return value if isinstance(value, (str, int, float, bool)) else str(value)


def _text(value) -> str | None:
    return None if value is None else json.dumps(_plain(value), ensure_ascii=False)
