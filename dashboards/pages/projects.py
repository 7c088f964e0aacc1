"""Projets de maisons et pôles de santé: the regional census by territory and stage, then
every other indicator of the theme `projets` of the catalogue (time in stage, population
covered, fragile zones…) with the generic section of dashboards/pages/indicators.py."""

from dataclasses import dataclass

import polars as pl

from dashboards.figures import highlighted, projects_by_stage_figure, projects_funnel_figure
from dashboards.formatting import format_number, format_period
from dashboards.pages.common import (
    EMPTY,
    Page,
    Site,
    empty,
    heading,
    indicator_rows,
    masked_note,
    memoised,
    paragraph,
    periods_of,
    tables_html,
    value_cell,
)
from dashboards.pages.indicators import contents, indicator_sections, theme_entries, theme_periods
from dashboards.tables import Row, Table, without_empty_columns
from dashboards.territories import ALL, commune_codes, territory_key
from dashboards.views import PageData, view_key

TITLE = "Projets de maisons et pôles de santé"
BESPOKE = ("projets_nombre", "projets_part_stade", "projets_part_territoire")


def projects_page(site: Site) -> Page:
    counts = indicator_rows(site.snapshot, "projets_nombre")
    others = [e for e in theme_entries(site, "projets") if e["indicator_id"] not in BESPOKE]
    if counts.is_empty():
        content = (empty("Aucun recensement des maisons et pôles de santé n'a été reçu",
                         "census") if site.snapshot.census_projects.is_empty() else EMPTY)
        return Page("projets.html", TITLE, content, data=PageData(site.tree))
    periods = periods_of(counts)
    data = PageData(site.tree, sorted(set(periods) | set(theme_periods(site, others))),
                    period_label="Période" if others else "Recensement", page="projets")
    # what the census block reads: the three bespoke indicators, the list of projects, the
    # territoires de santé of every indicator, and the catalogue's suppression notes
    inputs = [*(indicator_rows(site.snapshot, i) for i in BESPOKE), site.snapshot.census_projects,
              _health_territories(site), site.snapshot.catalogue, periods]
    census, tables = memoised(site, data, "recensement", inputs,
                              lambda: _census(site, counts, data, periods))
    sections, generic = indicator_sections(site, others, data)
    content = "\n".join([
        paragraph(_summary(counts)),
        contents(others),
        census,
        sections,
    ])
    return Page("projets.html", TITLE, content, tables + generic, data)


def _census(site: Site, counts: pl.DataFrame, data: PageData,
            periods: list[tuple[str, str]]) -> tuple[str, list[Table]]:
    """The census by stage and territory, its evolution and its tables."""
    order = _stage_figures(site, counts, data)
    funnel = _funnels(site, counts, data, periods)
    note = masked_note(site.snapshot, "projets_nombre", "projets")
    tables = [without_empty_columns(t) for t in [
        _pivot(site, counts, order, note, "projets-par-territoire-et-stade",
               "Nombre de projets par territoire et par stade", "Total"),
        _pivot(site, indicator_rows(site.snapshot, "projets_part_stade"), order,
               masked_note(site.snapshot, "projets_part_stade", "projets"),
               "part-des-projets-par-stade", "Part des projets du territoire à chaque stade (%)",
               "Ensemble"),
        _territory_shares(site, order),
        _project_list(site),
    ] if t.rows]
    return "\n".join([
        data.figure_slot("projets-stades", "Aucun projet recensé pour ce choix."),
        heading("Évolution d'un recensement à l'autre"),
        funnel,
        heading("Tableaux du recensement"),
        tables_html(tables),
    ]), tables


def _health_territories(site: Site) -> pl.DataFrame:
    """Each territoire de santé's name and code, from every indicator's rows."""
    return site.snapshot.indicators.filter(
        pl.col("geo_level") == "territoire_sante").select("geo_name", "geo_code").unique(
        "geo_name", maintain_order=True)


