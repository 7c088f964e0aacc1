"""data.ameli "Démographie des professionnels de santé - effectifs et densités": the CSV export
(toutes_specialites_departement.csv, 2024) and the older CNAM workbook
(Effectif_et_densite_par_departement_en_2018.xls, one sheet per family of professions).

Both give one row per year × profession × territory × age group × sex:
- geo_level is "departement", "region" or "france" (the CSV codes aggregates with 999, France
  being region 99); the workbook adds "france_metropolitaine" and "outre_mer". region_code and
  department_code are null above their level; the workbook's region comes from the reference
  geography.
- density_per_100k is the density as published, per 100,000 inhabitants; in the CSV a few
  professions are related to a sub-population instead (pédiatres: children; gynécologues: women;
  sages-femmes: women aged 15-49), as ameli documents.
- profession_code is the `contracts.PROFESSIONS` code the label names, else null. Aggregate and
  detailed labels can name the same code ("Ensemble des médecins généralistes" and "Médecins
  généralistes (hors MEP)"; "01- OMNIPRATICIENS" and "01- Médecine générale"): choose by label
  before summing.
"""

import re
from pathlib import Path

import polars as pl
import xlrd

from pipelines.settings import REFERENCE_DIR
from pipelines.sources.contracts import (
    PROFESSIONS,
    Column,
    Contract,
    normalize_label,
    vocabulary_index,
)
from pipelines.sources.public.common import (
    cast_checked,
    header_of,
    padded_code,
    read_whole,
    refuse_first,
    shown_name,
)
from pipelines.sources.reader import SourceFileError

CSV_CONTRACT = Contract(
    family="ameli_effectifs_densites",
    label="effectifs et densités des professionnels de santé, data.ameli",
    columns=(
        Column("year", True, "Année", ("annee",)),
        Column("profession_label", True, "Profession", ("profession_sante",)),
        Column("region_code", True, "Code région (99 : France)", ("region",)),
        Column("department_code", True, "Code département (999 : agrégat)", ("departement",)),
        Column("age_group", False, "Classe d'âge", ("classe_age",)),
        Column("sex", False, "Sexe", ("libelle_sexe",)),
        Column("headcount", True, "Effectif", ("effectif",)),
        Column("density_per_100k", True, "Densité pour 100 000", ("densite",)),
    ),
)

SCHEMA = {
    "year": pl.Int32, "profession_label": pl.String, "profession_code": pl.String,
    "geo_level": pl.String, "region_code": pl.String, "department_code": pl.String,
    "age_group": pl.String, "sex": pl.String, "headcount": pl.Int64,
    "density_per_100k": pl.Float64,
}

# Labels of the 2018 workbook that the vocabulary does not spell (after the "NN- " prefix).
_WORKBOOK_LABELS = {
    "Masseurs-kinésithérapeutes-rééducateurs": "masseur_kinesitherapeute",
    "Pédicures": "pedicure_podologue",
}
_PROFESSION_INDEX = vocabulary_index(PROFESSIONS) | {
    normalize_label(label): code for label, code in _WORKBOOK_LABELS.items()
}
_SPECIALTY_PREFIX = re.compile(r"^\s*\d+\s*-\s*")
_DEPARTMENT = r"^(\d{2}|2[AB]|97\d)$"
_AGGREGATE = "999"
_FRANCE_REGION = "99"


def profession_code(label: str | None) -> str | None:
    """The PROFESSIONS code of an ameli or CNAM label ("24- Infirmiers" → "infirmier")."""
    if label is None:
        return None
    return _PROFESSION_INDEX.get(normalize_label(_SPECIALTY_PREFIX.sub("", label)))


def read_ameli_densities(path: Path) -> pl.DataFrame:
    """The data.ameli CSV export, every row kept (aggregates tagged by geo_level)."""
    shown = shown_name(path)
    frame = read_whole(path, CSV_CONTRACT)
    for column, dtype, expected in (
        ("year", pl.Int32, "une année"),
        ("headcount", pl.Int64, "un effectif (nombre entier positif)"),
        ("density_per_100k", pl.Float64, "une densité (nombre positif)"),
    ):
        frame = cast_checked(frame, column, dtype, shown, header_of(CSV_CONTRACT, column),
                             expected)
    frame = frame.with_columns(padded_code("region_code", 2), padded_code("department_code", 2))
    department, region = pl.col("department_code"), pl.col("region_code")
    refuse_first(
        frame, department.is_null() | ~department.str.contains(f"{_DEPARTMENT}|^{_AGGREGATE}$"),
        "department_code", shown, "departement",
        f"un code département (ou {_AGGREGATE} pour un agrégat)",
    )
    refuse_first(frame, region.is_null() | ~region.str.contains(r"^\d{2}$"), "region_code",
                 shown, "region", "un code région à deux chiffres")
    aggregate = department == _AGGREGATE
    france = aggregate & (region == _FRANCE_REGION)
    frame = frame.with_columns(
        geo_level=pl.when(france).then(pl.lit("france"))
        .when(aggregate).then(pl.lit("region")).otherwise(pl.lit("departement")),
        region_code=pl.when(~france).then(region),
        department_code=pl.when(~aggregate).then(department),
    )
    return _with_profession_codes(frame)


