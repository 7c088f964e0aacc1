"""Fiches indicateurs: one sheet per catalogue entry, with what was published last night.

Besides the catalogue's columns, a sheet shows every other key of its entry (`details`: the
rule of a status, distance bands…) under its French label (EXTRA_LABELS); a key without a
label fails tests/test_dashboard_figures.py rather than show English to an analyst.
"""

import html

from dashboards.formatting import format_period
from dashboards.pages.common import EMPTY, Page, Site, heading, paragraph, tables_html
from dashboards.pages.indicators import THEME_PAGES, catalogue_details
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
    ("tonight", "Cette nuit"),
    ("polarity", "Sens de lecture"),
    ("suppression_rule", "Secret statistique"),
    ("suppressed_rows", "Cellules masquées"),
    ("seed_reference", "Document de référence"),
    ("page", "Page du tableau de bord"),
    ("indicator_id", "Identifiant (entrepôt)"),
]
THEME_LABELS = {"offre": "Offre de soins et activité",
                "projets": "Projets de maisons et pôles de santé",
                "suivi": "Suivi des contrats et feuilles de route",
                "accessibilite": "Accessibilité"}
# French labels of the catalogue keys kept in `details` (models/indicators.yaml).
EXTRA_LABELS = {
    "requires": "Données nécessaires",
    "requires_note": "Non calculé quand",
    "status_rule": "Règle du statut",
    "status": "Statut",
    "rule": "Règle de calcul",
    "method": "Méthode",
    "decay_bands": "Bandes de distance (décroissance)",
    "bands": "Bandes",
    "detour_factor": "Coefficient de détour",
    "speed_kmh": "Vitesse moyenne (km/h)",
    "speed": "Vitesse moyenne",
    "age_standardisation": "Standardisation par âge",
    "window_months": "Fenêtre (mois)",
    "period": "Période",
    "periodicity": "Périodicité",
    "note": "Remarque",
    "notes": "Remarques",
    "limits": "Limites",
    "not_computed": "Non calculé quand",
    "reference": "Référence",
    "references": "Références",
    "ci": "Intervalle de confiance",
    "ci_method": "Intervalle de confiance",
    "dimension": "Ventilation",
    "dimensions": "Ventilations",
    "categories": "Catégories",
    "comparison": "Comparaison",
    "threshold": "Seuil",
    "thresholds": "Seuils",
}
REQUIREMENT_LABELS = {"commune_centroids": "coordonnées des communes (dossier reference/)"}


def sheets_page(site: Site) -> Page:
    snapshot = site.snapshot
    if snapshot.catalogue.is_empty():
        return Page("fiches.html", TITLE, EMPTY, data=site.reference_data())
    joined = snapshot.catalogue.join(snapshot.coverage, on="indicator_id", how="left")
    sheets = [dict(s, periods=_periods(s["first_period"], s["last_period"]),
                   polarity=POLARITY_LABELS.get(s["polarity"], s["polarity"]),
                   geo_levels=_levels(s["geo_levels"]),
                   published_levels=_levels(s["published_levels"]),
                   page=THEME_LABELS.get(s["theme"]) if s["theme"] in THEME_PAGES else None,
                   tonight=f"non calculé : {s['status_reason'].rstrip('.')}."
                   if s.get("status_reason") else None)
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


def _extra_text(key: str, value) -> str:
    """A catalogue value in French words: lists joined, mappings as 'clé : valeur'."""
    if key == "requires":
        items = [value] if isinstance(value, str) else value
        return ", ".join(REQUIREMENT_LABELS.get(str(v), str(v)) for v in items)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, int | float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, list):
        return " ; ".join(_extra_text("", v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{EXTRA_LABELS.get(k, k)} : {_extra_text(k, v)}"
                         for k, v in value.items())
    return str(value)


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
    fields = [(label, html.escape(str(sheet[key]))) for key, label in SHEET_FIELDS
              if sheet.get(key) not in (None, "")]
    if sheet["theme"] in THEME_PAGES:
        page = THEME_PAGES[sheet["theme"]]
        fields[-2] = (fields[-2][0], f'<a href="{page}#indicateur-'
                      f'{html.escape(sheet["indicator_id"])}">{fields[-2][1]}</a>')
    details = catalogue_details(sheet)
    if "requires_note" in details:  # the reason in words says more than the input's code
        details.pop("requires", None)
    fields[-1:-1] = [(EXTRA_LABELS.get(key, key), html.escape(_extra_text(key, value)))
                     for key, value in details.items() if value not in (None, "", [], {})]
    items = "\n".join(f"<dt>{html.escape(label)}</dt><dd>{text}</dd>" for label, text in fields)
    return (f'<section class="panel">{heading(sheet["label"], "fiche-" + sheet["indicator_id"])}'
            f'\n<dl class="fiche">\n{items}\n</dl></section>')
