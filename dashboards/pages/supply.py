"""Offre de soins et activité: densities by profession, then every other indicator of the
theme `offre` of the catalogue (FTE, age structure, installations and departures, activity…),
each with the generic section of dashboards/pages/indicators.py."""

import polars as pl

from dashboards.figures import density_figure, density_profile_figure, density_trend_figure
from dashboards.formatting import format_period
from dashboards.pages.common import (
    EMPTY,
    Page,
    Site,
    by_period,
    heading,
    indicator_rows,
    masked_note,
    memoised,
    paragraph,
    partitions,
    periods_of,
    row_positions,
    rows_within,
    tables_html,
    value_cell,
)
from dashboards.pages.indicators import contents, indicator_sections, theme_entries, theme_periods
from dashboards.tables import Row, Table
from dashboards.territories import ALL, LEVEL_LABELS, territory_key
from dashboards.views import PageData, view_key

TITLE = "Offre de soins et activité"
DENSITY = "densite_professionnels"
TABLE_LEVELS = ["region", "departement", "epci", "commune"]


def supply_page(site: Site) -> Page:
    density = indicator_rows(site.snapshot, DENSITY).with_columns(
        category_label=pl.when(pl.col("category") == "ensemble")
        .then(pl.lit("Ensemble des professions")).otherwise(pl.col("category_label")))
    entries = theme_entries(site, "offre")
    # without rows, densities get the generic section, which says why (no activity received…)
    others = [e for e in entries if e["indicator_id"] != DENSITY or density.is_empty()]
    if density.is_empty() and not others:
        return Page("offre.html", TITLE, EMPTY, data=PageData(site.tree))
    periods = sorted(set(periods_of(density)) | set(theme_periods(site, others)))
    data = PageData(site.tree, periods, page="offre")
    parts, tables = [contents([e for e in entries if e["indicator_id"] == DENSITY
                               and not density.is_empty()] + others)], []
    if not density.is_empty():
        note = masked_note(site.snapshot, DENSITY, "professionnels")
        section, made = memoised(site, data, "densite", [density, note],
                                 lambda: _density_section(site, density, note, data))
        parts.append(section)
        tables += made
    sections, generic = indicator_sections(site, others, data)
    parts.append(sections)
    return Page("offre.html", TITLE, "\n".join(parts), tables + generic, data)


def _density_section(site: Site, density: pl.DataFrame, note: str,
                     data: PageData) -> tuple[str, list[Table]]:
    _profiles(site, density, note, data)
    _comparisons(site, density, note, data)
    table = _density_table(site, density, note)
    return "\n".join([
        f'<section class="indicateur" id="indicateur-{DENSITY}">',
        heading("Densité de professionnels de santé"),
        paragraph("Densité de professionnels de santé en exercice pour 10 000 habitants, "
                  "avec son intervalle de confiance à 95 % (trait noir) et la valeur du "
                  "territoire de référence (losange) : le département pour un EPCI, la "
                  "région pour un département. La couleur de la barre dit si l'écart à la "
                  "référence est significatif. Le menu en haut à droite du graphique "
                  "change de profession."),
        data.figure_slot("densite-comparaison", "Aucune densité publiée pour ce choix."),
        data.figure_slot("densite-profil", "Choisissez une région, un département ou un "
                                           "EPCI pour voir son profil par profession."),
        data.figure_slot("densite-evolution", "Choisissez une région, un département ou "
                                              "un EPCI pour voir l'évolution de ses "
                                              "densités."),
        tables_html([table]),
        "</section>",
    ]), [table]


def _profiles(site: Site, density: pl.DataFrame, note: str, data: PageData) -> None:
    # partitions rather than a filter per territory and period: tens of thousands at national
    # scale
    for (level, code), rows in partitions(density, "geo_level", "geo_code").items():
        key = territory_key(level, code)
        if key not in site.tree:
            continue
        name = site.tree.name(key)
        for period, at in by_period(rows):
            data.add_figure("densite-profil", view_key(key, period),
                            density_profile_figure(at, name, note))
        data.add_figure("densite-evolution", view_key(key), density_trend_figure(rows, name))


def _comparisons(site: Site, density: pl.DataFrame, note: str, data: PageData) -> None:
    """Départements side by side (all of them, or a région's), and a département's EPCI."""
    keyed = density.with_columns(key=pl.concat_str("geo_level", pl.lit(":"), "geo_code"))
    for period in density["period"].unique().sort():
        at = keyed.filter(pl.col("period") == period)
        departements = at.filter(pl.col("geo_level") == "departement")
        if departements.height:
            data.add_figure("densite-comparaison", view_key(ALL, period), density_figure(
                departements, "Densité de professionnels par département", note))
        rows_of = row_positions(at["key"].to_list())
        for territory in site.tree:
            within = rows_within(site.tree, rows_of, territory.key)
            if within:
                children = at[within]
                level = LEVEL_LABELS[children["geo_level"].first()]
                data.add_figure("densite-comparaison", view_key(territory.key, period),
                                density_figure(children, f"Densité de professionnels par "
                                               f"{level} : {territory.name}", note))


def _density_table(site: Site, density: pl.DataFrame, note: str) -> Table:
    rank = {level: index for index, level in enumerate(TABLE_LEVELS)}
    ordered = density.sort(
        "period",
        pl.col("geo_level").replace_strict(rank, default=len(rank), return_dtype=pl.Int32),
        "geo_name", "category_order", descending=[True, False, False, False])
    rows = [
        Row([r["geo_name"], LEVEL_LABELS.get(r["geo_level"], r["geo_level"]),
             r["category_label"], format_period(r["period"]), value_cell(r, note),
             value_cell(r, note, "ci_low"), value_cell(r, note, "ci_high"),
             r["reference_geo_name"], r["reference_value"], r["comparison_flag"]],
            site.row_keys(r["geo_level"], r["geo_code"]), r["period"])
        for r in ordered.iter_rows(named=True)
    ]
    return Table(
        "densite-professionnels", "Densité de professionnels pour 10 000 habitants",
        ["Territoire", "Niveau", "Profession", "Période", "Densité", "IC 95 % bas",
         "IC 95 % haut", "Territoire de référence", "Densité de référence", "Comparaison"],
        rows, tall=True, lazy=True)
