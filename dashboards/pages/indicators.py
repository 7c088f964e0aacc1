"""Generic sections: every catalogue indicator of a page's theme, with no code per indicator.

The catalogue's `theme` names the page (THEME_PAGES). Each indicator of the theme that has no
bespoke figure on its page gets the same section: a comparison of territories (bars with their
95 % CI, coloured by the comparison flag, the reference as a diamond, masked cells written
"< seuil"), its evolution when it has several periods, and its table (value, CI, numerator,
denominator, reference and comparison), downloadable as CSV for the selection. An indicator of
the catalogue without any published row says so, and why when the catalogue knows.
"""

import html
import json

import polars as pl

from dashboards.figures import comparison_figure, profile_figure, trend_figure
from dashboards.formatting import format_period, period_order
from dashboards.pages.common import (
    Site,
    heading,
    indicator_rows,
    masked_note,
    memoised,
    partitions,
    row_positions,
    rows_within,
    slugify,
)
from dashboards.tables import Masked, Row, Table, table_html, without_empty_columns
from dashboards.territories import ALL, LEVEL_LABELS, territory_key
from dashboards.views import PageData, view_key

THEME_PAGES = {
    "offre": "offre.html",
    "projets": "projets.html",
    "suivi": "suivi.html",
    "accessibilite": "accessibilite.html",
}
# The level compared when no territory is chosen: the first one with several territories.
OVERVIEW_LEVELS = ("departement", "region", "territoire_sante", "programme", "epci", "commune")
TABLE_LEVELS = ("france", "region", "departement", "territoire_sante", "programme", "epci",
                "commune")
MAX_BARS = 60  # beyond, the comparison keeps the lowest and highest values
COMPARED_PERIODS = 6  # comparison views for the latest periods; the table has them all
# What an indicator needs that a night may lack (catalogue key `requires`), in French.
REQUIREMENTS = {
    "commune_centroids": (
        "coordonnées des communes non fournies",
        "Pour le calculer, déposez un fichier de coordonnées des communes dans le dossier "
        "reference/ du dépôt (par exemple la base officielle des codes postaux de La Poste, "
        "avec sa colonne coordonnees_gps) : la nuit suivante le calculera."),
}


def catalogue_details(entry: dict) -> dict:
    """The catalogue's other keys (status rule, decay bands, requires…), {} when none."""
    try:
        return json.loads(entry.get("details") or "{}")
    except json.JSONDecodeError:
        return {}


def theme_entries(site: Site, theme: str) -> list[dict]:
    catalogue = site.snapshot.catalogue
    if "theme" not in catalogue.columns:
        return []
    return list(catalogue.filter(pl.col("theme") == theme).iter_rows(named=True))


def not_computed(entry: dict) -> str:
    """Why an indicator of the catalogue has no published row, in French: for one that needs
    an optional input or the activity files, what marts.indicator_status says (the catalogue's
    `requires_note`, or that the activity it would read was not received or has no complete
    year), else what its `requires` names."""
    details = catalogue_details(entry)
    requires = details.get("requires")
    needs = [requires] if isinstance(requires, str) else list(requires or [])
    known = [REQUIREMENTS[n] for n in needs if n in REQUIREMENTS]
    requirement = details.get("requires_note") or (known[0][0] if known else None)
    reason = (entry.get("status_reason") if needs or entry.get("activity_based") else None
              ) or requirement
    if reason:
        # what to drop where, only when the missing input is the one it tells of
        how_to = (f'<p class="intro">{html.escape(known[0][1])}</p>'
                  if known and reason == requirement else "")
        return (f'<p class="alerte" role="status">Indicateur non calculé : '
                f'{html.escape(str(reason).rstrip("."))}.</p>{how_to}')
    if needs:
        return ('<p class="alerte" role="status">Indicateur non calculé : données nécessaires '
                f"absentes ({html.escape(', '.join(map(str, needs)))}).</p>")
    return ('<p class="avertissement" role="status">Aucune valeur publiée pour cet indicateur '
            "lors de la dernière nuit : ses données sources n'ont pas été reçues ou ne "
            "suffisent pas à le calculer.</p>")


