"""Qualité des données: each night's checks per table, and what was set aside and why."""

import html
import json

import polars as pl

from dashboards.figures import checks_figure
from dashboards.formatting import format_datetime
from dashboards.pages.common import Page, Site, heading, paragraph, tables_html
from dashboards.tables import Row, Table
from dashboards.territories import ALL
from dashboards.views import PageData, view_key

TITLE = "Qualité des données"
SEVERITY = {"ERROR": "bloquant", "WARN": "avertissement"}
EXPECTATIONS = {
    "expect_column_values_to_not_be_null": "valeurs toutes renseignées",
    "expect_column_values_to_be_in_set": "valeurs dans la liste attendue",
    "expect_column_values_to_be_between": "valeurs dans les bornes plausibles",
    "expect_column_values_to_match_regex": "valeurs au format attendu",
    "expect_compound_columns_to_be_unique": "pas de doublon sur la clé",
    "expect_column_values_to_be_unique": "pas de doublon",
    "raw_rows_equal_staged_plus_rejected": "lignes reçues = lignes typées + lignes rejetées",
    "landing_files_readable": "fichiers déposés lisibles",
    "no_rejected_rows": "aucune ligne rejetée",
    "place_names_resolved": "noms de communes reconnus",
}
BLOCKED = ("Une nuit dont un contrôle bloquant échoue n'est pas publiée : l'entrepôt et ces "
           "pages restent alors ceux de la dernière nuit publiée, et la commande "
           "« observatoire run » affiche les contrôles en échec, le fichier et la ligne. Si la "
           "date ci-dessus n'est pas celle de la dernière nuit, c'est qu'une nuit a été "
           "bloquée depuis.")


def quality_page(site: Site) -> Page:
    snapshot = site.snapshot
    nights = _nights(site)
    published = snapshot.publication.night_id
    data = PageData(site.tree, [(night, label) for night, label in nights.items()],
                    period_label="Nuit",
                    default_period=published if published in nights else None,
                    scope_note="Cette page ne dépend pas du territoire choisi.")
    results = snapshot.validation_results
    for night, label in nights.items():
        of_night = results.filter(pl.col("night_id") == night)
        if of_night.height:
            data.add_figure("controles", view_key(ALL, night),
                            checks_figure(of_night, f"nuit du {label}"))
    tables = [_checks_table(results), _files_table(site), _refused_table(site),
              _rejected_table(site), _unresolved_table(site)]
    content = "\n".join([
        _status(site, nights),
        paragraph(BLOCKED),
        heading("Contrôles de la nuit"),
        paragraph("Chaque table est contrôlée avant publication. Un contrôle « bloquant » en "
                  "échec empêche la publication ; un « avertissement » est publié et signalé "
                  "ici. Choisissez la nuit en haut de la page."),
        data.figure_slot("controles", "Aucun contrôle enregistré pour cette nuit.",
                         by_territory=False),
        tables_html(tables[:2]),
        heading("Ce qui a été écarté"),
        tables_html(tables[2:]),
    ])
    return Page("qualite.html", TITLE, content, tables, data)


def _nights(site: Site) -> dict[str, str]:
    """Night id -> French label, oldest first; a night is known by its checks or its loads."""
    moments = pl.concat([
        site.snapshot.validation_results.select(night="night_id", at="checked_at"),
        site.snapshot.loaded_files.select(night="load_id", at="loaded_at"),
    ]).drop_nulls("night").group_by("night").agg(pl.col("at").min()).sort("at")
    nights = {night: format_datetime(at) for night, at in moments.iter_rows()}
    publication = site.snapshot.publication
    nights.setdefault(publication.night_id, format_datetime(publication.published_at))
    return nights


def _status(site: Site, nights: dict[str, str]) -> str:
    publication = site.snapshot.publication
    results = site.snapshot.validation_results.filter(
        pl.col("night_id") == publication.night_id)
    failed = results.filter(~pl.col("success"))
    blocking = failed.filter(pl.col("severity") == "ERROR").height
    text = (f"Dernière nuit publiée : {format_datetime(publication.published_at)} "
            f"(identifiant {publication.night_id}). {results.height} contrôle(s) : "
            f"{results.height - failed.height} réussi(s), {failed.height} en échec")
    text += (f", dont {blocking} bloquant(s)." if blocking
             else " (avertissements seulement)." if failed.height else ".")
    if blocking:
        text += " Cette nuit a pourtant été publiée : signalez-le à l'équipe technique."
    css = "alerte" if blocking else "avertissement" if failed.height else "statut"
    return f'<p class="{css}" role="status">{html.escape(text)}</p>'


