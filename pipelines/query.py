"""Read-only SQL on the published warehouse, as `observatoire sql` runs it for analysts.

Three locks, from the outside in: each statement's kind is checked first, so that a refused query
gets a French explanation; the file is opened read-only; external access is disabled and the
configuration locked, so that no query can read or write another file, or undo those settings.
"""

import csv
import difflib
import re
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import duckdb

READ_ONLY_CONFIG = {"enable_external_access": False, "lock_configuration": True}
READING_STATEMENTS = {"SELECT", "EXPLAIN", "PRAGMA", "CALL", "MULTI"}  # MULTI: PIVOT
# The order analysts should read the schemas in: what to query first, what to leave alone last.
SCHEMA_ORDER = ("marts", "ref", "staging", "audit", "raw")

_WRITE = ("l'entrepôt publié est en lecture seule : {kw} modifierait ses données. Pour un calcul "
          "intermédiaire, écrivez WITH t AS (…) SELECT …, ou travaillez sur une copie du fichier.")
_DDL = ("l'entrepôt publié est en lecture seule : {kw} créerait ou modifierait une table, une vue "
        "ou une macro. Pour un calcul intermédiaire, écrivez WITH t AS (…) SELECT ….")
_FILES = ("{kw} lit ou écrit des fichiers, et observatoire sql n'accède qu'à l'entrepôt. Pour "
          "exporter un résultat : observatoire sql --csv \"SELECT …\" > resultat.csv")
_ATTACH = ("{kw} ouvrirait ou fermerait une autre base de données ; observatoire sql n'ouvre que "
           "l'entrepôt publié.")
_EXTENSIONS = "les extensions DuckDB ne peuvent être ni installées ni chargées ici ({kw})."
_CONFIG = ("la configuration est verrouillée ({kw}) : lecture seule, sans accès aux fichiers "
           "extérieurs.")
_NOT_READING = ("{kw} n'est pas une requête de lecture. Sont acceptées : SELECT, WITH, FROM, "
                "DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, PIVOT, PRAGMA.")
REFUSALS = {
    **dict.fromkeys(("INSERT", "UPDATE", "DELETE", "TRUNCATE", "MERGE"), _WRITE),
    **dict.fromkeys(("CREATE", "DROP", "ALTER", "COMMENT"), _DDL),
    **dict.fromkeys(("COPY", "EXPORT", "IMPORT"), _FILES),
    **dict.fromkeys(("ATTACH", "DETACH", "USE"), _ATTACH),
    **dict.fromkeys(("INSTALL", "LOAD", "FORCE"), _EXTENSIONS),
    **dict.fromkeys(("SET", "RESET"), _CONFIG),
}

_LEADING_COMMENTS = re.compile(r"\A(\s+|--[^\n]*\n?|/\*.*?\*/)*", re.S)
_LOCATION = re.compile(r"\n*LINE (\d+):(.*)", re.S)
_MISSING_TABLE = re.compile(r'Table with name "?([^"!]+?)"? does not exist')
_MISSING_COLUMN = re.compile(
    r'Referenced column "([^"]+)" not found|does not have a column named "([^"]+)"'
)
_MISSING_FUNCTION = re.compile(r'Function with name "?([^"!\s]+)"? does not exist')
_DID_YOU_MEAN = re.compile(r'Did you mean "([^"]+)"')
_FILE = re.compile(r'Cannot access (?:file|directory) "([^"]+)"')


class QueryRefused(Exception):
    """A query the warehouse will not run, with the French explanation to show."""


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True, config=READ_ONLY_CONFIG)


def _first_keyword(sql: str) -> str:
    words = _LEADING_COMMENTS.sub("", sql).split(None, 1)
    return words[0].rstrip(";").upper() if words else ""


