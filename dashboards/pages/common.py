"""Helpers shared by the page modules: picking rows, masking cells, small HTML fragments."""

import html
import re
import unicodedata
from dataclasses import dataclass, field

import polars as pl

from dashboards.formatting import suppression_note
from dashboards.tables import Cell, Masked, Table, table_html
from dashboards.warehouse import Snapshot

EMPTY = ('<p class="empty">Aucune donnée publiée pour cette rubrique lors de la dernière '
         "nuit.</p>")
GEO_LEVEL_LABELS = {
    "france": "France",
    "region": "Région",
    "departement": "Département",
    "epci": "EPCI",
    "commune": "Commune",
    "territoire_sante": "Territoire de santé",
    "programme": "Programme",
}


@dataclass(frozen=True)
class Page:
    filename: str
    title: str
    content: str
    tables: list[Table] = field(default_factory=list)
    with_plotly: bool = False


def indicator_rows(snapshot: Snapshot, indicator_id: str) -> pl.DataFrame:
    return snapshot.indicators.filter(pl.col("indicator_id") == indicator_id)


def latest_period(frame: pl.DataFrame) -> pl.DataFrame:
    if frame.is_empty():
        return frame
    return frame.filter(pl.col("period") == frame["period"].max())


def latest_period_by_level(frame: pl.DataFrame) -> pl.DataFrame:
    """Each geographic level at its own latest period (an EPCI file may lag a year)."""
    return frame.filter(pl.col("period") == pl.col("period").max().over("geo_level"))


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