def _observed(value: str | None) -> str | None:
    """'{"raw": 53, "staged": 53}' -> 'raw : 53, staged : 53'; other values as they are."""
    try:
        parsed = json.loads(value) if value else None
    except ValueError:
        return value
    if isinstance(parsed, dict):
        return ", ".join(f"{k} : {v}" for k, v in parsed.items())
    return value


def _sample(value: str | None) -> str | None:
    try:
        parsed = json.loads(value) if value else None
    except ValueError:
        return value
    if isinstance(parsed, list):
        return ", ".join(str(v) for v in parsed) or None
    return value


def _checks_table(results: pl.DataFrame) -> Table:
    rows = [Row([r["table_name"], EXPECTATIONS.get(r["expectation"], r["expectation"]),
                 (r["column_name"] or "").replace(",", ", ") or None,
                 SEVERITY.get(r["severity"], r["severity"]),
                 "réussi" if r["success"] else "échec", _observed(r["observed_value"]),
                 r["unexpected_count"], _sample(r["unexpected_sample"]), r["expectation"]],
                period=r["night_id"])
            for r in results.sort("table_name", "success", "severity").iter_rows(named=True)]
    return Table("controles", "Contrôles par table",
                 ["Table", "Contrôle", "Colonne", "Gravité", "Résultat", "Valeur observée",
                  "Lignes en écart", "Exemples de valeurs en écart", "Nom technique"],
                 rows, tall=True)


def _files_table(site: Site) -> Table:
    files = site.snapshot.loaded_files
    rows = [Row([r["source_file"], r["family"], r["status"], r["row_count"],
                 format_datetime(r["loaded_at"]) if r["loaded_at"] else None, r["message"]],
                period=r["load_id"]) for r in files.iter_rows(named=True)]
    return Table("fichiers-de-la-nuit", "Fichiers reçus cette nuit-là",
                 ["Fichier", "Famille", "Statut", "Lignes", "Chargé le", "Message"], rows,
                 note="Un fichier déjà chargé une nuit précédente (même contenu) n'est pas "
                      "relu : il n'apparaît que la nuit de son premier chargement.", tall=True)


def _refused_table(site: Site) -> Table:
    refused = site.snapshot.loaded_files.filter(pl.col("status") == "refusé")
    rows = [Row([r["source_file"], r["family"],
                 format_datetime(r["loaded_at"]) if r["loaded_at"] else None, r["message"]])
            for r in refused.iter_rows(named=True)]
    return Table("fichiers-refuses", "Fichiers refusés, et pourquoi",
                 ["Fichier", "Famille", "Refusé le", "Message"], rows,
                 note=None if rows else "Aucun fichier refusé.")


def _rejected_table(site: Site) -> Table:
    rows = [Row([r["source_file"], r["source_row"], r["table_name"], r["column_name"],
                 r["value"], r["reason"]])
            for r in site.snapshot.rejected_rows.iter_rows(named=True)]
    return Table("lignes-rejetees", "Lignes rejetées à la lecture, avec le fichier et la ligne",
                 ["Fichier", "Ligne", "Table", "Colonne", "Valeur", "Motif"], rows,
                 note=None if rows else "Aucune ligne rejetée dans l'entrepôt publié.",
                 tall=True)


def _unresolved_table(site: Site) -> Table:
    rows = [Row([r["value"], r["source_file"], r["source_row"], r["table_name"], r["status"],
                 r["candidates"], r["fix"]])
            for r in site.snapshot.unresolved_communes.iter_rows(named=True)]
    return Table("communes-non-resolues", "Communes non reconnues avec certitude",
                 ["Nom écrit", "Fichier", "Ligne", "Table", "Statut", "Candidats",
                  "Comment corriger"], rows,
                 note=None if rows else "Toutes les communes citées ont été reconnues.",
                 tall=True)
