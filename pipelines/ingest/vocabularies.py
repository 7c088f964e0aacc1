"""Controlled vocabularies as ref.* tables, so that staging maps free text with a SQL join."""

import duckdb
import polars as pl

from pipelines.sources.contracts import (
    OTHER_PROFESSIONS,
    PROFESSIONS,
    STAGES,
    STRUCTURE_TYPES,
    Vocabulary,
    normalize_label,
    vocabulary_index,
)

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


def _synonyms(vocabulary: Vocabulary, code_column: str) -> pl.DataFrame:
    index = vocabulary_index(vocabulary)
    return pl.DataFrame({"synonym": list(index), code_column: list(index.values())})


def load_vocabularies(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    counts = {}
    for name, vocabulary in VOCABULARIES.items():
        code_column = f"{name}_code" if name != "structure_type" else name
        plural = f"{name}s"
        for table, frame in (
            (f"ref.{plural}", _terms(vocabulary, code_column)),
            (f"ref.{name}_synonyms", _synonyms(vocabulary, code_column)),
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
