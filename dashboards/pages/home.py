"""Accueil: the chosen territory's key figures, what changed since last night, the pages."""

import html
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from dashboards.changes import Change, compare, files_of_night
from dashboards.formatting import (
    MASKED_TEXT,
    format_datetime,
    format_number,
    format_period,
)
from dashboards.pages.accessibility import NOT_COMPUTED
from dashboards.pages.common import (
    Page,
    Site,
    heading,
    indicator_rows,
    masked_note,
    paragraph,
    period_rank,
    tables_html,
)
from dashboards.pages.indicators import theme_entries
from dashboards.pages.projects import regional_census
from dashboards.tables import Masked, Row, Table
from dashboards.territories import ALL, LEVEL_LABELS, territory_key
from dashboards.views import PageData, block_slot, view_block, view_key

TITLE = "Accueil"
STATUS_WORDING = {"atteint": "atteint(s)", "en bonne voie": "en bonne voie",
                  "en retard": "en retard", "sans cible": "sans cible",
                  "non renseigné": "non renseigné(s)", "réalisé": "étape(s) réalisée(s)",
                  "en cours": "étape(s) en cours", "non réalisé": "étape(s) non réalisée(s)",
                  "abandonné": "étape(s) abandonnée(s)"}
PAGES = [
    ("offre.html", "Offre de soins et activité",
     "densités de professionnels, équivalents temps plein, âges, installations et départs, "
     "activité, comparés au territoire de référence"),
    ("projets.html", "Projets de maisons et pôles de santé",
     "le recensement par stade et par territoire, la liste des projets et leurs communes"),
    ("suivi.html", "Suivi des contrats et feuilles de route",
     "les critères de chaque programme comparés à leur cible, année par année"),
    ("accessibilite.html", "Accessibilité", "l'accessibilité potentielle aux médecins"),
    ("qualite.html", "Qualité des données",
     "les contrôles de la nuit, les lignes et fichiers écartés et pourquoi"),
    ("fiches.html", "Fiches indicateurs", "définition, source et secret statistique"),
    ("dictionnaire.html", "Dictionnaire des données",
     "les tables et colonnes de l'entrepôt, pour l'interroger en SQL"),
]


@dataclass(frozen=True)
class KeyFigure:
    label: str
    figure: str
    detail: str
    link: str
    link_text: str


def _indicators_card(site: Site) -> KeyFigure:
    """The catalogue's indicators that have rows tonight: a landing without activity files
    once read « 24 indicateurs publiés » with 13 of them not computed."""
    catalogue = site.snapshot.catalogue["indicator_id"]
    published = catalogue.is_in(site.snapshot.coverage["indicator_id"].implode()).sum()
    missing = len(catalogue) - published
    detail = "chacun avec sa fiche : définition, source, secret statistique"
    if missing:
        detail = (f"sur {format_number(len(catalogue))} au catalogue ; "
                  f"{format_number(missing)} non calculé(s) cette nuit, leur fiche dit pourquoi")
    return KeyFigure("Indicateurs publiés", format_number(published), detail, "fiches.html",
                     "Voir les fiches")