def read_cnam_densities_xls(path: Path) -> pl.DataFrame:
    """The CNAM workbook: every sheet holding DEPARTEMENT and EFFECTIF columns, every row."""
    shown = shown_name(path)
    try:
        book = xlrd.open_workbook(path)
    except Exception as exc:  # xlrd raises XLRDError, struct.error, AssertionError…
        raise SourceFileError(
            shown,
            f"Le fichier {shown} n'est pas un classeur Excel .xls lisible "
            f"({str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}). "
            "Téléchargez à nouveau le fichier original de l'Assurance Maladie.",
        ) from exc
    year = _workbook_year(book, Path(path), shown)
    rows = [row for sheet in book.sheets() for row in _sheet_rows(sheet, shown)]
    if not rows:
        raise SourceFileError(
            shown,
            f"Le fichier {shown} n'a aucune feuille dont la première ligne contienne les "
            "colonnes « DEPARTEMENT », « EFFECTIF » et « DENSITE » : ce n'est pas le fichier "
            "« Effectif et densité par département » de l'Assurance Maladie.",
        )
    regions = dict(
        pl.read_parquet(REFERENCE_DIR / "departements.parquet")
        .select("department_code", "region_code").iter_rows()
    )
    frame = pl.DataFrame(
        rows, orient="row",
        schema={"profession_label": pl.String, "geo_level": pl.String,
                "department_code": pl.String, "headcount": pl.Int64,
                "density_per_100k": pl.Float64},
    ).with_columns(
        year=pl.lit(year, pl.Int32),
        region_code=pl.col("department_code").replace_strict(regions, default=None),
        age_group=pl.lit("tout_age"),
        sex=pl.lit("tout sexe"),
    )
    return _with_profession_codes(frame)


def _with_profession_codes(frame: pl.DataFrame) -> pl.DataFrame:
    labels = frame.get_column("profession_label").drop_nulls().unique().to_list()
    codes = {label: profession_code(label) for label in labels}
    return frame.with_columns(
        profession_code=pl.col("profession_label").replace_strict(
            codes, default=None, return_dtype=pl.String
        )
    ).select(pl.col(name).cast(dtype) for name, dtype in SCHEMA.items())


def _workbook_year(book: xlrd.Book, path: Path, shown: str) -> int:
    """The "Année :" cell of the notice sheet, else a year in the file name."""
    for sheet in book.sheets():
        for r in range(min(sheet.nrows, 10)):
            cells = sheet.row(r)
            for label, value in zip(cells, cells[1:], strict=False):
                if (label.ctype == xlrd.XL_CELL_TEXT and normalize_label(label.value) == "annee"
                        and value.ctype == xlrd.XL_CELL_NUMBER):
                    return int(value.value)
    found = re.search(r"(?<!\d)(19|20)\d{2}(?!\d)", path.name)
    if found:
        return int(found.group())
    raise SourceFileError(
        shown,
        f"Le fichier {shown} ne dit pas l'année de ses effectifs : ni cellule « Année : » dans "
        "la feuille « Lisez moi », ni année dans le nom du fichier. Ajoutez l'année au nom du "
        "fichier (par exemple « ..._en_2018.xls »).",
    )


def _sheet_rows(sheet: xlrd.sheet.Sheet, shown: str) -> list[tuple]:
    if sheet.nrows == 0:
        return []
    header = [normalize_label(str(v)) for v in sheet.row_values(0)]
    try:
        department = header.index("departement")
        headcount = header.index("effectif")
        density = next(i for i, h in enumerate(header) if h.startswith("densite"))
    except (ValueError, StopIteration):
        return []
    profession = next(i for i in range(len(header)) if i not in (department, headcount, density))
    rows = []
    for r in range(1, sheet.nrows):
        cells = sheet.row(r)
        if all(c.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) for c in cells):
            continue
        where = (shown, sheet.name, r + 1)
        level, code = _territory(cells[department], where)
        rows.append((
            str(cells[profession].value).strip(), level, code,
            int(_number(cells[headcount], where, "EFFECTIF", integer=True)),
            _number(cells[density], where, "DENSITE /100 000 hab."),
        ))
    return rows


_TOTALS = {
    "total_france_entiere": "france",
    "total_france_metropolitaine": "france_metropolitaine",
    "total_outre_mer": "outre_mer",
}


def _territory(cell: xlrd.sheet.Cell, where: tuple[str, str, int]) -> tuple[str, str | None]:
    text = str(cell.value).strip()
    found = re.match(r"^(\d{1,3}|2[AB])\s*-", text)
    if found and re.match(_DEPARTMENT, found.group(1).zfill(2)):
        return "departement", found.group(1).zfill(2)
    if normalize_label(text) in _TOTALS:
        return _TOTALS[normalize_label(text)], None
    raise _cell_error(where, "DEPARTEMENT", text,
                      "un département écrit « 16- Charente » ni une ligne « TOTAL … »")


def _number(cell: xlrd.sheet.Cell, where: tuple[str, str, int], header: str, *,
            integer: bool = False) -> float:
    value = cell.value
    if cell.ctype != xlrd.XL_CELL_NUMBER or value < 0 or (integer and not value.is_integer()):
        expected = "un nombre entier positif" if integer else "un nombre positif"
        raise _cell_error(where, header, value, expected)
    return float(value)


def _cell_error(where: tuple[str, str, int], header: str, value: object,
                expected: str) -> SourceFileError:
    shown, sheet, line = where
    return SourceFileError(
        shown,
        f"Dans le fichier {shown} (feuille « {sheet} »), ligne {line}, colonne « {header} » : "
        f"la valeur « {value} » n'est pas {expected}. Téléchargez à nouveau le fichier "
        "original de l'Assurance Maladie.",
        line=line, column=header,
    )

