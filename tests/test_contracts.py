import csv

import duckdb
import pytest
from support import real_data

from pipelines.sources.contracts import (
    CONTRACTS,
    PROFESSIONS,
    STAGES,
    STRUCTURE_TYPES,
    Column,
    Contract,
    match_term,
    normalize_label,
    vocabulary_index,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Code commune INSEE", "code_commune_insee"),
        (" Commune(s) ", "commune_s"),
        ("Période", "periode"),
        ("En cours d'opérationnalisation", "en_cours_d_operationnalisation"),
        ("DENSITE /100 000 hab.", "densite_100_000_hab"),
        ("__Nb--actes__", "nb_actes"),
        ("Équivalent temps plein", "equivalent_temps_plein"),
    ],
)
def test_normalize_label(text, expected):
    assert normalize_label(text) == expected


def _every_label() -> list[str]:
    labels = [
        name
        for contract in CONTRACTS.values()
        for column in contract.columns
        for name in (column.name, *column.synonyms)
    ]
    for vocabulary in (PROFESSIONS, STAGES, STRUCTURE_TYPES):
        labels += [n for code, t in vocabulary.items() for n in (code, t.label, *t.synonyms)]
    return labels + ["  Maïeuticien ", "Œuvre—ça", "Pôle / santé (PSP)"]


def test_normalize_label_matches_the_documented_duckdb_expression():
    labels = _every_label()
    con = duckdb.connect()
    rows = con.execute(
        "SELECT trim(regexp_replace(lower(strip_accents(x)), '[^a-z0-9]+', '_', 'g'), '_') "
        "FROM unnest(?) AS t(x)",
        [labels],
    ).fetchall()
    assert [r[0] for r in rows] == [normalize_label(x) for x in labels]


def test_contract_columns_are_the_canonical_ones():
    def spec(family):
        return [(c.name, c.required) for c in CONTRACTS[family].columns]

    assert spec("activity") == [
        ("periode", True), ("id_professionnel", True), ("profession", True),
        ("code_commune_exercice", True), ("structure", False), ("annee_naissance", False),
        ("tranche_age", False), ("etp", True), ("nb_actes", True), ("nb_consultations", False),
        ("nb_visites", False), ("nb_patients", False), ("nb_patients_medecin_traitant", False),
        ("nb_soins_non_programmes", False),
    ]
    assert spec("census") == [
        ("date_recensement", True), ("region", True), ("territoire", True), ("nom_projet", True),
        ("type_structure", True), ("communes", True), ("stade", True), ("zone_fragile", False),
        ("zus", False), ("modules_nmr", False), ("commentaire", False),
    ]
    assert spec("followup") == [
        ("programme", True), ("territoire", True), ("axe", False), ("action", True),
        ("critere", True), ("periode", True), ("valeur", True), ("cible", False),
        ("unite", False), ("nature_valeur", False), ("commentaire", False),
    ]


def test_every_column_has_a_french_description_and_unambiguous_synonyms():
    for contract in CONTRACTS.values():
        seen: dict[str, str] = {}
        for column in contract.columns:
            assert column.description
            for name in column.accepted_names:
                assert seen.setdefault(name, column.name) == column.name, (contract.family, name)


def test_a_contract_with_a_synonym_shared_by_two_columns_is_refused():
    with pytest.raises(ValueError, match="commune"):
        Contract("x", "x", (Column("a", True, "", ("Commune",)),
                            Column("b", True, "", ("commune",))))


@pytest.mark.parametrize(
    ("family", "header", "canonical"),
    [
        ("activity", "Code commune INSEE", "code_commune_exercice"),
        ("activity", "CODGEO", "code_commune_exercice"),
        ("activity", "insee_com", "code_commune_exercice"),
        ("activity", "code_insee", "code_commune_exercice"),
        ("activity", "RPPS", "id_professionnel"),
        ("activity", "Identifiant PP", "id_professionnel"),
        ("activity", "num_rpps", "id_professionnel"),
        ("activity", "Mois", "periode"),
        ("activity", "PÉRIODE", "periode"),
        ("activity", "Nombre d'actes", "nb_actes"),
        ("census", "Commune(s)", "communes"),
        ("census", "Territoire de santé", "territoire"),
        ("census", "Degré de maturité", "stade"),
        ("followup", "Critère", "critere"),
        ("followup", "Année", "periode"),
        ("activity", "Couleur préférée", None),
    ],
)
def test_headers_match_their_canonical_column(family, header, canonical):
    assert CONTRACTS[family].match(header) == canonical


def test_professions_cover_first_contact_care_of_the_ameli_file():
    ameli_path = real_data("ameli/toutes_specialites_departement.csv")
    with ameli_path.open(encoding="utf-8-sig", newline="") as f:
        ameli_labels = {row["profession_sante"] for row in csv.DictReader(f)}
    for code, term in PROFESSIONS.items():
        assert set(term.synonyms) & ameli_labels, f"{code} has no ameli label as synonym"
        for label in set(term.synonyms) & ameli_labels:
            assert match_term(PROFESSIONS, label) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Médecin généraliste", "medecin_generaliste"),
        ("Médecin généraliste libéral", "medecin_generaliste"),
        ("MG", "medecin_generaliste"),
        ("omnipraticien", "medecin_generaliste"),
        ("Médecin - Médecine générale", "medecin_generaliste"),
        ("Infirmier", "infirmier"),
        ("Masseur-kinésithérapeute", "masseur_kinesitherapeute"),
        ("Chirurgien-dentiste", "chirurgien_dentiste"),
        ("Sage-femme", "sage_femme"),
        ("plombier", None),
        (None, None),
    ],
)
def test_professions_map_usual_wordings(text, code):
    assert match_term(PROFESSIONS, text) == code


@pytest.mark.parametrize(
    ("text", "code", "order"),
    [
        ("En réflexion", "reflexion", 1),
        ("projet en réflexion", "reflexion", 1),
        ("En conception", "conception", 2),
        ("En cours d'opérationnalisation", "operationnalisation", 3),
        ("en opérationnalisation", "operationnalisation", 3),
        ("En fonctionnement", "fonctionnement", 4),
        ("opérationnel", "fonctionnement", 4),
        ("OUVERT", "fonctionnement", 4),
    ],
)
def test_stages_map_seed_wordings_and_are_ordered(text, code, order):
    assert match_term(STAGES, text) == code
    assert STAGES[code].order == order


@pytest.mark.parametrize(
    ("text", "code"),
    [("maison de santé", "MSP"), ("Pôles de santé", "PSP"), ("centre de santé", "CDS"),
     ("CPTS", "CPTS"), ("msp", "MSP")],
)
def test_structure_types_map_usual_wordings(text, code):
    assert match_term(STRUCTURE_TYPES, text) == code


def test_vocabulary_index_holds_codes_labels_and_synonyms():
    index = vocabulary_index(STAGES)
    assert index["reflexion"] == "reflexion"
    assert index["en_cours_d_operationnalisation"] == "operationnalisation"
    assert set(index.values()) == set(STAGES)
