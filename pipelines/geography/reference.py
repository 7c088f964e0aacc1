"""Load the reference geography (data/reference/*.parquet) into the `ref` schema.

Every table and column carries a French comment, so that an analyst who opens the published
warehouse in any DuckDB client sees what each column holds and where it comes from.
"""

from pathlib import Path

import duckdb

from pipelines.settings import REFERENCE_DIR

# Must follow data/reference/VERSION (a test checks it) when the reference is rebuilt.
REFERENCE_SOURCE = "@etalab/decoupage-administratif 6.0.0, COG 2026, Licence Ouverte (Etalab)"

# table -> (table comment, [(column, SQL type, column comment)])
REFERENCE_TABLES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "communes": (
        "Communes actuelles (une ligne par commune) avec leur département, région, EPCI et "
        "population municipale.",
        [
            ("commune_code", "VARCHAR", "Code INSEE de la commune (5 caractères, 2A/2B en Corse)."),
            ("commune_name", "VARCHAR", "Nom officiel de la commune."),
            ("department_code", "VARCHAR", "Code du département (2 ou 3 caractères)."),
            ("region_code", "VARCHAR", "Code INSEE de la région."),
            (
                "epci_code",
                "VARCHAR",
                "Numéro SIREN de l'EPCI à fiscalité propre dont la commune est membre (vide pour "
                "les quelques communes hors EPCI : îles mono-communales, collectivités "
                "d'outre-mer).",
            ),
            (
                "population",
                "BIGINT",
                "Population municipale. Vide pour les six territoires sans population "
                "(districts des Terres australes et antarctiques françaises, Clipperton).",
            ),
            ("postal_codes", "VARCHAR", "Codes postaux de la commune, séparés par des virgules."),
        ],
    ),
    "attached_communes": (
        "Communes déléguées, communes associées et arrondissements municipaux, rattachés à leur "
        "commune actuelle (par exemple Lomme, commune associée de Lille).",
        [
            ("commune_code", "VARCHAR", "Code INSEE de la commune déléguée ou associée."),
            ("commune_name", "VARCHAR", "Nom de la commune déléguée ou associée."),
            (
                "commune_type",
                "VARCHAR",
                "Nature du rattachement : commune-deleguee, commune-associee ou "
                "arrondissement-municipal.",
            ),
            (
                "parent_commune_code",
                "VARCHAR",
                "Code INSEE de la commune actuelle de rattachement (voir ref.communes).",
            ),
        ],
    ),
    "former_communes": (
        "Anciens codes INSEE (communes fusionnées ou renumérotées) et code actuel correspondant.",
        [
            ("former_code", "VARCHAR", "Ancien code INSEE, qui ne désigne plus une commune."),
            ("current_code", "VARCHAR", "Code INSEE de la commune actuelle qui l'a absorbé."),
        ],
    ),
    "epci": (
        "Établissements publics de coopération intercommunale à fiscalité propre.",
        [
            ("epci_code", "VARCHAR", "Numéro SIREN de l'EPCI."),
            ("epci_name", "VARCHAR", "Nom de l'EPCI."),
            (
                "epci_type",
                "VARCHAR",
                "Catégorie : CC (communauté de communes), CA (d'agglomération), CU (urbaine), "
                "METRO (métropole), MET69 (métropole de Lyon).",
            ),
            ("population", "BIGINT", "Population municipale totale des communes membres."),
        ],
    ),
    "departements": (
        "Départements et collectivités d'outre-mer.",
        [
            ("department_code", "VARCHAR", "Code du département."),
            ("department_name", "VARCHAR", "Nom du département."),
            ("region_code", "VARCHAR", "Code INSEE de la région du département."),
        ],
    ),
    "regions": (
        "Régions.",
        [
            ("region_code", "VARCHAR", "Code INSEE de la région."),
            ("region_name", "VARCHAR", "Nom de la région."),
        ],
    ),
}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def load_reference(
    con: duckdb.DuckDBPyConnection, reference_dir: Path = REFERENCE_DIR
) -> dict[str, int]:
    """(Re)create the ref.* tables from the Parquet files; return the row count of each."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ref")
    counts = {}
    for table, (table_comment, columns) in REFERENCE_TABLES.items():
        path = reference_dir / f"{table}.parquet"
        select = ", ".join(f"CAST({name} AS {sql_type}) AS {name}" for name, sql_type, _ in columns)
        con.execute(
            f"CREATE OR REPLACE TABLE ref.{table} AS "
            f"SELECT {select} FROM read_parquet({_literal(str(path))})"
        )
        con.execute(
            f"COMMENT ON TABLE ref.{table} IS "
            f"{_literal(f'{table_comment} Source : {REFERENCE_SOURCE}.')}"
        )
        for name, _, comment in columns:
            con.execute(f"COMMENT ON COLUMN ref.{table}.{name} IS {_literal(comment)}")
        counts[table] = con.sql(f"SELECT count(*) FROM ref.{table}").fetchall()[0][0]
    return counts
