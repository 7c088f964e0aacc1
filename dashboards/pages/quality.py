"""Qualité des données: each night's checks per table, and what was set aside and why."""

import html
import json
from datetime import datetime
from pathlib import Path

import polars as pl

from dashboards.figures import checks_figure
from dashboards.formatting import format_datetime, format_number
from dashboards.pages.common import Page, Site, heading, paragraph, tables_html
from dashboards.tables import Row, Table, write_csv
from dashboards.territories import ALL
from dashboards.views import PageData, view_key
from expectations import named_columns

TITLE = "Qualité des données"
SEVERITY = {"ERROR": "bloquant", "WARN": "avertissement"}
# audit.unresolved_communes.status as the resolver writes it ("correction invalide" is French)
RESOLUTION = {"unresolved": "non reconnue", "ambiguous": "ambiguë (plusieurs communes)",
              "approximate": "lue comme la commune la plus proche (faute de frappe ?)"}
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
    "rejected_rows_within_tolerance": "lignes rejetées dans la tolérance",
    "rows_of_professions_not_followed": "lignes de professions non suivies, écartées",
    "footer_lines_set_aside": "lignes de titre, de total ou de notes du tableau, écartées",
    "public_files_readable": "fichiers publics lisibles",
    "suite_skipped_empty_table": "suite non exécutée : table vide (fichier facultatif absent)",
    "expect_table_row_count_to_be_between": "nombre de lignes plausible",
    "row_count_close_to_previous_night": "nombre de lignes proche de la dernière nuit publiée",
    "latest_period_within_policy": "dernier mois assez récent",
    "census_communes_in_reference": "communes des projets connues du COG",
    "activity_structures_in_census_or_finess": "structures connues du recensement ou de FINESS",
}
# What the sender of a landing file does about a failed rule of its table's suite; the rule's
# message names the rows. The other checks' messages carry their own fix.
_RESEND = " puis déposez le fichier corrigé sous le même nom : il remplace le précédent."
_REMEDIES = {
    "expect_column_values_to_not_be_null": "Renseignez la colonne aux lignes citées," + _RESEND,
    "expect_column_values_to_be_in_set": "Corrigez la valeur aux lignes citées (les valeurs "
    "admises sont dans les tables ref. de l'entrepôt)," + _RESEND,
    "expect_column_values_to_be_between": "Vérifiez la valeur aux lignes citées, hors des "
    "bornes plausibles ; si elle est fausse, corrigez-la," + _RESEND,
    "expect_column_values_to_match_regex": "Corrigez le format de la valeur aux lignes "
    "citées," + _RESEND,
    "expect_compound_columns_to_be_unique": "La même clé revient sur plusieurs lignes, le plus "
    "souvent parce qu'un même fichier a été déposé sous deux noms : gardez-en un seul. Une "
    "version corrigée se dépose sous le nom du fichier qu'elle remplace.",
    "rejected_rows_within_tolerance": "Chaque ligne citée dit ce qui ne va pas : corrigez-la "
    "dans le fichier," + _RESEND + " Au-delà de la tolérance OBSERVATOIRE_REJECTED_TOLERANCE "
    "(part des lignes reçues ; 0 par défaut, 0.001 pour 0,1 %), des lignes rejetées bloquent "
    "la nuit.",
    "landing_files_readable": "Le message dit pourquoi le fichier est refusé : corrigez-le ou "
    "exportez-le à nouveau, puis déposez-le sous le même nom. Tant qu'il reste dans le dossier "
    "de dépôt sans être lisible, il bloque les nuits ; retiré, il ne les bloque plus.",
    "place_names_resolved": "La page Qualité des données donne les communes candidates de "
    "chaque nom. Une ligne « nom_ecrit;codes_insee » dans reference/corrections_communes.csv "
    "du dossier de dépôt corrige le nom, ou confirme la commune lue au plus proche.",
}
LANDING_TABLES = ("staging.activity", "staging.census", "staging.followup",
                  "staging.census_communes")
BLOCKED = ("Une nuit dont un contrôle bloquant échoue n'est pas publiée : l'entrepôt et ces "
           "pages restent alors ceux de la dernière nuit publiée, la commande "
           "« observatoire run » affiche les contrôles en échec, le fichier et la ligne, et "
           "cette page l'annonce en tête jusqu'à la prochaine nuit publiée.")


