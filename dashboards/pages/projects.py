"""Projets de maisons et pôles de santé: the regional census by territory and stage."""

import polars as pl

from dashboards.figures import projects_by_stage_figure
from dashboards.formatting import format_number, format_period
from dashboards.pages.common import (
    EMPTY,
    Page,
    heading,
    indicator_rows,
    latest_period,
    masked_note,
    paragraph,
    tables_html,
    value_cell,
)
from dashboards.tables import Table, without_empty_columns
from dashboards.template import figure_html
from dashboards.warehouse import Snapshot

TITLE = "Projets de maisons et pôles de santé"


def projects_page(snapshot: Snapshot) -> Page:
    counts = latest_period(indicator_rows(snapshot, "projets_nombre"))
    if counts.is_empty():
        return Page("projets.html", TITLE, EMPTY)
    territories = counts.filter(pl.col("geo_level") == "territoire_sante")
    figure = projects_by_stage_figure(territories)
    order = list(figure.layout.xaxis.categoryarray)
    note = masked_note(snapshot, "projets_nombre", "projets")
    tables = [without_empty_columns(t) for t in [
        _pivot(counts, order, note, "projets-par-territoire-et-stade",
               "Nombre de projets par territoire et par stade", "Total"),
        _pivot(latest_period(indicator_rows(snapshot, "projets_part_stade")), order,
               masked_note(snapshot, "projets_part_stade", "projets"),
               "part-des-projets-par-stade", "Part des projets du territoire à chaque stade (%)",
               "Ensemble"),
        _territory_shares(snapshot, order),
        _project_list(snapshot),
    ] if t.rows]
    content = "\n".join([
        paragraph(_summary(counts)),
        figure_html(figure, "figure-projets-stade"),
        heading("Tableaux"),
        tables_html(tables),
    ])
    return Page("projets.html", TITLE, content, tables, with_plotly=True)


def _summary(counts: pl.DataFrame) -> str:
    region = counts.filter((pl.col("geo_level") == "region") & ~pl.col("suppressed"))
    total = region.filter(pl.col("category") == "ensemble")
    period = format_period(counts["period"].max())
    if total.is_empty():
        return f"Recensement régional des projets, {period}."
    operating = region.filter(pl.col("category") == "fonctionnement")["value"]
    detail = (f", dont {format_number(operating.first())} en fonctionnement"
              if operating.len() else "")
    return (f"Recensement régional de {period} : {format_number(total['value'].first())} "
            f"maisons et pôles de santé, en fonctionnement ou en projet, en région "
            f"{total['geo_name'].first()}{detail}. Les projets sont classés selon leur degré "
            "de maturité, de la réflexion au fonctionnement.")


def _pivot(frame: pl.DataFrame, territory_order: list[str], note: str, slug: str, caption: str,
           margin_label: str) -> Table:
    """Territories in rows (the figure's order, then the région), stages in columns."""
    stages = (frame.filter(pl.col("category") != "ensemble")
              .select("category", "category_label", "category_order").unique()
              .sort("category_order"))
    categories = stages["category"].to_list() + ["ensemble"]
    regions = frame.filter(pl.col("geo_level") == "region")["geo_name"].unique().sort().to_list()
    rows = []
    for name in territory_order + regions:
        cells = {r["category"]: value_cell(r, note)
                 for r in frame.filter(pl.col("geo_name") == name).iter_rows(named=True)}
        label = f"Région {name}" if name in regions else name
        rows.append([label] + [cells.get(c) for c in categories])
    columns = ["Territoire"] + stages["category_label"].to_list() + [margin_label]
    return Table(slug, caption, columns, rows)


def _territory_shares(snapshot: Snapshot, territory_order: list[str]) -> Table:
    shares = latest_period(indicator_rows(snapshot, "projets_part_territoire"))
    shares = shares.filter(pl.col("category") == "ensemble")  # not the per-stage breakdown
    note = masked_note(snapshot, "projets_part_territoire", "projets")
    by_name = {r["geo_name"]: r for r in shares.iter_rows(named=True)}
    rows = [[name, value_cell(r, note, "numerator"), value_cell(r, note),
             value_cell(r, note, "ci_low"), value_cell(r, note, "ci_high")]
            for name in territory_order if (r := by_name.get(name))]
    return Table("part-des-projets-par-territoire",
                 "Part des projets de la région situés dans chaque territoire (%)",
                 ["Territoire", "Projets", "Part (%)", "IC 95 % bas", "IC 95 % haut"], rows)


def _project_list(snapshot: Snapshot) -> Table:
    projects = snapshot.census_projects
    if not projects.is_empty():
        projects = projects.filter(pl.col("census_date") == projects["census_date"].max())
    rows = [[p["project_name"], p["territory"], p["structure_type"], p["stage_label"],
             p["commune_names"], p["nmr_modules"]]
            for p in projects.sort("territory", "stage_order", "project_name",
                                   descending=[False, True, False]).iter_rows(named=True)]
    return Table("liste-des-projets", "Liste des projets recensés",
                 ["Projet", "Territoire", "Type de structure", "Stade", "Communes",
                  "Modules des nouveaux modes de rémunération"], rows)
