"""Controlled vocabularies as ref.* tables, so that staging maps free text with a SQL join."""

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.sources.contracts import (
    OTHER_PROFESSIONS,
    PROFESSIONS,
    STAGES,
    STRUCTURE_TYPES,
    Vocabulary,
    match_term,
    normalize_label,
    vocabulary_index,
)

# How an observatory's exports write a profession the vocabulary does not know, and which one it
# is, as its analysts say: `libelle_ecrit;profession[;commentaire]`, the profession named as the
# vocabulary knows it, followed (« Infirmier ») or set aside (« Psychologue »). In the landing
# folder, so that the fix travels with the files; a change of it types every month again
# (pipelines/ingest/plan.py).
PROFESSIONS_FILE = "reference/professions.csv"


@dataclass(frozen=True)
class ProfessionSpellings:
    followed: dict[str, str] = field(default_factory=dict)  # spelling → profession_code
    set_aside: dict[str, str] = field(default_factory=dict)  # spelling → other_profession_code
    problems: list[str] = field(default_factory=list)  # the lines not applied, and why


def read_profession_spellings(landing: Path) -> ProfessionSpellings:
    """The spellings of reference/professions.csv (UTF-8 or Windows-1252), normalised as the
    staging model normalises a profession; the lines it cannot apply, with their number."""
    path = landing / PROFESSIONS_FILE
    if not path.is_file():
        return ProfessionSpellings()
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")
    rows = csv.DictReader(io.StringIO(text), delimiter=";")
    if not {"libelle_ecrit", "profession"} <= {normalize_label(c) for c in rows.fieldnames or []}:
        return ProfessionSpellings(problems=[
            "ligne d'en-tête 1 : colonnes « libelle_ecrit;profession » attendues (séparateur ;)"])
    spellings = ProfessionSpellings()
    for line, row in enumerate(rows, start=2):
        cells = {normalize_label(k or ""): (v or "").strip() for k, v in row.items()
                 if isinstance(v, str)}
        written, profession = cells.get("libelle_ecrit", ""), cells.get("profession", "")
        if not written and not profession:
            continue
        code, other = match_term(PROFESSIONS, profession), match_term(OTHER_PROFESSIONS, profession)
        if not written or not (code or other):
            spellings.problems.append(
                f"ligne {line} : « {profession} » n'est pas une profession du vocabulaire "
                f"(suivies : {', '.join(t.label for t in PROFESSIONS.values())} ; écartées : "
                f"{', '.join(t.label for t in OTHER_PROFESSIONS.values())})"
                if written else f"ligne {line} : libellé écrit absent")
            continue
        (spellings.followed if code else spellings.set_aside)[normalize_label(written)] = \
            code or other
    return spellings

# Census files predating the 2016 reform name the old régions; each maps to the région that
# absorbed it (COG 2016).
FORMER_REGIONS = {
    "Alsace": "44", "Aquitaine": "75", "Auvergne": "84", "Basse-Normandie": "28",
    "Bourgogne": "27", "Champagne-Ardenne": "44", "Franche-Comté": "27",
    "Haute-Normandie": "28", "Languedoc-Roussillon": "76", "Limousin": "75", "Lorraine": "44",
    "Midi-Pyrénées": "76", "Nord-Pas-de-Calais": "32", "Picardie": "32",
    "Poitou-Charentes": "75", "Rhône-Alpes": "84", "Centre": "24",
}

# The abbreviations regional files write for a région (of more than two letters: "PC" or "NA"
# could be anything).
REGION_ABBREVIATIONS = {
    "NPDC": "32", "NPC": "32", "HDF": "32", "IDF": "11", "PACA": "93", "AURA": "84",
    "ARA": "84", "BFC": "27", "CVL": "24", "PDL": "52", "NAQ": "75",
}

VOCABULARIES = {
    "profession": PROFESSIONS,
    "other_profession": OTHER_PROFESSIONS,
    "stage": STAGES,
    "structure_type": STRUCTURE_TYPES,
}


def _terms(vocabulary: Vocabulary, code_column: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            code_column: list(vocabulary),
            "label": [t.label for t in vocabulary.values()],
            "sort_order": [t.order or i for i, t in enumerate(vocabulary.values(), start=1)],
        }
    )


def _synonyms(vocabulary: Vocabulary, code_column: str, added: dict[str, str],
              taken: dict[str, str]) -> pl.DataFrame:
    """The vocabulary's spellings, with those `added` and without those another vocabulary
    has `taken` (a spelling of the analysts' file belongs to the profession it names)."""
    index = {s: c for s, c in vocabulary_index(vocabulary).items() if s not in taken} | added
    return pl.DataFrame({"synonym": list(index), code_column: list(index.values())},
                        schema={"synonym": pl.String, code_column: pl.String})


def load_vocabularies(con: duckdb.DuckDBPyConnection,
                      spellings: ProfessionSpellings | None = None) -> dict[str, int]:
    """The vocabularies' ref tables; `spellings`, those reference/professions.csv adds."""
    spellings = spellings or ProfessionSpellings()
    added = {"profession": (spellings.followed, spellings.set_aside),
             "other_profession": (spellings.set_aside, spellings.followed)}
    counts = {}
    for name, vocabulary in VOCABULARIES.items():
        code_column = f"{name}_code" if name != "structure_type" else name
        plural = f"{name}s"
        for table, frame in (
            (f"ref.{plural}", _terms(vocabulary, code_column)),
            (f"ref.{name}_synonyms", _synonyms(vocabulary, code_column,
                                                *added.get(name, ({}, {})))),
        ):
            con.register("incoming", frame.to_arrow())
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM incoming")
            con.unregister("incoming")
            counts[table] = frame.height
    regions = con.execute("SELECT region_code, region_name FROM ref.regions").fetchall()
    names = [(normalize_label(n), c) for c, n in regions] + [
        (normalize_label(n), c) for n, c in {**FORMER_REGIONS, **REGION_ABBREVIATIONS}.items()
    ] + [(c, c) for c, _ in regions]
    frame = pl.DataFrame(names, schema=["synonym", "region_code"], orient="row").unique("synonym")
    con.register("incoming", frame.to_arrow())
    con.execute("CREATE OR REPLACE TABLE ref.region_synonyms AS SELECT * FROM incoming")
    con.unregister("incoming")
    counts["ref.region_synonyms"] = frame.height
    return counts