@dataclass(frozen=True)
class RegionalCensus:
    """The régions' projects, each région at its own latest census: the régions' censuses
    need not share a date. Counts are formatted, None when a région's is masked or missing."""

    regions: list[str]  # their names
    first: str  # the earliest and latest of their census periods
    last: str
    total: str | None
    operating: str | None

    @property
    def when(self) -> str:
        if self.first == self.last:
            return f"en {format_period(self.last)}"
        return (f"au dernier recensement de chacune (de {format_period(self.first)} à "
                f"{format_period(self.last)})")

    @property
    def where(self) -> str:
        if len(self.regions) == 1:
            return f"en région {self.regions[0]}"
        return f"dans {len(self.regions)} régions"

    @property
    def phrase(self) -> str:
        """« en mai 2013 en région X », « dans 18 régions au dernier recensement de chacune »"""
        if len(self.regions) == 1:
            return f"{self.when} {self.where}"
        return f"{self.where} {self.when}"


def regional_census(counts: pl.DataFrame) -> RegionalCensus | None:
    """`counts`: the rows of projets_nombre; None without a région's row."""
    regions = counts.filter(pl.col("geo_level") == "region")
    latest = regions.filter(pl.col("period") == pl.col("period").max().over("geo_code"))
    totals = latest.filter(pl.col("category") == "ensemble").sort("geo_name")
    if totals.is_empty():
        return None
    operating = latest.filter(pl.col("category") == "fonctionnement")

    def added(rows: pl.DataFrame) -> str | None:
        shown = not rows["suppressed"].any() and rows["value"].null_count() == 0
        return format_number(rows["value"].sum()) if shown else None

    # a région with no project in operation has no row for it
    return RegionalCensus(totals["geo_name"].to_list(), totals["period"].min(),
                          totals["period"].max(), added(totals), added(operating))


def _summary(counts: pl.DataFrame) -> str:
    census = regional_census(counts)
    if census is None or census.total is None:
        return f"Recensement régional des projets, {format_period(counts['period'].max())}."
    detail = f", dont {census.operating} en fonctionnement" if census.operating else ""
    opening, place = ((f"Recensement régional de {format_period(census.last)}", census.where)
                      if len(census.regions) == 1 else ("Recensements régionaux", census.phrase))
    return (f"{opening} : {census.total} maisons et pôles de santé, en fonctionnement ou en "
            f"projet, {place}{detail}. Les projets sont classés selon leur degré de "
            "maturité, de la réflexion au fonctionnement. Un département ou un EPCI choisi "
            "montre sa région dans le graphique, et ses seuls projets dans la liste.")


def _stage_figures(site: Site, counts: pl.DataFrame, data: PageData) -> list[str]:
    """Each census: every territoire de santé (the régions side by side when it covers
    several: a hundred territoires nationally), each région's, and each one highlighted.

    Returns the territories in the latest figure's order, which the tables follow.
    """
    order: list[str] = []
    territories = counts.filter(pl.col("geo_level") == "territoire_sante").with_columns(
        key=pl.concat_str(pl.lit("territoire_sante:"), "geo_code"))
    regions = counts.filter(pl.col("geo_level") == "region")
    for period in counts["period"].unique().sort():
        at = territories.filter(pl.col("period") == period)
        if at.is_empty():
            continue
        figure = projects_by_stage_figure(at)
        order = figure["layout"]["xaxis"]["categoryarray"]
        side_by_side = regions.filter(pl.col("period") == period)
        if side_by_side["geo_code"].n_unique() > 1:
            figure = projects_by_stage_figure(side_by_side, level="Région")
        data.add_figure("projets-stades", view_key(ALL, period), figure)
        for region in sorted({p for k in at["key"].unique() if k in site.tree
                              for p in site.tree.by_key[k].parents}):
            in_region = at.filter(pl.col("key").is_in(site.tree.children(region)))
            figure = projects_by_stage_figure(in_region)
            data.add_figure("projets-stades", view_key(region, period), figure)
            for key, name in in_region.select("key", "geo_name").unique().sort("key").iter_rows():
                data.add_figure("projets-stades", view_key(key, period),
                                highlighted(figure, name))
    return order


def _funnels(site: Site, counts: pl.DataFrame, data: PageData,
             periods: list[tuple[str, str]]) -> str:
    if len(periods) < 2:
        return paragraph(f"Un seul recensement est publié ({periods[0][1]}) : le passage des "
                         "projets d'un stade à l'autre apparaîtra ici dès qu'un deuxième "
                         "recensement sera chargé.")
    # the régions' censuses need not share their dates: several régions are not added up
    regions = counts.filter(pl.col("geo_level") == "region")["geo_code"].n_unique()
    for (level, code), rows in counts.group_by("geo_level", "geo_code", maintain_order=True):
        key = territory_key(level, code)
        if key in site.tree and rows["period"].n_unique() > 1:
            figure = projects_funnel_figure(rows, site.tree.name(key))
            data.add_figure("projets-entonnoir", view_key(key), figure)
            if level == "region" and regions == 1:
                data.add_figure("projets-entonnoir", view_key(ALL), figure)
    return data.figure_slot("projets-entonnoir", "Un seul recensement publié pour ce choix."
                            if regions <= 1 else "Choisissez une région, ou un territoire "
                            "recensé au moins deux fois, pour voir l'évolution de son "
                            "recensement.")