def home_page(site: Site) -> Page:
    data = PageData(site.tree)
    found = compare(site.previous, site.current) if site.previous else []
    changes = _changes_table(site, found)
    content = "\n".join([
        paragraph("Tableau de bord de l'observatoire local des besoins en santé : offre de "
                  "soins de premier recours, projets de maisons et pôles de santé et suivi des "
                  "contrats locaux de santé. Choisissez un territoire en haut de la page : "
                  "chaque page le garde. Chaque tableau se télécharge en CSV, lisible par "
                  "Excel."),
        '<div class="cards">',
        _slot("carte-densite", _density_cards(site), territorial=True),
        _slot("carte-projets", _projects_cards(site), territorial=True),
        _slot("carte-suivi", _followup_cards(site), territorial=True),
        _slot("carte-accessibilite", {ALL: _accessibility_card(site)}),
        _slot("carte-qualite", {ALL: _quality_card(site)}),
        _slot("carte-indicateurs", {ALL: _indicators_card(site)}),
        "</div>",
        heading("Depuis la nuit précédente"),
        _changes_summary(site, found),
        tables_html([changes]) if changes.rows else "",
        heading("Les pages"),
        "<ul class=\"pages\">" + "".join(
            f'<li><a href="{href}">{html.escape(title)}</a> : {html.escape(text)}</li>'
            for href, title, text in PAGES) + "</ul>",
        heading("À savoir"),
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
    return Page("index.html", TITLE, content, [changes] if changes.rows else [], data)


def _slot(slot: str, cards: dict[str, KeyFigure | None], territorial: bool = False) -> str:
    """A card per territory; a territorial card is hidden where its territory has no figure."""
    blocks = [view_block(slot, view_key(key), _card_html(card))
              for key, card in cards.items() if card]
    return block_slot(slot, blocks, "", "card-slot",
                      fallback_to_all=not territorial) if blocks else ""


def _card_html(card: KeyFigure) -> str:
    return (f'<div class="card"><p class="figure">{html.escape(card.figure)}</p>'
            f'<p class="label">{html.escape(card.label)}</p>'
            f'<p class="detail">{html.escape(card.detail)}</p>'
            f'<p><a href="{card.link}">{html.escape(card.link_text)}</a></p></div>')


def _shown(row: dict) -> str:
    return MASKED_TEXT if row["suppressed"] or row["value"] is None else format_number(
        row["value"])


def _density_cards(site: Site) -> dict[str, KeyFigure]:
    density = indicator_rows(site.snapshot, "densite_professionnels").filter(
        pl.col("category") == "ensemble")
    density = density.filter(pl.col("period") == pl.col("period").max().over("geo_level"))
    cards = {}
    for row in density.iter_rows(named=True):
        key = territory_key(row["geo_level"], row["geo_code"])
        detail = f"{row['unit'] or ''}, {row['geo_name']}, {format_period(row['period'])}"
        if not row["suppressed"] and row["ci_low"] is not None:
            detail += (f" ; IC 95 % {format_number(row['ci_low'])} à "
                       f"{format_number(row['ci_high'])}")
        if row["reference_value"] is not None:
            detail += (f" ; {row['reference_geo_name']} : "
                       f"{format_number(row['reference_value'])}"
                       + (f" ({row['comparison_flag']})" if row["comparison_flag"] else ""))
        cards[key] = KeyFigure("Densité de professionnels, toutes professions", _shown(row),
                               detail, "offre.html", "Voir l'offre de soins")
    for level in ("region", "departement", "epci"):
        rows = density.filter((pl.col("geo_level") == level) & ~pl.col("suppressed"))
        if rows.height == 1:
            cards[ALL] = cards[territory_key(level, rows["geo_code"].first())]
        elif rows.height:
            period = format_period(rows["period"].max())
            cards[ALL] = KeyFigure(
                "Densité de professionnels, toutes professions",
                f"{format_number(rows['value'].min())} à {format_number(rows['value'].max())}",
                f"{rows['unit'].first() or ''}, selon le territoire "
                f"({LEVEL_LABELS[level].lower()}), {period}", "offre.html",
                "Voir l'offre de soins par territoire")
        if rows.height:
            break
    return cards


def _projects_cards(site: Site) -> dict[str, KeyFigure]:
    counts = indicator_rows(site.snapshot, "projets_nombre")
    if counts.is_empty():  # no census yet
        return {}
    # each territory at its own latest census: the régions' censuses need not share a date
    counts = counts.filter(pl.col("period") == pl.col("period").max().over("geo_level",
                                                                           "geo_code"))
    totals = counts.filter(pl.col("category") == "ensemble")
    operating = {(r["geo_level"], r["geo_code"]): r for r in counts.filter(
        pl.col("category") == "fonctionnement").iter_rows(named=True)}
    cards = {}
    for row in totals.iter_rows(named=True):
        where = (f"en région {row['geo_name']}" if row["geo_level"] == "region"
                 else f"dans le territoire {row['geo_name']}")
        detail = f"recensés en {format_period(row['period'])} {where}"
        if (row["geo_level"], row["geo_code"]) in operating:
            detail += (f", dont {_shown(operating[row['geo_level'], row['geo_code']])} en "
                       "fonctionnement")
        cards[territory_key(row["geo_level"], row["geo_code"])] = KeyFigure(
            "Maisons et pôles de santé", _shown(row), detail, "projets.html",
            "Voir les projets par territoire")
    census = regional_census(counts)
    if census is not None:
        detail = f"recensés {census.phrase}" + (
            f", dont {census.operating} en fonctionnement" if census.operating else "")
        cards[ALL] = KeyFigure("Maisons et pôles de santé", census.total or MASKED_TEXT, detail,
                               "projets.html", "Voir les projets par territoire")
    return cards


def _followup_cards(site: Site) -> dict[str, KeyFigure]:
    followup = site.snapshot.followup
    if followup.is_empty():
        return {}
    # a criterion's latest period with a value or a step's state: a roadmap lists the periods
    # to come
    latest = (followup.sort(pl.col("value").is_not_null() | pl.col("milestone").is_not_null(),
                            period_rank(followup))
              .group_by("programme", "criterion").last())
    codes = dict(site.snapshot.indicators.filter(pl.col("geo_level") == "programme")
                 .select("geo_name", "geo_code").unique("geo_name", keep="first",
                                                        maintain_order=True).iter_rows())
    statuses: dict[str, list[str | None]] = {}  # programme -> its criteria's latest status
    for programme, status in latest.select("programme", "status").iter_rows():
        statuses.setdefault(programme, []).append(status)
    # the programmes each territory holds: dictionaries, not a filter of the frame per
    # territory (1,400 territories and 400 programmes at national scale took 0.8 s)
    within: dict[str, list[str]] = {}
    for name, code in codes.items():
        for key in [ALL, *dict.fromkeys(site.row_keys("programme", code))]:
            within.setdefault(key, []).append(name)
    cards = {}
    for key, names in within.items():
        mine = [status for name in names for status in statuses.get(name, [])]
        if not mine:
            continue
        by_status = Counter(mine)
        detail = ", ".join(f"{by_status[status]} {wording}"
                           for status, wording in STATUS_WORDING.items() if status in by_status)
        programmes = sum(1 for name in names if name in statuses)
        cards[key] = KeyFigure(
            "Critères de suivi", format_number(len(mine)),
            f"{programmes} programme{'s' if programmes > 1 else ''} ; "
            f"à la dernière période renseignée : {detail}", "suivi.html",
            "Voir le suivi des contrats")
    return cards


def _accessibility_card(site: Site) -> KeyFigure:
    ids = [e["indicator_id"] for e in theme_entries(site, "accessibilite")]
    rows = site.snapshot.indicators.filter(pl.col("indicator_id").is_in(ids))
    if rows.is_empty():
        return KeyFigure("Accessibilité aux médecins", "Non calculé", NOT_COMPUTED,
                         "accessibilite.html", "Pourquoi ?")
    return KeyFigure("Accessibilité aux médecins", format_number(rows["geo_code"].n_unique()),
                     f"territoires classés, {format_period(rows['period'].max())}",
                     "accessibilite.html", "Voir le classement")


def _quality_card(site: Site) -> KeyFigure:
    results = site.snapshot.validation_results.filter(
        pl.col("night_id") == site.snapshot.publication.night_id)
    failed = results.filter(~pl.col("success"))
    blocking = failed.filter(pl.col("severity") == "ERROR").height
    # rules, not the checks of `observatoire run` (one check of a table holds several rules);
    # a published night's failed rules are warnings, since a blocking one stops publication
    if not failed.height:
        detail = "aucune règle en échec"
    elif not blocking:
        detail = (f"{failed.height} avertissement{'s' if failed.height > 1 else ''} : "
                  f"signalé{'s' if failed.height > 1 else ''}, sans bloquer la publication")
    else:
        detail = f"{failed.height} en échec, dont {blocking} bloquante(s)"
    return KeyFigure("Règles de contrôle respectées cette nuit",
                     f"{results.height - failed.height} / {results.height}", detail,
                     "qualite.html", "Voir la qualité des données")


def _changes_summary(site: Site, changes: list[Change]) -> str:
    publication = site.snapshot.publication
    nights = site.snapshot.validation_results["night_id"].n_unique()
    files = files_of_night(site.snapshot)
    loaded = files.filter(pl.col("status") != "refusé")
    refused = files.height - loaded.height
    received = (f"Fichiers reçus cette nuit : {loaded.height} chargé(s)"
                + (f", {refused} refusé(s) (voir la page Qualité des données)" if refused
                   else "") + "." if files.height
                else "Aucun nouveau fichier cette nuit : les indicateurs sont recalculés sur "
                     "les fichiers déjà connus.")
    if site.previous is None:
        first = ("C'est la première nuit publiée : la comparaison avec la nuit précédente "
                 "commencera à la prochaine nuit." if nights <= 1 else
                 "Les chiffres de la nuit précédente ne sont pas connus de ces pages (elles "
                 "sont publiées ici pour la première fois) : la comparaison commencera à la "
                 "prochaine nuit.")
        return paragraph(f"{first} {received}")
    counts = {kind: sum(c.kind == kind for c in changes) for kind in
              ("modifiée", "nouvelle", "disparue", "masquée", "démasquée")}
    listed = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in counts.items() if n)
    since = format_datetime(datetime.fromisoformat(site.previous.published_at))
    text = (f"Depuis la nuit publiée le {since} : "
            + (f"valeurs publiées {listed}." if listed else "aucune valeur publiée n'a changé.")
            + f" {received} Nuit publiée le {format_datetime(publication.published_at)}.")
    return paragraph(text)


def _changes_table(site: Site, changes: list[Change]) -> Table:
    if site.previous is None:
        return Table("changements", "", [], [])
    labels = dict(site.snapshot.catalogue.select("indicator_id", "label").iter_rows())
    notes: dict[str, str] = {}
    rows = []
    for change in changes:
        if change.indicator_id not in notes:
            notes[change.indicator_id] = masked_note(site.snapshot, change.indicator_id,
                                                     "effectifs")
        note = notes[change.indicator_id]
        before = Masked(note) if change.kind == "démasquée" else change.before
        after = Masked(note) if change.kind == "masquée" else change.after
        gap = (change.after - change.before if change.kind == "modifiée"
               and None not in (change.before, change.after) else None)
        rows.append(Row([labels.get(change.indicator_id, change.indicator_id),
                         change.geo_name, change.category_label, format_period(change.period),
                         before, after, gap, change.kind],
                        site.row_keys(change.geo_level, change.geo_code)))
    return Table("changements", "Valeurs publiées qui ont changé depuis la nuit précédente",
                 ["Indicateur", "Territoire", "Catégorie", "Période", "Avant", "Maintenant",
                  "Écart", "Changement"], rows, tall=True, lazy=True)