def quality_page(site: Site, blocked: dict | None = None) -> Page:
    """`blocked`: the account of a night blocked since the publication (pipelines.quality.
    blocked), shown on top; None when the published night is the latest."""
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
              _unread_table(site), _rejected_table(site), _unresolved_table(site)]
    alert, blocked_tables = _blocked_night(site, blocked) if blocked else ("", [])
    content = "\n".join([
        alert,
        tables_html(blocked_tables),
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
    tables = blocked_tables + tables
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


# the keys of the observed values the night's own checks record (pipelines/quality/checks.py),
# as the page says them; those that are fractions are shown as percentages
OBSERVED = {
    "raw": "lignes reçues", "malformed_lines": "lignes malformées", "staged": "lignes typées",
    "rejected": "lignes rejetées", "share": "part", "tolerance": "tolérance",
    "nuit_precedente": "nuit précédente", "ecart": "écart", "dernier_mois": "dernier mois",
    "age_en_mois": "âge en mois", "politique_en_mois": "politique en mois",
    "date_de_la_nuit": "date de la nuit", "structures_inconnues": "structures inconnues",
    "fichiers_charges": "fichiers d'activité chargés",
}
FRACTIONS = {"share", "tolerance", "ecart"}


def _observed(value: str | None) -> str | None:
    """'{"raw": 23623, "share": 0.0339}' -> 'lignes reçues : 23 623, part : 3,4 %'; other
    values as they are."""
    try:
        parsed = json.loads(value) if value else None
    except ValueError:
        return value
    if isinstance(parsed, dict):
        return ", ".join(f"{OBSERVED.get(k, k.replace('_', ' '))} : {_observed_value(k, v)}"
                         for k, v in parsed.items())
    return value


def _observed_value(key: str, value) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if key in FRACTIONS:  # a few rows in a large table are a share under 1 %: two decimals
        percent = value * 100
        return f"{format_number(percent, decimals=2 if abs(percent) < 1 else 1)} %"
    return format_number(value)


def _sample(value: str | None) -> str | None:
    try:
        parsed = json.loads(value) if value else None
    except ValueError:
        return value
    if isinstance(parsed, list):
        return ", ".join("(vide)" if v is None else str(v) for v in parsed) or None
    return value


def _checks_table(results: pl.DataFrame) -> Table:
    rows = [Row([r["table_name"], EXPECTATIONS.get(r["expectation"], r["expectation"]),
                 named_columns(r["table_name"], r["column_name"]),
                 SEVERITY.get(r["severity"], r["severity"]),
                 "réussi" if r["success"] else "échec", _observed(r["observed_value"]),
                 r["unexpected_count"], _sample(r["unexpected_sample"]), r["expectation"]],
                period=r["night_id"])
            for r in results.sort("table_name", "success", "severity").iter_rows(named=True)]
    return Table("controles", "Contrôles par table",
                 ["Table", "Contrôle", "Colonne", "Gravité", "Résultat", "Valeur observée",
                  "Lignes en écart", "Exemples de valeurs en écart", "Nom technique"],
                 rows, tall=True, prose=("Valeur observée", "Exemples de valeurs en écart"))


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


def _unread_table(site: Site) -> Table:
    """The landing's files the published night could not read, or loaded before and taken out
    of the landing since, and what to do with each."""
    plans = site.snapshot.unread_files.filter(
        pl.col("night_id") == site.snapshot.publication.night_id)["unread_files"]
    unread = json.loads(plans[0]) if len(plans) and plans[0] else {}
    return Table("fichiers-non-lus", "Fichiers que la nuit ne lit pas, ou retirés du dépôt",
                 ["Fichier", "Que faire"], [Row([name, why]) for name, why in unread.items()],
                 note=None if unread else "Tous les fichiers du dossier de dépôt ont été lus.")


def _rejected_table(site: Site) -> Table:
    rows = [Row([r["source_file"], r["source_row"], r["table_name"], r["column_name"],
                 r["value"], r["reason"]])
            for r in site.snapshot.rejected_rows.iter_rows(named=True)]
    return Table("lignes-rejetees", "Lignes rejetées à la lecture, avec le fichier et la ligne",
                 ["Fichier", "Ligne", "Table", "Colonne", "Valeur", "Motif"], rows,
                 note=None if rows else "Aucune ligne rejetée dans l'entrepôt publié.",
                 tall=True)


def _unresolved_table(site: Site) -> Table:
    rows = [Row([r["value"], r["source_file"], r["source_row"], r["table_name"],
                 RESOLUTION.get(r["status"], r["status"]),
                 r["candidates"], r["fix"]])
            for r in site.snapshot.unresolved_communes.iter_rows(named=True)]
    return Table("communes-non-resolues", "Communes non reconnues avec certitude",
                 ["Nom écrit", "Fichier", "Ligne", "Table", "Statut", "Candidats",
                  "Comment corriger"], rows,
                 note=None if rows else "Toutes les communes citées ont été reconnues.",
                 tall=True, prose=("Candidats", "Comment corriger"))


def _blocked_night(site: Site, blocked: dict) -> tuple[str, list[Table]]:
    """The alert that the latest night was blocked, and what it found, table by table."""
    publication = site.snapshot.publication
    failed = blocked.get("failed_checks", [])
    blocking = [f for f in failed if f["severity"] == "ERROR"]
    text = (f"La dernière nuit ({_when(blocked['blocked_at'])}, identifiant "
            f"{blocked['night_id']}) a été BLOQUÉE : rien n'a été publié. L'entrepôt et ces "
            f"tableaux de bord restent ceux de la nuit publiée le "
            f"{format_datetime(publication.published_at)}. {len(blocking)} contrôle(s) "
            f"bloquant(s) en échec, {len(blocked.get('refused_files', []))} fichier(s) refusé(s), "
            f"{len(blocked.get('rejected_rows', []))} ligne(s) rejetée(s) : détails ci-dessous. "
            "Corrigez les fichiers déposés ; la prochaine nuit réussie remplacera ce message.")
    checks = Table(
        "nuit-bloquee-controles", "Nuit bloquée : contrôles en échec",
        ["Table", "Contrôle", "Colonne", "Gravité", "Valeur observée", "Lignes en écart",
         "Exemples de valeurs en écart (fichier, ligne)", "Que faire", "Nom technique"],
        [Row([f["table_name"], EXPECTATIONS.get(f["expectation"], f["expectation"]),
              named_columns(f["table_name"], f["column_name"]),
              SEVERITY.get(f["severity"], f["severity"]), _observed(f["observed_value"]),
              f["unexpected_count"], _sample(f["unexpected_sample"]),
              remedy(f["table_name"], f["expectation"]), f["expectation"]])
         for f in failed],
        note=None if failed else "Aucun contrôle en échec enregistré : une étape de la nuit "
        "a échoué avant les contrôles (voir la sortie de « observatoire run »).", tall=True,
        prose=("Valeur observée", "Exemples de valeurs en écart (fichier, ligne)", "Que faire"))
    refused = Table(
        "nuit-bloquee-fichiers-refuses", "Nuit bloquée : fichiers refusés",
        ["Fichier", "Famille", "Message"],
        [Row([f["source_file"], f["family"], f["message"]])
         for f in blocked.get("refused_files", [])],
        note=None if blocked.get("refused_files") else "Aucun fichier refusé.")
    rejected = Table(
        "nuit-bloquee-lignes-rejetees", "Nuit bloquée : lignes rejetées",
        ["Fichier", "Ligne", "Table", "Colonne", "Valeur", "Motif"],
        [Row([r["source_file"], r["source_row"], r["table_name"], r["column_name"], r["value"],
              r["reason"]]) for r in blocked.get("rejected_rows", [])],
        note=None if blocked.get("rejected_rows") else "Aucune ligne rejetée.", tall=True)
    alert = (f'<p class="alerte" role="alert">{html.escape(text)}</p>'
             + heading("Nuit bloquée", "nuit-bloquee"))
    return alert, [checks, refused, rejected]


def remedy(table: str, expectation: str) -> str | None:
    """What to do about a failed rule on `table`, when the analyst's files feed it."""
    return _REMEDIES.get(expectation) if table in LANDING_TABLES else None


def _when(iso: str) -> str:
    return format_datetime(datetime.fromisoformat(iso))


def render_quality_page(warehouse_path: Path, out_dir: Path, blocked: dict) -> Path:
    """Rewrite only the quality page (its figure and CSV files too) of a rendered site, from the
    published warehouse, with the blocked night on top; the same steps as
    dashboards.render.render_site for one page. The other pages stay as the last good night
    rendered them."""
    from dashboards.tables import write_table_data
    from dashboards.template import render_page
    from dashboards.warehouse import read_snapshot

    snapshot = read_snapshot(warehouse_path)
    publication = snapshot.publication
    site = Site.from_snapshot(snapshot)
    page = quality_page(site, blocked)
    data = page.data or PageData(site.tree)
    stem = page.filename.removesuffix(".html")
    document = render_page(page.filename, page.title, page.content,
                           format_datetime(publication.published_at), publication.night_id,
                           publication.demo_activity, data.to_json(stem), page.with_plotly)
    for name, script in data.figure_files(stem).items():
        _replace(out_dir / name, script)
    for table in page.tables:
        write_csv(table, out_dir)
        if table.lazy:
            write_table_data(table, out_dir)
    target = out_dir / page.filename
    _replace(target, document)
    return target


def _replace(path: Path, text: str) -> None:
    """Readers of the site see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
