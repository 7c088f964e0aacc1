"""Accueil: the key figures of the night and a door to each page."""

import html
from dataclasses import dataclass

import polars as pl

from dashboards.formatting import MASKED_TEXT, format_number, format_period
from dashboards.pages.common import (
    GEO_LEVEL_LABELS,
    Page,
    indicator_rows,
    latest_period,
    latest_period_by_level,
    paragraph,
)
from dashboards.warehouse import Snapshot

TITLE = "Accueil"
BROAD_TO_NARROW = ["france", "region", "departement", "epci", "commune"]
STATUS_WORDING = {"atteint": "atteint(s)", "en bonne voie": "en bonne voie",
                  "en retard": "en retard", "sans cible": "sans cible"}


@dataclass(frozen=True)
class KeyFigure:
    label: str
    figure: str
    detail: str
    link: str
    link_text: str


def home_page(snapshot: Snapshot) -> Page:
    cards = [_projects_card(snapshot), _density_card(snapshot), _followup_card(snapshot),
             KeyFigure("Indicateurs publiés", format_number(snapshot.catalogue.height),
                       "chacun avec sa fiche : définition, source, secret statistique",
                       "fiches.html", "Voir les fiches")]
    content = "\n".join([
        paragraph("Tableau de bord de l'observatoire local des besoins en santé : offre de "
                  "soins de premier recours, projets de maisons et pôles de santé et suivi des "
                  "contrats locaux de santé. Les pages sont recalculées chaque nuit à partir de "
                  "l'entrepôt publié ; chaque tableau se télécharge en CSV, lisible par Excel."),
        '<div class="cards">', *[_card_html(card) for card in cards if card], "</div>",
        "<h2>À savoir</h2>",
        "<ul>"
        "<li>Une valeur calculée sur trop peu de professionnels ou de projets est remplacée "
        "par « &lt; seuil » (secret statistique) ; survolez-la pour connaître le seuil.</li>"
        "<li>Les intervalles de confiance à 95 % indiquent la précision d'un taux ; la "
        "comparaison au territoire de référence (meilleur, similaire, moins bon) en tient "
        "compte.</li>"
        "<li>Les graphiques sont interactifs : survol pour les valeurs, double clic pour "
        "revenir à la vue d'ensemble, appareil photo pour enregistrer une image.</li>"
        "</ul>",
    ])
    return Page("index.html", TITLE, content)


def _card_html(card: KeyFigure) -> str:
    return (f'<div class="card"><p class="figure">{html.escape(card.figure)}</p>'
            f'<p class="label">{html.escape(card.label)}</p>'
            f'<p class="detail">{html.escape(card.detail)}</p>'
            f'<p><a href="{card.link}">{html.escape(card.link_text)}</a></p></div>')


def _shown(row: dict) -> str:
    return MASKED_TEXT if row["suppressed"] or row["value"] is None else format_number(
        row["value"])


def _projects_card(snapshot: Snapshot) -> KeyFigure | None:
    counts = latest_period(indicator_rows(snapshot, "projets_nombre"))
    region = counts.filter((pl.col("geo_level") == "region") & (pl.col("category") == "ensemble"))
    if region.is_empty():
        return None
    row = region.row(0, named=True)
    operating = counts.filter((pl.col("geo_level") == "region")
                              & (pl.col("category") == "fonctionnement"))
    detail = f"recensés en {format_period(row['period'])} en région {row['geo_name']}"
    if not operating.is_empty():
        detail += f", dont {_shown(operating.row(0, named=True))} en fonctionnement"
    return KeyFigure("Maisons et pôles de santé", _shown(row), detail, "projets.html",
                     "Voir les projets par territoire")


def _density_card(snapshot: Snapshot) -> KeyFigure | None:
    """The broadest level published: its value, or the range across its territories."""
    density = latest_period_by_level(indicator_rows(snapshot, "densite_professionnels"))
    for level in BROAD_TO_NARROW:
        rows = density.filter(pl.col("geo_level") == level)
        if rows.is_empty():
            continue
        first = rows.sort("category_order").row(0, named=True)
        rows = rows.filter(pl.col("category") == first["category"])
        profession = ("toutes professions" if first["category"] == "ensemble"
                      else first["category_label"].lower())
        shown = rows.filter(~pl.col("suppressed") & pl.col("value").is_not_null())["value"]
        if rows.height == 1 or shown.is_empty():
            figure, where = _shown(first), first["geo_name"]
        else:
            figure = f"{format_number(shown.min())} à {format_number(shown.max())}"
            where = f"selon le territoire ({GEO_LEVEL_LABELS.get(level, level).lower()})"
        return KeyFigure(f"Densité de professionnels, {profession}", figure,
                         f"{first['unit'] or ''}, {where}, {format_period(first['period'])}",
                         "offre.html", "Voir l'offre de soins par territoire")
    return None


def _followup_card(snapshot: Snapshot) -> KeyFigure | None:
    followup = snapshot.followup
    if followup.is_empty():
        return None
    latest = followup.sort("period").group_by("programme", "criterion").last()
    by_status = dict(latest.group_by("status").len().iter_rows())
    detail = ", ".join(f"{by_status[status]} {wording}"
                       for status, wording in STATUS_WORDING.items() if status in by_status)
    return KeyFigure("Critères de suivi", format_number(latest.height),
                     f"à la dernière période : {detail}", "suivi.html",
                     "Voir le suivi des contrats")
