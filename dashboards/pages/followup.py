"""Suivi des contrats et feuilles de route: each programme's criteria against their targets,
then every other indicator of the theme `suivi` of the catalogue (status of the criteria, the
installations a CLS reports against those observed in the activity data…) with the generic
section of dashboards/pages/indicators.py."""

import html

import polars as pl

from dashboards.figures import followup_figure
from dashboards.formatting import format_period, period_order
from dashboards.pages.common import (
    Page,
    Site,
    by_period,
    empty,
    heading,
    memoised,
    paragraph,
    partitions,
    period_rank,
    slugify,
    tables_html,
)
from dashboards.pages.indicators import contents, indicator_sections, theme_entries, theme_periods
from dashboards.tables import Row, Table, without_empty_columns
from dashboards.territories import ALL, territory_key
from dashboards.views import PageData, view_key

TITLE = "Suivi des contrats et feuilles de route"
BESPOKE = ("suivi_valeur", "suivi_taux_realisation")


def followup_page(site: Site) -> Page:
    followup = site.snapshot.followup
    if followup.is_empty():
        return Page("suivi.html", TITLE, empty(
            "Aucun fichier de critères de suivi n'a été reçu (programme, critère, période, "
            "valeur, cible)", "followup"), data=PageData(site.tree))
    others = [e for e in theme_entries(site, "suivi") if e["indicator_id"] not in BESPOKE]
    periods = [(ALL, "Toutes les périodes")] + sorted(
        {(p, format_period(p)) for p in followup["period"].unique().to_list()}
        | set(theme_periods(site, others)), key=lambda p: period_order(p[0]))
    data = PageData(site.tree, periods, default_period=ALL, page="suivi")
    codes = (site.snapshot.indicators.filter(pl.col("geo_level") == "programme")
             .select("geo_name", "geo_code").unique("geo_name", maintain_order=True))
    programmes, tables = memoised(site, data, "programmes", [followup, codes],
                                  lambda: _programmes(site, followup, dict(codes.iter_rows()),
                                                      data))
    sections, generic = indicator_sections(site, others, data)
    return Page("suivi.html", TITLE, "\n".join([paragraph(
        "Critères de suivi des contrats locaux de santé, feuilles de route des pôles et "
        "contrats des CPTS : valeur de chaque période comparée à la cible. Statut : atteint "
        "(la valeur atteint la cible ; pour une cible « au plus », elle ne la dépasse pas), "
        "en bonne voie (taux de réalisation d'au moins 75 %), en retard, sans cible, ou non "
        "renseigné quand la valeur de la période n'est pas encore connue. Une étape suivie "
        "par son état plutôt que par un nombre (« Réalisation du diagnostic ») est réalisée, "
        "en cours, non réalisée ou abandonnée. Une valeur "
        "« illustrative » n'est pas une observation : elle complète un document source. "
        "Choisir un territoire, ou l'EPCI, le département ou la région qui le contient, ne "
        "garde que ses programmes."), contents(others), programmes, sections]),
        tables + generic, data)


def _programmes(site: Site, followup: pl.DataFrame, codes: dict[str, str],
                data: PageData) -> tuple[str, list[Table]]:
    """A list of the programmes, then each one's criteria: a figure by period and a table."""
    links, parts, tables = [], [], []
    # partitions rather than a filter per programme and period (400 programmes nationally)
    by_programme = partitions(followup, "programme")
    for index, ((programme,), rows) in enumerate(by_programme.items(), start=1):
        keys = (site.row_keys("programme", codes[programme]) if programme in codes
                else (territory_key("programme", slugify(programme)),))
        slot = f"figure-suivi-{index}"
        data.add_figure(slot, view_key(ALL, ALL), followup_figure(rows))
        for period, at in by_period(rows):
            data.add_figure(slot, view_key(ALL, period), followup_figure(at))
        table = without_empty_columns(_criteria_table(rows, programme, keys))
        tables.append(table)
        territory = ", ".join(rows["territory"].drop_nulls().unique(maintain_order=True))
        # the territory filter hides an entry of the list with its section
        scope = html.escape(" ".join(keys))
        links.append(f'<li data-t="{scope}"><a href="#{html.escape(slugify(programme))}">'
                     f'{html.escape(programme)}</a>'
                     + (f" ({html.escape(territory)})" if territory else "") + "</li>")
        parts.append(
            f'<section class="programme" data-t="{scope}">'
            + heading(programme, slugify(programme))
            + (f'<p class="intro">Territoire : {html.escape(territory)}</p>' if territory
               else "")
            + data.figure_slot(slot, "Pas de valeur pour cette période.", by_territory=False)
            + tables_html([table]) + "</section>")
    parts.append('<p class="vide-section" hidden>Aucun programme suivi sur ce territoire.</p>')
    # hundreds of programmes nationally: their list opens on demand there
    listed = (f'<details class="sommaire programmes"{" open" if len(links) <= 12 else ""}>'
              "<summary>Aller à un programme</summary><ul>" + "".join(links) + "</ul></details>")
    return "\n".join([listed, *parts]), tables


def _criteria_table(rows: pl.DataFrame, programme: str, keys: tuple[str, ...]) -> Table:
    # the direction of a target is said where one of them is « au plus » (less is better)
    directed = "au plus" in rows["target_direction"]
    # the snapshot's order (dashboards/warehouse.py), each criterion's periods in time
    ordered = rows.sort("axis", "action", "criterion", period_rank(rows),
                        nulls_last=True).iter_rows(named=True)
    # a step's state stands in its value's column, the state it should reach in its target's
    body = [Row([r["criterion"], r["axis"], r["action"], format_period(r["period"]),
                 _first(r["value"], r["milestone"]),
                 *([r["target_direction"]] if directed else []),
                 _first(r["target"], r["target_milestone"]),
                 r["unit"], r["achievement_rate"], r["status"], r["value_nature"]],
                keys, r["period"])
            for r in ordered]
    return Table(
        f"suivi-{slugify(programme)}", f"Critères de suivi : {programme}",
        ["Critère", "Axe", "Action", "Période", "Valeur",
         *(["Sens de la cible"] if directed else []), "Cible", "Unité",
         "Taux de réalisation (%)", "Statut", "Nature de la valeur"], body, tall=True, lazy=True)


def _first(*cells):
    return next((c for c in cells if c is not None), None)
