"""Helpers shared by the page modules: the site's context, picking rows, masking cells."""

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from dashboards.changes import PublishedValues, published_values
from dashboards.formatting import format_period, period_order, suppression_note
from dashboards.fragments import Fragments
from dashboards.tables import Cell, Masked, Table, table_html
from dashboards.territories import Geography, TerritoryTree, build_tree, territory_key
from dashboards.views import PageData
from dashboards.warehouse import Snapshot

EMPTY = ('<p class="empty">Aucune donnée publiée pour cette rubrique lors de la dernière '
         "nuit.</p>")


def empty(missing: str, folder: str) -> str:
    """A page whose source family the landing has not had yet: what to drop where."""
    return (f'<p class="empty">{html.escape(missing)} : déposez-le dans le dossier '
            f"{html.escape(folder)}/ du dépôt (CSV ou classeur Excel), la nuit suivante le "
            "chargera.</p>")
REFERENCE_PAGE = "Cette page ne dépend ni du territoire ni de la période choisis ; ils restent " \
                 "retenus pour les autres pages."


@dataclass(frozen=True)
class Site:
    """What every page reads: the warehouse snapshot and the territories it can offer."""

    snapshot: Snapshot
    tree: TerritoryTree
    geography: Geography
    current: PublishedValues
    previous: PublishedValues | None
    fragments: Fragments | None = None

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, current: PublishedValues | None = None,
                      previous: PublishedValues | None = None,
                      rendered: Path | None = None, reuse: bool = True) -> "Site":
        """`rendered`: the site this one will replace; the fragments of its pages are recorded,
        and with `reuse` those whose inputs did not change are kept (dashboards/fragments.py)."""
        geography = Geography.from_snapshot(snapshot)
        tree = build_tree(snapshot, geography)
        fragments = None
        if rendered is not None:
            # what every fragment reads besides its own rows: the territories and the geography
            salt = Fragments.salt_of(tree.to_json(), snapshot.communes, snapshot.epci,
                                     snapshot.departements, snapshot.regions)
            fragments = Fragments.read(rendered, salt) if reuse else Fragments(salt)
        return cls(snapshot, tree, geography, current or published_values(snapshot), previous,
                   fragments)

    def row_keys(self, level: str, code: str) -> tuple[str, ...]:
        return tuple(self.tree.membership([territory_key(level, code)]))

    def reference_data(self) -> PageData:
        return PageData(self.tree, scope_note=REFERENCE_PAGE)


@dataclass(frozen=True)
class Page:
    filename: str
    title: str
    content: str
    tables: list[Table] = field(default_factory=list)
    data: PageData | None = None

    @property
    def with_plotly(self) -> bool:
        return self.data is not None and bool(self.data.slots)


def memoised(site: Site, data: PageData, name: str, inputs: list,
             build: Callable[[], tuple[str, list[Table]]]) -> tuple[str, list[Table]]:
    """The HTML and tables of the fragment `name` of the page, built by `build()`; when the
    site being replaced has this fragment made from the same `inputs` (every row `build`
    reads, beside the territories, the geography and the code), it is taken from there: its
    HTML and views, with its files linked as they are, and no table to write."""
    fragments = site.fragments
    if fragments is None or data.page is None:
        with data.fragment(name):
            return build()
    fingerprint = fragments.fingerprint(inputs)
    entry = fragments.reusable(data.page, name, fingerprint)
    if entry is not None:
        data.reuse(name, entry["heights"], entry["chunks"], entry["views"])
        fragments.keep(data.page, name, entry)
        return entry["html"], []
    with data.fragment(name) as figures:
        html_text, tables = build()
    fragments.record(data.page, name, fingerprint, html_text, figures,
                     [file for table in tables for file in table.files])
    return html_text, tables


def indicator_rows(snapshot: Snapshot, indicator_id: str) -> pl.DataFrame:
    return snapshot.indicators.filter(pl.col("indicator_id") == indicator_id)


def latest_period(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return frame
    return frame.filter(pl.col("period") == frame["period"].max())


def latest_period_by_level(frame: pl.DataFrame) -> pl.DataFrame:
    """Each geographic level at its own latest period (an EPCI file may lag a year)."""
    return frame.filter(pl.col("period") == pl.col("period").max().over("geo_level"))


def period_rank(frame: pl.DataFrame) -> pl.Expr:
    """`period` as its rank in time (period_order), to sort `frame` by: as text, a year came
    before its quarters."""
    ranks = {p: i for i, p in enumerate(sorted(frame["period"].unique(), key=period_order))}
    return pl.col("period").replace_strict(ranks)


def periods_of(frame: pl.DataFrame) -> list[tuple[str, str]]:
    return [(p, format_period(p)) for p in sorted(frame["period"].unique().to_list())]


def masked_note(snapshot: Snapshot, indicator_id: str, subject: str) -> str:
    rules = snapshot.catalogue.filter(pl.col("indicator_id") == indicator_id)["suppression_rule"]
    return suppression_note(rules.first() if rules.len() else None, subject)


def value_cell(row: dict, note: str, column: str = "value") -> Cell:
    return Masked(note) if row["suppressed"] else row[column]


def paragraph(text: str) -> str:
    return f'<p class="intro">{html.escape(text)}</p>'


def heading(text: str, anchor: str | None = None) -> str:
    anchor_attr = f' id="{html.escape(anchor)}"' if anchor else ""
    return f"<h2{anchor_attr}>{html.escape(text)}</h2>"


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def tables_html(tables: list[Table]) -> str:
    return "\n".join(table_html(table) for table in tables)


def row_positions(keys_of_rows: list) -> dict[str, list[int]]:
    """Row positions by key, in row order; a row's key may be a list of the keys it belongs
    to (a commune within its EPCI, département and région)."""
    positions: dict[str, list[int]] = {}
    for index, keys in enumerate(keys_of_rows):
        for key in dict.fromkeys([keys] if isinstance(keys, str) else keys):
            positions.setdefault(key, []).append(index)
    return positions


def rows_within(tree: TerritoryTree, positions: dict[str, list[int]], key: str) -> list[int]:
    """The positions (from `row_positions`) of the rows of a territory's children, in row
    order: one dictionary lookup per child instead of a filter of the frame per territory."""
    return sorted({i for child in tree.children(key) for i in positions.get(child, ())})


def partitions(rows: pl.DataFrame, *by: str) -> dict[tuple, pl.DataFrame]:
    """The rows of each value of `by`, in the order values first appear: what
    `partition_by(..., as_dict=True)` gives, without the query polars makes on each part to
    name it (0.1 ms each, 2 s of a national site's 30,000 parts)."""
    keys = rows.select(by).unique(maintain_order=True).rows()
    return dict(zip(keys, rows.partition_by(*by, maintain_order=True), strict=True))


def by_period(rows: pl.DataFrame) -> list[tuple[str, pl.DataFrame]]:
    """The rows of each period, periods in order: one partition instead of a filter each."""
    parts = partitions(rows, "period")
    return [(period, parts[(period,)]) for (period,) in sorted(parts)]
