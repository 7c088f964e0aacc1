"""A CartoSanté export (for example the "Zonage infirmiers" by commune): title lines above a
header "Code;Libellé;<indicator>…", one row per commune or municipal arrondissement.

Returned long, one row per commune × indicator column: commune_code, commune_name, indicator
(the column header, e.g. "Zonage infirmiers") and value as published (text: zoning classes
such as "3_intermediaire", or numbers, which the caller types), null where CartoSanté writes
"N/A - résultat non disponible".
"""

from pathlib import Path

import polars as pl

from pipelines.sources.contracts import Column, Contract, normalize_label
from pipelines.sources.public.common import commune_codes_checked, read_whole, shown_name
from pipelines.sources.reader import SourceFileError, read_source_file

BASE_CONTRACT = Contract(
    family="cartosante",
    label="export CartoSanté par commune",
    columns=(
        Column("commune_code", True, "Code INSEE de la commune", ("Code", "Code commune")),
        Column("commune_name", True, "Nom de la commune", ("Libellé", "Libellé commune")),
    ),
)
_NOT_AVAILABLE = "N/A"


def read_cartosante_export(path: Path) -> pl.DataFrame:
    """Every commune row of the export; the indicator columns are whatever follows
    « Code » and « Libellé »."""
    shown = shown_name(path)
    indicators = read_source_file(path, BASE_CONTRACT).ignored_columns
    if not indicators:
        raise SourceFileError(
            shown,
            f"Le fichier {shown} n'a aucune colonne d'indicateur après « Code » et « Libellé » : "
            "exportez depuis CartoSanté le tableau avec au moins un indicateur.",
            column="Libellé",
        )
    if len({normalize_label(name) for name in indicators}) < len(indicators):
        raise SourceFileError(
            shown,
            f"Le fichier {shown} a deux colonnes d'indicateur au même nom "
            f"({', '.join(indicators)}) : renommez l'une d'elles.",
        )
    contract = Contract(
        BASE_CONTRACT.family, BASE_CONTRACT.label,
        BASE_CONTRACT.columns + tuple(Column(name, True, name) for name in indicators),
    )
    frame = commune_codes_checked(read_whole(path, contract), "commune_code", shown, "Code")
    value = pl.col("value")
    return (
        frame.unpivot(index=["commune_code", "commune_name"], on=list(indicators),
                      variable_name="indicator")
        .with_columns(pl.when(~value.str.starts_with(_NOT_AVAILABLE)).then(value).alias("value"))
    )
