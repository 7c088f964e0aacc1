"""FINESS establishments: the raw etalab extraction (etalab-cs1100502/cs1100507-stock-*.csv) and
the reshaped geolocated extract with a header line (etalab_small_20201231.csv).

Both give one row per establishment (FINESS ET) with its category, `structure_type` ("MSP",
"CDS" or "CPTS" for categories 603 "Maison de santé (L.6223-3)", 124 "Centre de Santé" and 604
"Communautés professionnelles territoriales de santé (CPTS)", else null), its INSEE commune code
and its coordinates when the file has them (coord_x / coord_y in the system named by
coord_system, e.g. LAMBERT_93; overseas coordinates use other projections).

The raw extraction writes the commune as 3 digits beside the département, with letters for
overseas: the 3 digits are the end of the INSEE code and their first digit repeats the last
digit of the département (9B Martinique + 207 → 97207 Ducos; 9J Wallis-et-Futuna + 613 → 98613
Uvea). Saint-Barthélemy and Saint-Martin are still filed under Guadeloupe with their pre-2007
codes (97123, 97127), which are mapped to today's 97701 and 97801.
"""

import csv
from pathlib import Path

import polars as pl

from pipelines.sources.contracts import Column, Contract
from pipelines.sources.public.common import (
    cast_checked,
    commune_codes_checked,
    decode_text,
    department_of,
    padded_code,
    read_whole,
    shown_name,
)
from pipelines.sources.reader import SOURCE_ROW, SourceFileError

STRUCTURE_TYPES = {"603": "MSP", "124": "CDS", "604": "CPTS"}
OVERSEAS_DEPARTMENTS = {
    "9A": "971", "9B": "972", "9C": "973", "9D": "974", "9E": "975", "9F": "976", "9J": "986",
}
FORMER_COMMUNE_CODES = {"97123": "97701", "97127": "97801"}

SCHEMA = {
    "finess_et": pl.String, "finess_ej": pl.String, "name": pl.String, "long_name": pl.String,
    "category_code": pl.String, "category_label": pl.String,
    "aggregate_category_code": pl.String, "aggregate_category_label": pl.String,
    "structure_type": pl.String, "siret": pl.String, "department_code": pl.String,
    "commune_code": pl.String, "postal_code": pl.String, "opened_on": pl.Date,
    "coord_x": pl.Float64, "coord_y": pl.Float64, "coord_system": pl.String,
}

# Fields of a raw `structureet` line (after the line type), in order.
_STRUCTURE_FIELDS = (
    "finess_et", "finess_ej", "name", "long_name", "complement_name", "complement_address",
    "street_number", "street_type", "street", "street_complement", "locality", "commune",
    "department", "department_label", "delivery_line", "phone", "fax", "category_code",
    "category_label", "aggregate_category_code", "aggregate_category_label", "siret",
    "ape_code", "mft_code", "mft_label", "sph_code", "sph_label", "opened_on", "authorised_on",
    "updated_on",
)
_GEOLOCATION_FIELDS = ("finess_et", "coord_x", "coord_y", "coord_source", "geocoded_on")
_MANIFEST = "finess;etalab"


def finess_commune_code(department: str, commune: str) -> str | None:
    """The INSEE code of a raw FINESS (département, 3-digit commune), or None if they do not
    fit together."""
    department = OVERSEAS_DEPARTMENTS.get(department, department)
    if not (len(commune) == 3 and commune.isdigit()):
        return None
    if len(department) == 2 and (department.isdigit() or department in ("2A", "2B")):
        code = department + commune
    elif len(department) == 3 and department[:2] in ("97", "98") and commune[0] == department[2]:
        code = department[:2] + commune
    else:
        return None
    return FORMER_COMMUNE_CODES.get(code, code)


def read_finess_extract(path: Path) -> pl.DataFrame:
    """The raw etalab extraction: a manifest line, then `structureet` lines and, in the
    geolocated edition, `geolocalisation` lines joined on the FINESS ET."""
    path = Path(path)
    shown = shown_name(path)
    lines = decode_text(path.read_bytes(), shown).splitlines()
    if not lines or not lines[0].startswith(_MANIFEST):
        raise SourceFileError(
            shown,
            f"Le fichier {shown} ne commence pas par la ligne « finess;etalab;… » des "
            "extractions FINESS (ligne 1) : ce n'est pas une extraction brute FINESS. Déposez "
            "le fichier etalab-cs1100502 (ou cs1100507) tel que publié sur data.gouv.fr.",
            line=1,
        )
    structures, geolocations = [], {}
    for number, record in enumerate(csv.reader(lines[1:], delimiter=";"), start=2):
        if not "".join(record).strip():
            continue
        kind = record[0]
        if kind == "structureet":
            fields = _fields(record, _STRUCTURE_FIELDS, shown, number)
            structures.append(_structure(fields, shown, number))
        elif kind == "geolocalisation":
            fields = _fields(record, _GEOLOCATION_FIELDS, shown, number)
            geolocations[fields["finess_et"]] = (number, fields)
        else:
            raise SourceFileError(
                shown,
                f"Dans le fichier {shown}, la ligne {number} est de type « {kind} » : seules "
                "les lignes « structureet » et « geolocalisation » des extractions cs1100502 "
                "et cs1100507 sont lues.",
                line=number, column="type de ligne",
            )
    if not structures:
        raise SourceFileError(
            shown, f"Le fichier {shown} ne contient aucune ligne « structureet ».", line=1
        )
    known = {s["finess_et"] for s in structures}
    orphan = next(((n, et) for et, (n, _) in geolocations.items() if et not in known), None)
    if orphan:
        raise SourceFileError(
            shown,
            f"Dans le fichier {shown}, la ligne {orphan[0]} géolocalise l'établissement "
            f"{orphan[1]}, absent des lignes « structureet » : le fichier est incomplet.",
            line=orphan[0], column="nofinesset",
        )
    for structure in structures:
        _, geolocation = geolocations.get(structure["finess_et"], (None, {}))
        structure |= {k: geolocation.get(k) for k in ("coord_x", "coord_y", "coord_source")}
    frame = pl.DataFrame(structures, schema={SOURCE_ROW: pl.Int64} | {
        k: pl.String for k in structures[0] if k != SOURCE_ROW
    })
    return _typed(frame, shown, {"opened_on": "dateouv", "coord_x": "coordxet",
                                 "coord_y": "coordyet"})


