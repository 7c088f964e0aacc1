"""Offre de soins et activité: professionals per 10,000 inhabitants by territory."""

import polars as pl

from dashboards.figures import density_figure
from dashboards.formatting import format_period
from dashboards.pages.common import (
    EMPTY,
    GEO_LEVEL_LABELS,
    Page,
    heading,
    indicator_rows,
    latest_period_by_level,
    masked_note,
    paragraph,
    tables_html,
    value_cell,
)
from dashboards.tables import Table
from dashboards.template import figure_html
from dashboards.warehouse import Snapshot

TITLE = "Offre de soins et activité"
FIGURE_LEVELS = [("epci", "EPCI"), ("departement", "département")]
TABLE_LEVELS = ["region", "departement", "epci", "commune"]


def supply_page(snapshot: Snapshot) -> Page:
    density = latest_period_by_level(indicator_rows(snapshot, "densite_professionnels"))
    density = density.with_columns(
        category_label=pl.when(pl.col("category") == "ensemble")
        .then(pl.lit("Ensemble des professions")).otherwise(pl.col("category_label")))
    if density.is_empty():
        return Page("offre.html", TITLE, EMPTY)
    parts = [paragraph(
        "Densité de professionnels de santé en exercice pour 10 000 habitants, "
        "avec son intervalle de confiance à 95 % (trait noir) et la valeur du territoire de "
        "référence (losange) : le département pour un EPCI, la région pour un département. "
        "Le menu en haut à droite de chaque graphique change de profession.")]
    for level, label in FIGURE_LEVELS:
        rows = density.filter(pl.col("geo_level") == level)
        if not rows.is_empty():
            parts.append(heading(f"Par {label}"))
            parts.append(figure_html(density_figure(rows, label), f"figure-densite-{level}"))
    table = _density_table(density, masked_note(snapshot, "densite_professionnels",
                                                "professionnels"))
    parts += [heading("Tableau"), tables_html([table])]
    return Page("offre.html", TITLE, "\n".join(parts), [table], with_plotly=True)


def _density_table(density: pl.DataFrame, note: str) -> Table:
    rank = {level: index for index, level in enumerate(TABLE_LEVELS)}
    ordered = density.sort(
        pl.col("geo_level").replace_strict(rank, default=len(rank), return_dtype=pl.Int32),
        "geo_name", "category_order")
    rows = [
        [r["geo_name"], GEO_LEVEL_LABELS.get(r["geo_level"], r["geo_level"]), r["category_label"],
         format_period(r["period"]), value_cell(r, note), value_cell(r, note, "ci_low"),
         value_cell(r, note, "ci_high"), r["reference_geo_name"], r["reference_value"],
         r["comparison_flag"]]
        for r in ordered.iter_rows(named=True)
    ]
    return Table(
        "densite-professionnels",
        "Densité de professionnels pour 10 000 habitants, dernière période publiée",
        ["Territoire", "Niveau", "Profession", "Période", "Densité", "IC 95 % bas",
         "IC 95 % haut", "Territoire de référence", "Densité de référence", "Comparaison"],
        rows)
