"""A warehouse that explains itself: French comments, the analysts' views, the data dictionary.

The publish step creates the views of `models/views/` and writes the comments of
`models/comments.yaml` as DuckDB COMMENTs, so that every client (DuckDB CLI, DBeaver, a notebook,
`observatoire sql`) shows them. `docs/warehouse.md` is rendered from those comments as read back
from a published file, with the example queries of `docs/queries/`.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import yaml

from pipelines.query import SCHEMA_ORDER
from pipelines.settings import MODELS_DIR, REPO_ROOT
from pipelines.sources.contracts import CONTRACTS
from pipelines.sql import define_macros

COMMENTS_PATH = MODELS_DIR / "comments.yaml"
VIEWS_DIR = MODELS_DIR / "views"
VIEWS_SCHEMA = "marts"
QUERIES_DIR = REPO_ROOT / "docs" / "queries"
RAW_NOTICE = "Couche brute interne (texte tel que lu) : préférez staging.* et marts.*"

_OBJECTS_SQL = """
SELECT schema_name, table_name, 'table' AS table_type, comment
FROM duckdb_tables() WHERE database_name = current_database() AND NOT internal AND NOT temporary
UNION ALL
SELECT schema_name, view_name, 'vue', comment
FROM duckdb_views() WHERE database_name = current_database() AND NOT internal AND NOT temporary
"""

_COLUMNS_SQL = """
SELECT schema_name, table_name, column_index, column_name, data_type, comment
FROM duckdb_columns() WHERE database_name = current_database() AND NOT internal
"""


@dataclass(frozen=True)
class CommentReport:
    uncommented: list[str]  # tables and columns of the file that still carry no comment
    unknown: list[str]  # entries of comments.yaml that name no table or column of the file


@dataclass(frozen=True)
class ExampleQuery:
    title: str
    explanation: str
    sql: str  # without the title and explanation lines
    path: Path


def load_comments(path: Path = COMMENTS_PATH) -> dict:
    # libyaml's safe loader when PyYAML was built with it: 90 ms of each publication in Python
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """(Re)create the views of models/views/, one file each, in the marts schema. They may call
    the models' macros (period_order), defined here first: a night that only publishes runs no
    model, and its file may come from a release without them (a deployment that kept its
    OBSERVATOIRE_CODE_VERSION)."""
    define_macros(con)
    names = []
    for path in sorted(VIEWS_DIR.glob("*.sql")):
        name = f"{VIEWS_SCHEMA}.{path.stem}"
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {path.read_text(encoding='utf-8')}")
        names.append(name)
    return names


def _live_objects(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list[str]]]:
    """'schema.table' → (table type, its columns in order)."""
    objects = {f"{s}.{t}": (kind, []) for s, t, kind, _ in con.execute(_OBJECTS_SQL).fetchall()}
    for schema, table, _, column, _, _ in con.execute(
        _COLUMNS_SQL + " ORDER BY schema_name, table_name, column_index"
    ).fetchall():
        objects[f"{schema}.{table}"][1].append(column)
    return objects


def _contract_comments() -> dict[str, dict[str, str]]:
    return {
        f"raw.{family}": {
            c.name: f"{c.description.rstrip('.')} : texte tel que lu dans le fichier déposé."
            for c in contract.columns
        }
        for family, contract in CONTRACTS.items()
    }


def apply_comments(
    con: duckdb.DuckDBPyConnection, comments: dict | None = None
) -> CommentReport:
    """Write the French comments on every table, view and column they describe.

    Entries naming an object the file lacks are reported, never fatal: a stale comment must not
    stop a night from publishing.
    """
    comments = comments if comments is not None else load_comments()
    tables = comments.get("tables") or {}
    lineage = comments.get("lineage_columns") or {}
    contracts = _contract_comments()
    objects = _live_objects(con)
    # only what a table replaced tonight lost: a night copies the last published file, whose
    # other tables kept their comments (writing all 400 took most of the publish step)
    present = {f"{s}.{t}": c or "" for s, t, _, c in con.execute(_OBJECTS_SQL).fetchall()}
    present |= {f"{s}.{t}.{column}": c or "" for s, t, _, column, _, c in
                con.execute(_COLUMNS_SQL).fetchall()}
    con.execute("BEGIN TRANSACTION")
    for name, (kind, columns) in objects.items():
        entry = tables.get(name) or {}
        described = entry.get("columns") or {}
        table_comment = (entry.get("comment") or "").strip()
        if name.startswith("raw."):
            table_comment = f"{RAW_NOTICE}. {table_comment}".strip()
        if table_comment and present.get(name) != table_comment:
            keyword = "VIEW" if kind == "vue" else "TABLE"
            con.execute(f"COMMENT ON {keyword} {name} IS {_literal(table_comment)}")
        for column in columns:
            text = (described.get(column) or lineage.get(column)
                    or contracts.get(name, {}).get(column) or "").strip()
            if text and present.get(f"{name}.{column}") != text:
                con.execute(f'COMMENT ON COLUMN {name}."{column}" IS {_literal(text)}')
    con.execute("COMMIT")
    return CommentReport(uncommented=uncommented(con), unknown=unknown_entries(con, comments))


def unknown_entries(con: duckdb.DuckDBPyConnection, comments: dict | None = None) -> list[str]:
    """Entries of comments.yaml naming a table or column the file does not have."""
    comments = comments if comments is not None else load_comments()
    objects = _live_objects(con)
    unknown = []
    for name, entry in (comments.get("tables") or {}).items():
        if name not in objects:
            unknown.append(name)
            continue
        columns = objects[name][1]
        unknown += [f"{name}.{c}" for c in (entry or {}).get("columns") or {} if c not in columns]
    return unknown


def uncommented(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every table, view and column of the file without a comment, as schema.table[.column]."""
    missing = [
        f"{schema}.{table}"
        for schema, table, _, comment in con.execute(_OBJECTS_SQL).fetchall()
        if not (comment or "").strip()
    ]
    missing += [
        f"{schema}.{table}.{column}"
        for schema, table, _, column, _, comment in con.execute(_COLUMNS_SQL).fetchall()
        if not (comment or "").strip()
    ]
    return sorted(missing)