def theme_periods(site: Site, entries: list[dict]) -> list[tuple[str, str]]:
    ids = [e["indicator_id"] for e in entries]
    rows = site.snapshot.indicators.filter(pl.col("indicator_id").is_in(ids))
    return [(p, format_period(p))
            for p in sorted(rows["period"].unique().to_list(), key=period_order)]


def contents(entries: list[dict]) -> str:
    """A list of the page's indicators, each a link to its section."""
    if len(entries) < 2:
        return ""
    items = "".join(f'<li><a href="#indicateur-{html.escape(e["indicator_id"])}">'
                    f'{html.escape(e["label"])}</a></li>' for e in entries)
    return f'<nav class="sommaire" aria-label="Indicateurs de la page"><ul>{items}</ul></nav>'


def indicator_sections(site: Site, entries: list[dict], data: PageData,
                       ranked: bool = False) -> tuple[str, list[Table]]:
    """One section per indicator; `ranked` tables list territories from the lowest value."""
    parts, tables = [], []
    for entry in entries:
        def build(entry=entry) -> tuple[str, list[Table]]:
            section, table = indicator_section(site, entry, data, ranked)
            return section, [table] if table else []

        rows = indicator_rows(site.snapshot, entry["indicator_id"])
        section, made = memoised(site, data, entry["indicator_id"], [rows, entry, ranked], build)
        parts.append(section)
        tables += made
    return "\n".join(parts), tables


def indicator_section(site: Site, entry: dict, data: PageData,
                      ranked: bool = False) -> tuple[str, Table | None]:
    indicator = entry["indicator_id"]
    rows = _labelled(indicator_rows(site.snapshot, indicator))
    intro = (f'<p class="intro">{html.escape(entry.get("definition") or "")} '
             f'<a href="fiches.html#fiche-{html.escape(indicator)}">Fiche de '
             "l'indicateur</a></p>")
    opening = (f'<section class="indicateur" id="indicateur-{html.escape(indicator)}">'
               + heading(entry["label"]) + intro)
    if rows.is_empty():
        return opening + not_computed(entry) + "</section>", None
    note = masked_note(site.snapshot, indicator, "effectifs")
    axis = entry.get("unit") or ""
    comparison = f"{indicator}-comparaison"
    _comparisons(site, rows, entry, note, data, comparison)
    parts = [opening, data.figure_slot(
        comparison, "Pas de comparaison entre territoires pour ce choix.")]
    if rows["period"].n_unique() > 1:
        evolution = f"{indicator}-evolution"
        _evolutions(site, rows, entry, data, evolution, axis)
        parts.append(data.figure_slot(
            evolution, "Choisissez un territoire pour voir l'évolution de cet indicateur."))
    table = _ranking(site, rows, entry, note) if ranked else _table(site, rows, entry, note)
    parts += [table_html(table), "</section>"]
    return "\n".join(parts), table


