"""Accessibilité: the APL-like indicator as a ranked table, or why it is not computed."""

import polars as pl

from dashboards.formatting import format_period
from dashboards.pages.common import (
    Page,
    Site,
    heading,
    indicator_rows,
    masked_note,
    paragraph,
    periods_of,
    tables_html,
    value_cell,
)
from dashboards.tables import Row, Table, without_empty_columns
from dashboards.territories import LEVEL_LABELS, territory_key
from dashboards.views import PageData

TITLE = "Accessibilité"
INDICATOR = "apl_medecins"
NOT_COMPUTED = "Indicateur non calculé : coordonnées des communes non fournies"
HOW_TO = ("Pour le calculer, déposez un fichier de coordonnées des communes dans le dossier "
          "reference/ du dépôt (par exemple la base officielle des codes postaux de La Poste, "
          "avec sa colonne coordonnees_gps) : la nuit suivante le calculera.")
INTRO = ("Accessibilité potentielle localisée aux médecins généralistes : l'offre de médecins "
         "accessible aux habitants d'un territoire, compte tenu de la distance et de la "
         "demande des territoires voisins. Le tableau classe les territoires du moins bien au "
         "mieux doté, pour chaque période et chaque niveau géographique.")


def accessibility_page(site: Site) -> Page:
    rows = indicator_rows(site.snapshot, INDICATOR)
    if rows.is_empty():
        content = "\n".join([paragraph(INTRO),
                             f'<p class="alerte" role="status">{NOT_COMPUTED}</p>',
                             paragraph(HOW_TO)])
        return Page("accessibilite.html", TITLE, content, data=PageData(site.tree))
    data = PageData(site.tree, periods_of(rows))
    table = _ranking(site, rows)
    content = "\n".join([paragraph(INTRO), heading("Classement"), tables_html([table])])
    return Page("accessibilite.html", TITLE, content, [table], data)


def _ranking(site: Site, rows: pl.DataFrame) -> Table:
    """Lowest value first within each period and level; masked territories come last."""
    note = masked_note(site.snapshot, INDICATOR, "professionnels")
    ranked = rows.with_columns(
        rank=pl.when(~pl.col("suppressed") & pl.col("value").is_not_null())
        .then(pl.col("value").rank("min").over("period", "geo_level", "category")),
        of=(~pl.col("suppressed") & pl.col("value").is_not_null()).sum()
        .over("period", "geo_level", "category"),
    ).sort("period", "geo_level", "category_order", "rank", "geo_name",
           descending=[True, False, False, False, False], nulls_last=True)
    several = ranked["category"].n_unique() > 1
    body = []
    for r in ranked.iter_rows(named=True):
        places = (site.geography.commune_keys(r["geo_code"]) if r["geo_level"] == "commune"
                  else [territory_key(r["geo_level"], r["geo_code"])])
        body.append(Row(
            [r["geo_name"], LEVEL_LABELS.get(r["geo_level"], r["geo_level"]),
             r["category_label"] if several else None,
             f"{r['rank']} / {r['of']}" if r["rank"] is not None else None,
             format_period(r["period"]), value_cell(r, note), value_cell(r, note, "ci_low"),
             value_cell(r, note, "ci_high"), r["reference_geo_name"], r["reference_value"],
             r["comparison_flag"], r["unit"]],
            tuple(site.tree.membership(places)), r["period"]))
    return without_empty_columns(Table(
        "accessibilite-medecins", "Accessibilité aux médecins généralistes, classement",
        ["Territoire", "Niveau", "Catégorie", "Rang", "Période", "Valeur", "IC 95 % bas",
         "IC 95 % haut", "Territoire de référence", "Valeur de référence", "Comparaison",
         "Unité"], body, tall=True))
