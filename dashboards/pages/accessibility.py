"""Accessibilité: every indicator of the theme `accessibilite` of the catalogue (the APL-like
two-step floating catchment indicator for GPs), as a comparison and a ranked table, or why it
is not computed."""

from dashboards.pages.common import Page, Site, paragraph
from dashboards.pages.indicators import (
    REQUIREMENTS,
    contents,
    indicator_sections,
    theme_entries,
    theme_periods,
)
from dashboards.views import PageData

TITLE = "Accessibilité"
NOT_COMPUTED = f"Indicateur non calculé : {REQUIREMENTS['commune_centroids'][0]}"
INTRO = ("Accessibilité potentielle localisée aux médecins généralistes : l'offre de médecins "
         "accessible aux habitants d'un territoire, compte tenu de la distance et de la "
         "demande des territoires voisins. Chaque tableau classe les territoires du moins bien "
         "au mieux doté, pour chaque période et chaque niveau géographique.")


def accessibility_page(site: Site) -> Page:
    entries = theme_entries(site, "accessibilite")
    if not entries:
        content = "\n".join([paragraph(INTRO),
                             f'<p class="alerte" role="status">{NOT_COMPUTED}</p>',
                             paragraph(REQUIREMENTS["commune_centroids"][1])])
        return Page("accessibilite.html", TITLE, content, data=PageData(site.tree))
    data = PageData(site.tree, theme_periods(site, entries), page="accessibilite")
    sections, tables = indicator_sections(site, entries, data, ranked=True)
    content = "\n".join([paragraph(INTRO), contents(entries), sections])
    return Page("accessibilite.html", TITLE, content, tables, data)
