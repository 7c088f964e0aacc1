"""Dictionnaire des données: schema → table → column, type and comment of the published file."""

import html

import polars as pl

from dashboards.formatting import format_number
from dashboards.pages.common import Page, Site, heading, paragraph
from dashboards.tables import Row, Table

TITLE = "Dictionnaire des données"
SCHEMAS = {
    "marts": "Indicateurs et tables prêtes pour l'analyse : commencez ici.",
    "ref": "Référentiels : géographie administrative, vocabulaires des professions et stades.",
    "audit": "Contrôles de chaque nuit, lignes rejetées, communes non reconnues.",
    "staging": "Données typées et normalisées, étape intermédiaire avant les indicateurs.",
    "raw": "Fichiers tels que reçus : réservé au traitement, ne pas utiliser pour l'analyse.",
}
NO_COMMENT = "(pas de description)"


def dictionary_page(site: Site) -> Page:
    tables = site.snapshot.dictionary_tables
    columns = site.snapshot.dictionary_columns
    order = {name: index for index, name in enumerate(SCHEMAS)}
    schemas = sorted(tables["schema_name"].unique().to_list(),
                     key=lambda s: (order.get(s, len(order)), s))
    download = _download_table(tables, columns)
    parts = [
        paragraph("Les tables de l'entrepôt publié (fichier DuckDB observatoire.duckdb), "
                  "telles que les voit un client SQL : DuckDB, DBeaver, un notebook ou "
                  "« observatoire sql ». Les descriptions viennent des commentaires de "
                  "l'entrepôt lui-même."),
        f'<p><a class="download" href="{download.csv_name}" download>Télécharger le '
        "dictionnaire complet (CSV)</a></p>",
        '<nav class="sommaire" aria-label="Sommaire du dictionnaire"><ul>'
        + "".join(_summary_entry(schema, tables) for schema in schemas) + "</ul></nav>",
    ]
    for schema in schemas:
        parts.append(heading(f"Schéma {schema}", f"schema-{schema}"))
        if schema in SCHEMAS:
            parts.append(paragraph(SCHEMAS[schema]))
        for table in tables.filter(pl.col("schema_name") == schema).iter_rows(named=True):
            parts.append(_table_section(table, columns))
    return Page("dictionnaire.html", TITLE, "\n".join(parts), [download],
                site.reference_data())


def _summary_entry(schema: str, tables: pl.DataFrame) -> str:
    names = tables.filter(pl.col("schema_name") == schema)["table_name"].to_list()
    links = ", ".join(f'<a href="#table-{html.escape(schema)}-{html.escape(n)}">'
                      f"{html.escape(n)}</a>" for n in names)
    return f'<li><a href="#schema-{html.escape(schema)}">{html.escape(schema)}</a> : {links}</li>'


def _table_section(table: dict, columns: pl.DataFrame) -> str:
    schema, name = table["schema_name"], table["table_name"]
    mine = columns.filter((pl.col("schema_name") == schema) & (pl.col("table_name") == name))
    size = (f" — environ {format_number(table['rows'])} lignes"
            if table["rows"] is not None else "")
    body = "".join(f"<tr><th>{html.escape(c['column_name'])}</th>"
                   f"<td><code>{html.escape(c['data_type'])}</code></td>"
                   f"<td>{html.escape(c['comment'] or NO_COMMENT)}</td></tr>"
                   for c in mine.iter_rows(named=True))
    return (f'<section class="panel table-entrepot" id="table-{html.escape(schema)}-'
            f'{html.escape(name)}"><h3><code>{html.escape(schema)}.{html.escape(name)}</code> '
            f"<small>{html.escape(table['kind'])}{html.escape(size)}</small></h3>"
            f'<p>{html.escape(table["comment"] or NO_COMMENT)}</p>'
            '<div class="scroll"><table><thead><tr><th scope="col">Colonne</th>'
            '<th scope="col">Type</th><th scope="col">Description</th></tr></thead>'
            f"<tbody>{body}</tbody></table></div></section>")


def _download_table(tables: pl.DataFrame, columns: pl.DataFrame) -> Table:
    comments = {(t["schema_name"], t["table_name"]): t["comment"]
                for t in tables.iter_rows(named=True)}
    rows = [Row([c["schema_name"], c["table_name"], comments.get((c["schema_name"],
                                                                  c["table_name"])),
                 c["column_name"], c["data_type"], c["comment"]])
            for c in columns.iter_rows(named=True)]
    return Table("dictionnaire-des-donnees", "Dictionnaire des données",
                 ["Schéma", "Table", "Description de la table", "Colonne", "Type",
                  "Description de la colonne"], rows)