def _labelled(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows with a level rank; 'ensemble' called so only when the indicator has categories."""
    rank = {level: index for index, level in enumerate(TABLE_LEVELS)}
    return rows.with_columns(level_rank=pl.col("geo_level").replace_strict(
        rank, default=len(rank), return_dtype=pl.Int32))


def _places(site: Site, level: str, code: str) -> list[str]:
    if level == "commune":
        return site.geography.commune_keys(code)
    return [territory_key(level, code)]


def _keys(site: Site, level: str, code: str) -> tuple[str, ...]:
    return tuple(site.tree.membership(_places(site, level, code)))


def _keys_of(site: Site):
    """`_keys` remembered per territory: a table has a row per period and category of each."""
    known: dict[tuple[str, str], tuple[str, ...]] = {}

    def keys(level: str, code: str) -> tuple[str, ...]:
        if (level, code) not in known:
            known[level, code] = _keys(site, level, code)
        return known[level, code]

    return keys


def _bars_titled(rows: pl.DataFrame, title: str) -> tuple[pl.DataFrame, str]:
    shown, cut = _bars(rows)
    return shown, title + cut


def _bars(rows: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """At most MAX_BARS territories: the lowest and the highest of the first category."""
    names = rows["geo_name"].n_unique()  # not unique(): a polars query for each figure
    if names <= MAX_BARS:
        return rows, ""
    first = rows.filter(pl.col("category_order") == rows["category_order"].min())
    ordered = first.filter(~pl.col("suppressed") & pl.col("value").is_not_null()).sort("value")
    half = MAX_BARS // 2
    keep = set(ordered["geo_name"].head(half)) | set(ordered["geo_name"].tail(half))
    return (rows.filter(pl.col("geo_name").is_in(list(keep))),
            f" : les {half} plus basses et les {half} plus hautes valeurs sur {names}")


def _comparisons(site: Site, rows: pl.DataFrame, entry: dict, note: str, data: PageData,
                 slot: str) -> None:
    """Per period: the overview level, and each territory's children (or communes)."""
    keyed = rows.with_columns(key=pl.concat_str("geo_level", pl.lit(":"), "geo_code"))
    communes = keyed.filter(pl.col("geo_level") == "commune")
    if communes.height:
        places = {code: site.geography.commune_keys(code)
                  for code in communes["geo_code"].unique().to_list()}
        communes = communes.with_columns(within=pl.col("geo_code").replace_strict(
            places, default=[], return_dtype=pl.List(pl.String)))
    periods = sorted(rows["period"].unique().to_list(), key=period_order)[-COMPARED_PERIODS:]
    several = rows["category"].n_unique() > 1
    label, unit = entry["label"], entry.get("unit") or ""
    for period in periods:
        at = keyed.filter(pl.col("period") == period)
        # row positions by territory: one filter per territory of the tree and period took
        # most of the page's time at region scale
        rows_of = row_positions(at["key"].to_list())
        communes_at = (communes.filter(pl.col("period") == period) if communes.height
                       else communes)
        communes_within = row_positions(communes_at["within"].to_list()) if communes.height \
            else {}
        figures, profiles = [], []
        overview = next((level for level in OVERVIEW_LEVELS
                         if at.filter(pl.col("geo_level") == level)["geo_code"].n_unique() > 1),
                        None)
        if overview:
            figures.append((ALL, at.filter(pl.col("geo_level") == overview),
                            f"{label}, par {LEVEL_LABELS[overview].lower()}"))
        for territory in site.tree:
            # positions first, frames only for territories that have rows: most have none
            within = rows_within(site.tree, rows_of, territory.key)
            children = None
            if within:
                children = at[within]
            elif territory.key in communes_within:
                children = communes_at[communes_within[territory.key]]
            if children is not None:
                level = LEVEL_LABELS.get(children["geo_level"].first(), "territoire").lower()
                figures.append((territory.key, children,
                                f"{label}, par {level} : {territory.name}"))
            elif several and not overview and territory.key in rows_of:
                # nothing to compare: its categories side by side
                profiles.append((territory.key, at[rows_of[territory.key]],
                                 f"{label} : {territory.name}"))
        if not overview and len(profiles) == 1:
            profiles.append((ALL, *profiles[0][1:]))
        made = [(key, comparison_figure(*_bars_titled(frame, title), note, unit))
                for key, frame, title in figures]
        made += [(key, profile_figure(frame, title, note, unit))
                 for key, frame, title in profiles]
        for key, figure in made:
            data.add_figure(slot, view_key(key, period), figure)
            if period == periods[-1]:  # any other period falls back to the latest
                data.add_figure(slot, view_key(key), figure)


def _evolutions(site: Site, rows: pl.DataFrame, entry: dict, data: PageData, slot: str,
                axis: str) -> None:
    label = entry["label"]
    legend = "Catégorie"
    # the levels whose one territory also stands for all territories
    single = {level for level, codes in rows.group_by("geo_level").agg(
        pl.col("geo_code").n_unique()).iter_rows() if codes == 1} & {"france", "region"}
    # one partition of the rows instead of a filter per territory (tens of thousands of
    # communes at national scale), and no figure for a territory no selector offers
    for (level, code), own in partitions(rows, "geo_level", "geo_code").items():
        key = territory_key(level, code)
        views = ([view_key(key)] if key in site.tree else []) + (
            [view_key(ALL)] if level in single else [])
        if not views or own["period"].n_unique() < 2:
            continue
        figure = trend_figure(own, f"{label} : {own['geo_name'].first()}", axis, legend)
        for view in views:
            data.add_figure(slot, view, figure)


def _cells(suppressed: bool, numbers: list, note: str) -> list:
    """Value, CI, numerator and denominator (or the first of them): all masked together."""
    return [Masked(note)] * len(numbers) if suppressed else list(numbers)


def _table(site: Site, rows: pl.DataFrame, entry: dict, note: str) -> Table:
    several = rows["category"].n_unique() > 1
    ordered = rows.sort("period", "level_rank", "geo_name", "category_order",
                        descending=[True, False, False, False])
    keys = _keys_of(site)
    # tuples rather than a dictionary per row: a national table has up to 25,000 rows
    body = [Row([name, LEVEL_LABELS.get(level, level), category if several else None,
                 format_period(period), *_cells(suppressed, numbers, note), reference,
                 reference_value, flag],
                keys(level, code), period)
            for name, level, code, category, period, suppressed, *numbers, reference,
            reference_value, flag in ordered.select(
                "geo_name", "geo_level", "geo_code", "category_label", "period", "suppressed",
                "value", "ci_low", "ci_high", "numerator", "denominator", "reference_geo_name",
                "reference_value", "comparison_flag").iter_rows()]
    return without_empty_columns(Table(
        slugify(entry["indicator_id"]), f"{entry['label']} ({entry.get('unit') or ''})",
        ["Territoire", "Niveau", "Catégorie", "Période", "Valeur", "IC 95 % bas",
         "IC 95 % haut", "Numérateur", "Dénominateur", "Territoire de référence",
         "Valeur de référence", "Comparaison"], body, tall=True, lazy=True))


def _ranking(site: Site, rows: pl.DataFrame, entry: dict, note: str) -> Table:
    """Lowest value first within each period, level and category; masked territories last."""
    ranked = rows.with_columns(
        rank=pl.when(~pl.col("suppressed") & pl.col("value").is_not_null())
        .then(pl.col("value").rank("min").over("period", "geo_level", "category")),
        of=(~pl.col("suppressed") & pl.col("value").is_not_null()).sum()
        .over("period", "geo_level", "category"),
    ).sort("period", "level_rank", "category_order", "rank", "geo_name",
           descending=[True, False, False, False, False], nulls_last=True)
    several = ranked["category"].n_unique() > 1
    keys = _keys_of(site)
    body = [Row([r["geo_name"], LEVEL_LABELS.get(r["geo_level"], r["geo_level"]),
                 r["category_label"] if several else None,
                 f"{r['rank']} / {r['of']}" if r["rank"] is not None else None,
                 format_period(r["period"]),
                 *_cells(r["suppressed"], [r["value"], r["ci_low"], r["ci_high"]], note),
                 r["reference_geo_name"], r["reference_value"], r["comparison_flag"], r["unit"]],
                keys(r["geo_level"], r["geo_code"]), r["period"])
            for r in ranked.iter_rows(named=True)]
    return without_empty_columns(Table(
        slugify(entry["indicator_id"]), f"{entry['label']}, classement",
        ["Territoire", "Niveau", "Catégorie", "Rang", "Période", "Valeur", "IC 95 % bas",
         "IC 95 % haut", "Territoire de référence", "Valeur de référence", "Comparaison",
         "Unité"], body, tall=True, lazy=True))