def _fields(record: list[str], names: tuple[str, ...], shown: str, line: int) -> dict:
    values = record[1:]
    if len(values) == len(names) + 1 and not values[-1].strip():
        values = values[:-1]
    if len(values) != len(names):
        raise SourceFileError(
            shown,
            f"Dans le fichier {shown}, la ligne {line} (« {record[0]} ») a {len(record)} champs "
            f"au lieu de {len(names) + 1} ({len(names) + 2} avec le « ; » final) : ligne "
            "tronquée ou modifiée. Téléchargez à nouveau l'extraction FINESS.",
            line=line,
        )
    return {name: value.strip() or None for name, value in zip(names, values, strict=True)}


def _structure(fields: dict, shown: str, line: int) -> dict:
    department, commune = fields["department"] or "", fields["commune"] or ""
    code = finess_commune_code(department, commune)
    if code is None:
        raise SourceFileError(
            shown,
            f"Dans le fichier {shown}, ligne {line}, colonnes « commune » et « departement » : "
            f"« {commune} » et « {department} » ne forment pas un code commune INSEE "
            f"(départements d'outre-mer connus : {', '.join(OVERSEAS_DEPARTMENTS)}).",
            line=line, column="commune",
        )
    delivery = (fields["delivery_line"] or "").split(" ", 1)[0]
    return {
        SOURCE_ROW: line,
        **{k: fields[k] for k in ("finess_et", "finess_ej", "name", "long_name",
                                  "category_code", "category_label",
                                  "aggregate_category_code", "aggregate_category_label",
                                  "siret", "opened_on")},
        "commune_code": code,
        "postal_code": delivery if len(delivery) == 5 and delivery.isdigit() else None,
    }


GEOLOCATED_CONTRACT = Contract(
    family="finess_geolocalise",
    label="extraction FINESS géolocalisée avec ligne d'en-tête",
    columns=(
        Column("finess_et", True, "N° FINESS de l'établissement", ("nofinesset",)),
        Column("finess_ej", False, "N° FINESS de l'entité juridique", ("nofinessej",)),
        Column("name", True, "Raison sociale", ("rs",)),
        Column("long_name", False, "Raison sociale longue", ("rslongue",)),
        Column("commune_code", True, "Code INSEE de la commune", ("cog",)),
        Column("postal_code", False, "Code postal", ("codepostal",)),
        Column("category_code", True, "Catégorie", ("categetab",)),
        Column("category_label", False, "Libellé long de la catégorie", ("liblongcategetab",)),
        Column("aggregate_category_code", False, "Agrégat de catégories", ("categretab",)),
        Column("aggregate_category_label", False, "Libellé de l'agrégat", ("libcategretab",)),
        Column("siret", False, "SIRET", ("siret",)),
        Column("opened_on", False, "Date d'ouverture", ("dateouvert",)),
        Column("coord_x", False, "Abscisse", ("coordx",)),
        Column("coord_y", False, "Ordonnée", ("coordy",)),
        Column("coord_source", False, "Source de la géolocalisation", ("sourcegeocod",)),
    ),
)


def read_finess_geolocated(path: Path) -> pl.DataFrame:
    """The reshaped extract: one line per establishment with a header, structure and
    geolocation fields side by side, the INSEE code in `cog`."""
    shown = shown_name(path)
    frame = read_whole(path, GEOLOCATED_CONTRACT)
    frame = commune_codes_checked(frame, "commune_code", shown, "cog")
    return _typed(frame, shown, {"opened_on": "dateouvert", "coord_x": "coordx",
                                 "coord_y": "coordy"})


def _typed(frame: pl.DataFrame, shown: str, headers: dict[str, str]) -> pl.DataFrame:
    frame = cast_checked(frame, "opened_on", pl.Date, shown, headers["opened_on"],
                         "une date AAAA-MM-JJ")
    for axis in ("coord_x", "coord_y"):
        frame = cast_checked(frame, axis, pl.Float64, shown, headers[axis], "une coordonnée",
                             non_negative=False)
    commune = pl.col("commune_code").replace(FORMER_COMMUNE_CODES)
    return frame.with_columns(
        padded_code("postal_code", 5),
        commune_code=commune,
        department_code=department_of(commune),
        structure_type=pl.col("category_code").replace_strict(STRUCTURE_TYPES, default=None),
        coord_system=pl.col("coord_source").str.split(",").list.last().str.strip_chars(),
    ).select(pl.col(name).cast(dtype) for name, dtype in SCHEMA.items())
