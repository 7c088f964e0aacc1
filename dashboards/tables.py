"""Tables shown on the pages, rendered once as HTML and once as a CSV for French Excel."""

import csv
import html
from dataclasses import dataclass
from pathlib import Path

from dashboards.formatting import MASKED_TEXT, format_number


@dataclass(frozen=True)
class Masked:
    """A suppressed cell: shown as '< seuil', with the reason as a tooltip."""

    note: str


Cell = str | int | float | None | Masked


@dataclass(frozen=True)
class Table:
    slug: str
    caption: str
    columns: list[str]
    rows: list[list[Cell]]

    @property
    def csv_name(self) -> str:
        return f"{self.slug}.csv"


def without_empty_columns(table: Table) -> Table:
    """Drop the columns where no row has a value (a margin or a CI the mart does not carry)."""
    keep = [i for i in range(len(table.columns))
            if i == 0 or any(row[i] not in (None, "") for row in table.rows)]
    return Table(table.slug, table.caption, [table.columns[i] for i in keep],
                 [[row[i] for i in keep] for row in table.rows])


def _html_cell(cell: Cell, tag: str = "td") -> str:
    if isinstance(cell, Masked):
        note = html.escape(cell.note)
        return (f'<{tag} class="num masque"><abbr title="{note}">'
                f"{html.escape(MASKED_TEXT)}</abbr></{tag}>")
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return f'<{tag} class="num">{format_number(cell)}</{tag}>'
    return f"<{tag}>{html.escape(cell or '')}</{tag}>"


def table_html(table: Table) -> str:
    header = "".join(f'<th scope="col">{html.escape(c)}</th>' for c in table.columns)
    body = "\n".join(
        "<tr>" + _html_cell(row[0], "th") + "".join(_html_cell(c) for c in row[1:]) + "</tr>"
        for row in table.rows
    )
    download = (f'<a class="download" href="{html.escape(table.csv_name)}" download>'
                "Télécharger (CSV)</a>")
    return (f'<figure class="table">\n<figcaption>{html.escape(table.caption)} {download}'
            f'</figcaption>\n<div class="scroll"><table>\n<thead><tr>{header}</tr></thead>\n'
            f"<tbody>\n{body}\n</tbody>\n</table></div>\n</figure>")


def _csv_cell(cell: Cell) -> str:
    if isinstance(cell, Masked):
        return MASKED_TEXT
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return format_number(cell, grouped=False, decimals=2)
    return cell or ""


def write_csv(table: Table, directory: Path) -> Path:
    """UTF-8 with BOM, ';' and decimal comma: what French Excel opens with a double click."""
    path = directory / table.csv_name
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, delimiter=";", lineterminator="\r\n")
        writer.writerow(table.columns)
        writer.writerows([_csv_cell(c) for c in row] for row in table.rows)
    return path
