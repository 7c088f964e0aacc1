"""Tables shown on the pages, rendered once as HTML and once as a CSV for French Excel.

A row may carry the territory keys it answers to and its period: the page's script shows the
rows of the selected territory and period, and builds the CSV of exactly those rows in the
browser. Each numeric cell carries its CSV text, so that the selection's file and the static
file of the whole table are written alike.

A `lazy` table (the long ones: indicator values, values changed since the previous night,
projects, programmes' criteria) is not written into the page: its rows are in a script file
under `donnees/`, loaded when the table comes near the screen or its CSV is asked for, and the
page shows the first rows of the selection with a button for the next ones. Written into their
pages, the national tables made them take seconds to open.
"""

import csv
import functools
import html
import json
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from dashboards.formatting import MASKED_TEXT, format_number
from dashboards.views import DATA_DIR, json_text


@dataclass(frozen=True)
class Masked:
    """A suppressed cell: shown as '< seuil', with the reason as a tooltip."""

    note: str


Cell = str | int | float | None | Masked


class Row(NamedTuple):
    # a tuple rather than a frozen dataclass: a national site makes 400,000 rows, and a frozen
    # dataclass is three times as long to make
    cells: list[Cell]
    keys: tuple[str, ...] = ()
    period: str | None = None


@dataclass(frozen=True)
class Table:
    slug: str
    caption: str
    columns: list[str]
    rows: list[Row]
    note: str | None = None
    tall: bool = False  # long tables scroll inside a box, their header stays in view
    lazy: bool = False
    # columns of sentences or lists, kept wide enough to read: beside a dozen short columns
    # the browser narrowed them to a word a line
    prose: tuple[str, ...] = ()

    @property
    def data_file(self) -> str:
        return f"{DATA_DIR}/tableau-{self.slug}.js"

    @property
    def filtered(self) -> bool:
        return any(row.keys or row.period for row in self.rows)

    @property
    def csv_name(self) -> str:
        return f"{self.slug}_tous-territoires.csv" if self.filtered else f"{self.slug}.csv"

    @property
    def files(self) -> list[str]:
        """What the render writes for it, under the site folder."""
        return [self.csv_name, *([self.data_file] if self.lazy else [])]

    @functools.cached_property
    def csv_rows(self) -> list[list[str]]:
        """Each cell's CSV text, made once for the CSV file and the lazy table's data file (a
        national table has millions of cells)."""
        return [[csv_text(c) for c in row.cells] for row in self.rows]


def without_empty_columns(table: Table) -> Table:
    """Drop the columns where no row has a value (a margin or a CI the mart does not carry)."""
    keep = [i for i in range(len(table.columns))
            if i == 0 or any(row.cells[i] not in (None, "") for row in table.rows)]
    if len(keep) == len(table.columns):
        return table
    pick = itemgetter(*keep, 0)  # a tuple even when one column is kept
    rows = [Row(list(pick(row.cells)[:-1]), row.keys, row.period) for row in table.rows]
    return Table(table.slug, table.caption, [table.columns[i] for i in keep], rows, table.note,
                 table.tall, table.lazy, table.prose)


def _is_number(cell: Cell) -> bool:
    # the exact types first: a national site formats 2.5 million cells
    kind = type(cell)
    if kind is float or kind is int:
        return True
    return kind is not bool and isinstance(cell, int | float)


def csv_text(cell: Cell) -> str:
    kind = type(cell)
    if kind is str:
        return cell
    if kind is float or kind is int:
        return format_number(cell, grouped=False, decimals=2)
    if isinstance(cell, Masked):
        return MASKED_TEXT
    if _is_number(cell):
        return format_number(cell, grouped=False, decimals=2)
    return cell or ""


def _html_cell(cell: Cell, tag: str = "td") -> str:
    if isinstance(cell, Masked):
        note = html.escape(cell.note)
        return (f'<{tag} class="num masque"><abbr title="{note}">'
                f"{html.escape(MASKED_TEXT)}</abbr></{tag}>")
    if _is_number(cell):
        return (f'<{tag} class="num" data-csv="{csv_text(cell)}">{format_number(cell)}'
                f"</{tag}>")
    return f"<{tag}>{html.escape(cell or '')}</{tag}>"


def _row_html(row: Row) -> str:
    attributes = ""
    if row.keys:
        attributes += f' data-t="{html.escape(" ".join(row.keys))}"'
    if row.period:
        attributes += f' data-p="{html.escape(row.period)}"'
    cells = _html_cell(row.cells[0], "th") + "".join(_html_cell(c) for c in row.cells[1:])
    return f"<tr{attributes}>{cells}</tr>"


def table_html(table: Table) -> str:
    prose = ' class="prose"'
    header = "".join(f'<th scope="col"{prose if c in table.prose else ""}>{html.escape(c)}</th>'
                     for c in table.columns)
    body = "" if table.lazy else "\n".join(_row_html(row) for row in table.rows)
    source = (f' data-source="{html.escape(table.data_file)}" data-lignes="{len(table.rows)}"'
              if table.lazy else "")
    more = ('<p class="plus" hidden><button type="button">Afficher les lignes suivantes'
            '</button></p>\n' if table.lazy else "")
    whole = html.escape(table.csv_name)
    if table.filtered:
        links = (f'<a class="download csv-selection" data-tableau="{html.escape(table.slug)}" '
                 f'href="{whole}" download="{whole}">Télécharger la sélection (CSV)</a>'
                 f'<a class="download" href="{whole}" download>Tableau complet (CSV)</a>')
    else:
        links = f'<a class="download" href="{whole}" download>Télécharger (CSV)</a>'
    note = f'<p class="note">{html.escape(table.note)}</p>' if table.note else ""
    scroll = "scroll haut" if table.tall else "scroll"
    return (f'<figure class="table">\n<figcaption>{html.escape(table.caption)} {links}'
            f'</figcaption>\n{note}<div class="{scroll}"><table data-tableau='
            f'"{html.escape(table.slug)}"{source}>\n<thead><tr>{header}</tr></thead>\n'
            f'<tbody>\n{body}\n</tbody>\n</table></div>\n{more}<p class="vide" hidden></p>\n'
            '</figure>')


def _data_cell(cell: Cell, text: str) -> str | list | dict:
    kind = type(cell)
    if kind is str:
        return cell
    if kind is float or kind is int:
        return [format_number(cell), text]
    if isinstance(cell, Masked):
        return {"m": cell.note}
    if _is_number(cell):
        return [format_number(cell), text]
    return cell or ""


def write_table_data(table: Table, directory: Path) -> Path:
    """The rows of a lazy table: [territory keys, period, cells…] each, for the page's script."""
    rows = [[" ".join(row.keys), row.period or "", *map(_data_cell, row.cells, texts)]
            for row, texts in zip(table.rows, table.csv_rows, strict=True)]
    path = directory / table.data_file
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"observatoireTableau({json.dumps(table.slug)},{json_text(rows)});\n",
                    encoding="utf-8")
    return path


def write_csv(table: Table, directory: Path) -> Path:
    """UTF-8 with BOM, ';' and decimal comma: what French Excel opens with a double click."""
    path = directory / table.csv_name
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(table.columns)
        writer.writerows(table.csv_rows)
    return path
