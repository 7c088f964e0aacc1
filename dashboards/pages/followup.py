"""Suivi des contrats et feuilles de route: each programme's criteria against their targets."""

import html

import polars as pl

from dashboards.figures import followup_figure
from dashboards.formatting import format_period
from dashboards.pages.common import EMPTY, Page, heading, paragraph, slugify, tables_html
from dashboards.tables import Table, without_empty_columns
from dashboards.template import figure_html
from dashboards.warehouse import Snapshot

TITLE = "Suivi des contrats et feuilles de route"


def followup_page(snapshot: Snapshot) -> Page:
    followup = snapshot.followup
    if followup.is_empty():
        return Page("suivi.html", TITLE, EMPTY)
    parts = [paragraph(
        "Critères de suivi des contrats locaux de santé, feuilles de route des pôles et "
        "contrats des CPTS : valeur de chaque période comparée à la cible. Statut : atteint "
        "(100 % de la cible ou plus), en bonne voie, en retard ou sans cible. Une valeur "
        "« illustrative » n'est pas une observation : elle complète un document source.")]
    tables = []
    programmes = followup["programme"].unique(maintain_order=True).to_list()
    for index, programme in enumerate(programmes, start=1):
        rows = followup.filter(pl.col("programme") == programme)
        territory = ", ".join(rows["territory"].drop_nulls().unique(maintain_order=True))
        table = without_empty_columns(_criteria_table(rows, programme))
        tables.append(table)
        parts += [
            heading(programme, slugify(programme)),
            f'<p class="intro">Territoire : {html.escape(territory)}</p>' if territory else "",
            figure_html(followup_figure(rows), f"figure-suivi-{index}"),
            tables_html([table]),
        ]
    return Page("suivi.html", TITLE, "\n".join(parts), tables, with_plotly=True)


def _criteria_table(rows: pl.DataFrame, programme: str) -> Table:
    body = [[r["criterion"], r["axis"], r["action"], format_period(r["period"]), r["value"],
             r["target"], r["unit"], r["achievement_rate"], r["status"], r["value_nature"]]
            for r in rows.iter_rows(named=True)]
    return Table(
        f"suivi-{slugify(programme)}", f"Critères de suivi : {programme}",
        ["Critère", "Axe", "Action", "Période", "Valeur", "Cible", "Unité",
         "Taux de réalisation (%)", "Statut", "Nature de la valeur"], body)