def _pivot(site: Site, frame: pl.DataFrame, territory_order: list[str], note: str, slug: str,
           caption: str, margin_label: str) -> Table:
    """Territories in rows (the figure's order, then the région), stages in columns."""
    stages = (frame.filter(pl.col("category") != "ensemble")
              .select("category", "category_label", "category_order").unique()
              .sort("category_order"))
    categories = stages["category"].to_list() + ["ensemble"]
    rank = {name: index for index, name in enumerate(territory_order)}
    places = (frame.select("period", "geo_level", "geo_code", "geo_name").unique()
              .with_columns(region=pl.col("geo_level") == "region")
              .sort("period", "region",
                    pl.col("geo_name").replace_strict(rank, default=len(rank),
                                                      return_dtype=pl.Int32),
                    "geo_name", descending=[True, False, False, False]))
    # one pass over the rows rather than a filter per territory and census (1,900 nationally)
    cells_of: dict[tuple, dict] = {}
    for r in frame.iter_rows(named=True):
        place = (r["period"], r["geo_level"], r["geo_code"])
        cells_of.setdefault(place, {})[r["category"]] = value_cell(r, note)
    rows = []
    for period, level, code, name, is_region in places.iter_rows():
        cells = cells_of[period, level, code]
        label = f"Région {name}" if is_region else name
        rows.append(Row([label, format_period(period)] + [cells.get(c) for c in categories],
                        site.row_keys(level, code), period))
    columns = ["Territoire", "Recensement"] + stages["category_label"].to_list() + [margin_label]
    return Table(slug, caption, columns, rows)


def _territory_shares(site: Site, territory_order: list[str]) -> Table:
    shares = indicator_rows(site.snapshot, "projets_part_territoire")
    shares = shares.filter(pl.col("category") == "ensemble")  # not the per-stage breakdown
    note = masked_note(site.snapshot, "projets_part_territoire", "projets")
    rank = {name: index for index, name in enumerate(territory_order)}
    shares = shares.sort("period", pl.col("geo_name").replace_strict(
        rank, default=len(rank), return_dtype=pl.Int32), descending=[True, False])
    rows = [Row([r["geo_name"], format_period(r["period"]), value_cell(r, note, "numerator"),
                 value_cell(r, note), value_cell(r, note, "ci_low"),
                 value_cell(r, note, "ci_high")],
                site.row_keys(r["geo_level"], r["geo_code"]), r["period"])
            for r in shares.iter_rows(named=True)]
    return Table("part-des-projets-par-territoire",
                 "Part des projets de la région situés dans chaque territoire (%)",
                 ["Territoire", "Recensement", "Projets", "Part (%)", "IC 95 % bas",
                  "IC 95 % haut"], rows)


def _project_list(site: Site) -> Table:
    """Each project under its territoire de santé and under the places of its communes."""
    projects = site.snapshot.census_projects
    health_codes = dict(_health_territories(site).iter_rows())
    rows = []
    for p in projects.sort("census_date", "territory", "stage_order", "project_name",
                           descending=[True, False, True, False]).iter_rows(named=True):
        places = [k for c in commune_codes(p["commune_codes"])
                  for k in site.geography.commune_keys(c)]
        if p["territory"] in health_codes:
            places.append(territory_key("territoire_sante", health_codes[p["territory"]]))
        rows.append(Row([p["project_name"], p["territory"], p["structure_type"],
                         p["stage_label"], p["commune_names"], p["nmr_modules"],
                         format_period(p["census_date"])],
                        tuple(site.tree.membership(places)), p["census_date"]))
    return Table("liste-des-projets", "Liste des projets recensés",
                 ["Projet", "Territoire", "Type de structure", "Stade", "Communes",
                  "Modules des nouveaux modes de rémunération", "Recensement"], rows,
                 tall=True, lazy=True)
