"""The RPPS "extraction libre accès" (PS_LibreAcces_Personne_activite): one row per
professional × activity, `|`-separated with a trailing `|`.

Identifiers are pseudonymised as soon as the file is read: "Identifiant PP" (11-digit RPPS or
9-digit ADELI) becomes `pp_identifier_hmac` with `pp_identifier_format`, the HMAC the activity
files get for the same number; the structure's technical identifier, which embeds the
professional's number for a private practice ("C" + ADELI…), becomes `structure_id_hmac`.
"Identification nationale PP" (type + identifier again) and "Ancien identifiant de la structure"
are not kept, nor names, civilities, addresses, phones and e-mails: no table needs them.
"""

from pathlib import Path

import polars as pl

from pipelines.ingest.pseudonymise import pseudonymise
from pipelines.sources.contracts import (
    PROFESSIONS,
    Column,
    Contract,
    match_term,
    normalize_label,
)
from pipelines.sources.public.common import (
    commune_codes_checked,
    header_of,
    padded_code,
    read_whole,
    shown_name,
)

CONTRACT = Contract(
    family="rpps_libre_acces",
    label="extraction RPPS en libre accès (PS_LibreAcces_Personne_activite)",
    columns=(
        Column("identifier_type", False, "0 : ADELI, 8 : RPPS", ("Type d'identifiant PP",)),
        Column("pp_identifier", True, "RPPS ou ADELI", ("Identifiant PP",)),
        Column("national_identifier", False, "Type + identifiant",
               ("Identification nationale PP",)),
        Column("rpps_profession_code", True, "Code profession", ("Code profession",)),
        Column("profession_label", True, "Libellé profession", ("Libellé profession",)),
        Column("category_code", False, "", ("Code catégorie professionnelle",)),
        Column("category_label", False, "", ("Libellé catégorie professionnelle",)),
        Column("skill_type_code", False, "", ("Code type savoir-faire",)),
        Column("skill_type_label", False, "", ("Libellé type savoir-faire",)),
        Column("skill_code", False, "", ("Code savoir-faire",)),
        Column("skill_label", False, "", ("Libellé savoir-faire",)),
        Column("practice_mode_code", True, "L, S, B…", ("Code mode exercice",)),
        Column("practice_mode_label", False, "", ("Libellé mode exercice",)),
        Column("siret_site", False, "", ("Numéro SIRET site",)),
        Column("siren_site", False, "", ("Numéro SIREN site",)),
        Column("finess_site", False, "", ("Numéro FINESS site",)),
        Column("finess_legal_entity", False, "",
               ("Numéro FINESS établissement juridique",)),
        Column("structure_id", False, "", ("Identifiant technique de la structure",)),
        Column("postal_code", False, "", ("Code postal (coord. structure)",)),
        Column("commune_code", True, "Code INSEE de la commune d'exercice",
               ("Code commune (coord. structure)",)),
        Column("commune_label", False, "", ("Libellé commune (coord. structure)",)),
        Column("country_code", False, "", ("Code pays (coord. structure)",)),
        Column("department_code", False, "", ("Code Département (structure)",)),
        Column("registration_authority", False, "", ("Autorité d'enregistrement",)),
        Column("sector_code", False, "", ("Code secteur d'activité",)),
        Column("sector_label", False, "", ("Libellé secteur d'activité",)),
        Column("pharmacist_section_code", False, "", ("Code section tableau pharmaciens",)),
        Column("pharmacist_section_label", False, "", ("Libellé section tableau pharmaciens",)),
    ),
)

OUTPUT_COLUMNS = (
    "identifier_type", "pp_identifier_hmac", "pp_identifier_format", "rpps_profession_code",
    "profession_label", "profession_code", "category_code", "category_label", "skill_type_code",
    "skill_type_label", "skill_code", "skill_label", "practice_mode_code",
    "practice_mode_label", "siret_site", "siren_site", "finess_site", "finess_legal_entity",
    "structure_id_hmac", "postal_code", "commune_code", "commune_label", "country_code",
    "department_code", "registration_authority", "sector_code", "sector_label",
    "pharmacist_section_code", "pharmacist_section_label",
)
_GENERAL_PRACTICE = "medecine_generale"


def read_rpps_activity(path: Path, key: bytes) -> pl.DataFrame:
    """Every activity row, identifiers replaced by their HMAC under `key`.

    `profession_code` is the `contracts.PROFESSIONS` code: from the profession label, and for a
    doctor ("Code profession" 10) whose savoir-faire is general practice, "medecin_generaliste".
    """
    shown = shown_name(path)
    frame = read_whole(path, CONTRACT).drop("national_identifier")
    frame = pseudonymise(frame, "pp_identifier", key)
    frame = pseudonymise(frame, "structure_id", key).drop("structure_id_format")
    frame = commune_codes_checked(frame, "commune_code", shown,
                                  header_of(CONTRACT, "commune_code"))
    frame = frame.with_columns(padded_code("postal_code", 5))
    pairs = frame.select("profession_label", "skill_label").unique()
    codes = pairs.with_columns(
        profession_code=pl.Series(
            [_profession_code(p, s) for p, s in pairs.iter_rows()], dtype=pl.String
        )
    )
    frame = frame.join(codes, on=["profession_label", "skill_label"], how="left",
                       nulls_equal=True, maintain_order="left")
    return frame.select(OUTPUT_COLUMNS)


def _profession_code(profession: str | None, skill: str | None) -> str | None:
    code = match_term(PROFESSIONS, profession)
    if code is None and skill is not None and _GENERAL_PRACTICE in normalize_label(skill):
        return match_term(PROFESSIONS, "Médecin généraliste")
    return code