def reading_statements(con: duckdb.DuckDBPyConnection, sql: str) -> list:
    """The query's statements, or QueryRefused for a syntax error or a statement that is no read."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(explain(error, con)) from error
    if not statements:
        raise QueryRefused("la requête est vide.")
    for statement in statements:
        keyword = _first_keyword(statement.query)
        if statement_kind(statement) not in READING_STATEMENTS or keyword in REFUSALS:
            reason = REFUSALS.get(keyword, _NOT_READING)
            raise QueryRefused(reason.format(kw=keyword or statement_kind(statement)))
    return statements


def statement_kind(statement) -> str:
    try:
        return statement.type.name
    except ValueError:  # a statement type the Python API does not know (UPDATE EXTENSIONS)
        return "INVALID"


def _relations(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        """SELECT schema_name, table_name FROM duckdb_tables()
           WHERE database_name = current_database()
           UNION ALL
           SELECT schema_name, view_name FROM duckdb_views()
           WHERE database_name = current_database() AND NOT internal"""
    ).fetchall()
    rank = {schema: i for i, schema in enumerate(SCHEMA_ORDER)}
    return [f"{s}.{t}" for s, t in sorted(rows, key=lambda r: (rank.get(r[0], 99), r[1]))]


def closest_relations(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """The tables and views whose name is closest to `name`, schema-qualified, raw last."""
    relations = _relations(con)
    name = name.lower()
    if "." in name:
        return difflib.get_close_matches(name, relations, n=3, cutoff=0.6)
    by_table: dict[str, list[str]] = {}
    for relation in relations:
        by_table.setdefault(relation.split(".", 1)[1], []).append(relation)
    if name in by_table:
        return by_table[name]
    close = difflib.get_close_matches(name, list(by_table), n=3, cutoff=0.6)
    return [relation for table in close for relation in by_table[table]][:3]


def _quoted(names: list[str]) -> str:
    return " ou ".join(f"« {n} »" for n in names)


def explain(error: duckdb.Error, con: duckdb.DuckDBPyConnection) -> str:
    """DuckDB's error in French, with the closest existing name where one was mistyped."""
    message = str(error)
    location = _LOCATION.search(message)
    where = ""
    if location:
        where = f"\nligne {location.group(1)} :{location.group(2).rstrip()}"
        message = message[: location.start()]
    if isinstance(error, duckdb.ParserException):
        near = re.search(r'at or near "([^"]*)"', message)
        detail = f" près de « {near.group(1)} »" if near else f" ({message})"
        return f"erreur de syntaxe SQL{detail}.{where}"
    if isinstance(error, duckdb.PermissionException):
        target = _FILE.search(message)
        named = f" (« {target.group(1)} »)" if target else ""
        return (f"lecture ou écriture d'un fichier extérieur à l'entrepôt{named} : observatoire "
                "sql n'accède qu'à l'entrepôt publié (read_csv, read_parquet, glob… sont "
                f"désactivés).{where}")
    if match := _MISSING_TABLE.search(message):
        name = match.group(1)
        close = closest_relations(con, name)
        hint = f" Vouliez-vous dire {_quoted(close)} ?" if close else ""
        return (f"table ou vue inconnue « {name} ».{hint} Les tables se nomment schéma.table "
                "(marts, ref, staging, audit) ; liste : SHOW ALL TABLES, ou docs/warehouse.md."
                f"{where}")
    if match := _MISSING_COLUMN.search(message):
        name = match.group(1) or match.group(2)
        bindings = message.split("Candidate bindings:", 1)[-1] if "Candidate" in message else ""
        candidates = list(dict.fromkeys(re.findall(r'"([^"]+)"', bindings)))
        close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5) or candidates[:5]
        hint = f" Vouliez-vous dire {_quoted(close)} ?" if close else ""
        return f"colonne inconnue « {name} ».{hint}{where}"
    if match := _MISSING_FUNCTION.search(message):
        suggestion = _DID_YOU_MEAN.search(message)
        hint = f" Vouliez-vous dire « {suggestion.group(1)} » ?" if suggestion else ""
        return f"fonction inconnue « {match.group(1)} ».{hint}{where}"
    return f"DuckDB a refusé la requête : {message.strip()}{where}"


def _text(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "vrai" if value else "faux"
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".") if value == value else "NaN"
    return str(value).replace("\n", " ")


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def write_table(cursor: duckdb.DuckDBPyConnection, out: TextIO, max_rows: int) -> None:
    """An aligned table (numbers to the right), at most `max_rows` rows, then the row count."""
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchmany(max_rows + 1)
    more = len(rows) > max_rows
    rows = rows[:max_rows]
    cells = [[_text(v) for v in row] for row in rows]
    widths = [max([len(n), *(len(c[i]) for c in cells)]) for i, n in enumerate(names)]
    right = [
        any(r[i] is not None for r in rows)
        and all(_is_number(r[i]) for r in rows if r[i] is not None)
        for i in range(len(names))
    ]
    out.write(" | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip() + "\n")
    out.write("-+-".join("-" * w for w in widths) + "\n")
    for row in cells:
        line = " | ".join(
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True)
        )
        out.write(line.rstrip() + "\n")
    if more:
        out.write(f"({max_rows} premières lignes ; --max-rows N pour en afficher plus, --csv pour "
                  "tout exporter)\n")
    else:
        out.write(f"({len(rows)} ligne{'s' if len(rows) > 1 else ''})\n")


def write_csv(cursor: duckdb.DuckDBPyConnection, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(d[0] for d in cursor.description)
    while rows := cursor.fetchmany(10_000):
        writer.writerows(
            ["" if v is None else str(v).lower() if isinstance(v, bool) else v for v in row]
            for row in rows
        )


def run_query(
    path: Path, sql: str, out: TextIO, as_csv: bool = False, max_rows: int = 1000
) -> None:
    """Run every statement of `sql` on the published file and write each result to `out`."""
    con = connect_read_only(path)
    try:
        for number, statement in enumerate(reading_statements(con, sql)):
            try:
                _write_result(con.execute(statement), statement_kind(statement), out, as_csv,
                              max_rows, separate=number > 0)
            except duckdb.Error as error:
                raise QueryRefused(explain(error, con)) from error
    finally:
        con.close()


def _write_result(cursor, kind: str, out: TextIO, as_csv: bool, max_rows: int,
                  separate: bool) -> None:
    if cursor.description is None:
        return
    if separate:
        out.write("\n")
    if kind == "EXPLAIN":
        out.write("\n".join(row[-1] for row in cursor.fetchall()))
    elif as_csv:
        write_csv(cursor, out)
    else:
        write_table(cursor, out, max_rows)
