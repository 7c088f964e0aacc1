"""Fiches indicateurs: one sheet per catalogue entry, with what was published last night."""

import html

from dashboards.formatting import format_period
from dashboards.pages.common import EMPTY, Page, Site, heading, paragraph, tables_html
from dashboards.tables import Row, Table
from dashboards.territories import LEVEL_LABELS

TITLE = "Fiches indicateurs"
POLARITY_LABELS = {
    "higher_is_better": "une valeur plus élevée est meilleure",
    "lower_is_better": "une valeur plus basse est meilleure",
    "neutral": "neutre (ni meilleur ni moins bon)",
}
SHEET_FIELDS = [
    ("definition", "Définition"),
    ("numerator", "Numérateur"),
    ("denominator", "Dénominateur"),
    ("unit", "Unité"),
    ("source", "Source"),
    ("geo_levels", "Niveaux géographiques prévus"),
    ("published_levels", "Niveaux publiés"),
    ("periods", "Périodes publiées"),
    ("polarity", "Sens de lecture"),
    ("suppression_rule", "Secret statistique"),
    ("suppressed_rows", "Cellules masquées"),
    ("seed_reference", "Document de référence"),
    ("indicator_id", "Identifiant (entrepôt)"),
]


def sheets_page(site: Site) -> Page:
    snapshot = site.snapshot
    if snapshot.catalogue.is_empty():
        return Page("fiches.html", TITLE, EMPTY, data=site.reference_data())
    joined = snapshot.catalogue.join(snapshot.coverage, on="indicator_id", how="left")
    sheets = [dict(s, periods=_periods(s["first_period"], s["last_period"]),
                   polarity=POLARITY_LABELS.get(s["polarity"], s["polarity"]),
                   geo_levels=_levels(s["geo_levels"]),
                   published_levels=_levels(s["published_levels"]))
              for s in joined.iter_rows(named=True)]
    table = Table(
        "catalogue-des-indicateurs", "Catalogue des indicateurs",
        ["Indicateur", "Unité", "Source", "Niveaux publiés", "Périodes publiées",
         "Identifiant"],
        [Row([s["label"], s["unit"], s["source"], s["published_levels"], s["periods"],
              s["indicator_id"]]) for s in sheets])
    parts = [
        paragraph("Chaque indicateur publié dans l'entrepôt et dans ces pages a sa fiche : "
                  "définition, source, niveaux géographiques, règle de secret statistique. "
                  "L'identifiant est le nom de l'indicateur dans la table "
                  "marts.indicator_values de l'entrepôt DuckDB."),
        tables_html([table]),
    ]
    parts += [_sheet(sheet) for sheet in sheets]
    return Page("fiches.html", TITLE, "\n".join(parts), [table], site.reference_data())


def _levels(codes: str | list[str] | None) -> str | None:
    """'departement, epci' (or a list) -> 'Département, EPCI'; other wordings are kept."""
    if codes is None:
        return None
    items = codes.split(",") if isinstance(codes, str) else codes
    return ", ".join(LEVEL_LABELS.get(code.strip(), code.strip()) for code in items)


def _periods(first: str | None, last: str | None) -> str:
    if first is None:
        return "aucune"
    if first == last:
        return format_period(first)
    return f"de {format_period(first)} à {format_period(last)}"


def _sheet(sheet: dict) -> str:
    items = "\n".join(
        f"<dt>{html.escape(label)}</dt><dd>{html.escape(str(sheet[key]))}</dd>"
        for key, label in SHEET_FIELDS if sheet.get(key) not in (None, "")
    )
    return (f'<section class="panel">{heading(sheet["label"], "fiche-" + sheet["indicator_id"])}'
            f'\n<dl class="fiche">\n{items}\n</dl></section>')