def _schema_rank(schema: str) -> int:
    return SCHEMA_ORDER.index(schema) if schema in SCHEMA_ORDER else len(SCHEMA_ORDER)


def dictionary(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The data dictionary: one row per column of every table and view, views first per schema."""
    objects = pl.DataFrame(
        con.execute(_OBJECTS_SQL).fetchall(),
        schema={"schema_name": pl.String, "table_name": pl.String, "table_type": pl.String,
                "table_comment": pl.String},
        orient="row",
    )
    columns = pl.DataFrame(
        con.execute(_COLUMNS_SQL).fetchall(),
        schema={"schema_name": pl.String, "table_name": pl.String, "column_index": pl.Int64,
                "column_name": pl.String, "data_type": pl.String, "column_comment": pl.String},
        orient="row",
    )
    return (
        objects.join(columns, on=["schema_name", "table_name"], how="left")
        .with_columns(
            pl.col("schema_name")
            .map_elements(_schema_rank, return_dtype=pl.Int64)
            .alias("_schema_rank")
        )
        .sort("_schema_rank", pl.col("table_type") != "vue", "table_name", "column_index")
        .drop("_schema_rank")
        .select("schema_name", "table_name", "table_type", "table_comment", "column_index",
                "column_name", "data_type", "column_comment")
    )


def example_queries(folder: Path = QUERIES_DIR) -> list[ExampleQuery]:
    """docs/queries/*.sql: a `-- ` title line, then `-- ` explanation lines, then the SQL."""
    queries = []
    for path in sorted(folder.glob("*.sql")):
        lines = path.read_text(encoding="utf-8").splitlines()
        header = []
        while lines and lines[0].startswith("--"):
            header.append(lines.pop(0).removeprefix("--").strip())
        queries.append(
            ExampleQuery(header[0], " ".join(header[1:]), "\n".join(lines).strip(), path)
        )
    return queries


def _cell(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").replace("|", "\\|").strip()


def render_markdown(con: duckdb.DuckDBPyConnection, comments: dict | None = None) -> str:
    """docs/warehouse.md, from the comments as read back from a published file."""
    comments = comments if comments is not None else load_comments()
    schemas = comments.get("schemas") or {}
    entries = dictionary(con)
    lines = [
        "# L'entrepôt observatoire",
        "",
        "<!-- Fichier généré par pipelines/publish/documentation.py à partir des commentaires de "
        "l'entrepôt (models/comments.yaml) et des requêtes de docs/queries/ : ne pas modifier à "
        "la main. Régénérer : UPDATE_SNAPSHOTS=1 python3 observatoire.py test "
        "tests/test_warehouse_docs.py -->",
        "",
        "Chaque nuit publie un fichier DuckDB, `var/warehouse/observatoire.duckdb` (ou "
        "`<OBSERVATOIRE_HOME>/warehouse/observatoire.duckdb`). Chaque table, vue et colonne y "
        "porte un commentaire en français : ce qu'elle contient, son unité, sa source. Ce "
        "document les reprend.",
        "",
        "## Ouvrir l'entrepôt",
        "",
        "Ouvrez toujours le fichier **en lecture seule** : la nuit ne l'écrit jamais, elle le "
        "remplace en une fois par un fichier neuf. Une session ouverte garde les données de la "
        "veille ; reconnectez-vous pour lire la dernière publication.",
        "",
        "- `observatoire sql \"SELECT …\"` (ou `--file requete.sql`, ou `-` pour lire "
        "l'entrée standard ; `--csv` pour un export) : lecture seule, sans accès aux fichiers "
        "extérieurs.",
        "- Client DuckDB en ligne de commande (`pip install duckdb-cli`) : "
        "`duckdb -readonly var/warehouse/observatoire.duckdb`.",
        "- DBeaver : connexion DuckDB sur le fichier, case « Lecture seule » cochée.",
        "- Python : `duckdb.connect(\"var/warehouse/observatoire.duckdb\", read_only=True)`.",
        "",
        "Le fichier s'ouvre avec toute version de DuckDB depuis la 1.0.",
        "",
        "Les tables sont rangées dans des schémas : écrivez `marts.indicator_values`, pas "
        "`indicator_values`. Pour retrouver une colonne, cherchez dans les commentaires "
        "(premier exemple ci-dessous).",
        "",
        "## Schémas",
        "",
        "| Schéma | Contenu |",
        "|---|---|",
    ]
    present = entries["schema_name"].unique().to_list()
    for schema in sorted(present, key=_schema_rank):
        lines.append(f"| `{schema}` | {_cell(schemas.get(schema))} |")
    lines += ["", "## Vues pour les questions courantes", ""]
    views = entries.filter(pl.col("table_type") == "vue").unique(
        ["schema_name", "table_name"], maintain_order=True
    )
    for view in views.iter_rows(named=True):
        lines.append(f"- `{view['schema_name']}.{view['table_name']}` : "
                     f"{_cell(view['table_comment'])}")
    lines += ["", "## Exemples de requêtes", ""]
    for number, query in enumerate(example_queries(), start=1):
        relative = query.path.relative_to(REPO_ROOT).as_posix()
        lines += [f"### {number}. {query.title}", ""]
        if query.explanation:
            lines += [query.explanation, ""]
        lines += [f"Fichier `{relative}` : `observatoire sql --file {relative}`.", "",
                  "```sql", query.sql, "```", ""]
    lines += ["## Dictionnaire des données", ""]
    for schema in sorted(present, key=_schema_rank):
        lines += [f"### Schéma `{schema}`", "", _cell(schemas.get(schema)), ""]
        in_schema = entries.filter(pl.col("schema_name") == schema)
        for (table,), rows in in_schema.group_by("table_name", maintain_order=True):
            first = rows.row(0, named=True)
            kind = " (vue)" if first["table_type"] == "vue" else ""
            lines += [f"#### `{schema}.{table}`{kind}", "", _cell(first["table_comment"]), "",
                      "| Colonne | Type | Description |", "|---|---|---|"]
            for row in rows.iter_rows(named=True):
                lines.append(f"| `{row['column_name']}` | {row['data_type']} | "
                             f"{_cell(row['column_comment'])} |")
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
