"""The demo census and follow-up files, read through the project's reader and checked against
the seeds themselves (parsed here, not copied from the generator's list)."""

import hashlib
import importlib.util
import os
import re
from collections import Counter

import polars as pl
import pytest

from pipelines.settings import DEMO_DIR, REPO_ROOT
from pipelines.sources.contracts import STAGES, STRUCTURE_TYPES, match_term, normalize_label
from pipelines.sources.reader import read_source_file

SEEDS = REPO_ROOT.parent / "shared" / "seeds"
CENSUS = DEMO_DIR / "census" / "recensement_maisons_poles_sante_npdc_2013-05.xlsx"
FOLLOWUP = DEMO_DIR / "followup" / "criteres_suivi.csv"
TERRITORIES = {"artois": "Artois-Douaisis", "hainaut": "Hainaut-Cambrésis",
               "littoral": "Littoral", "metropole": "Métropole-Flandre intérieure"}


def seed_text(prefix: str) -> str:
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        if os.environ.get("CI") == "true":
            pytest.fail(f"seed {prefix} is missing from {SEEDS} (CI=true)")
        pytest.skip(f"seed {prefix} is not available in {SEEDS}")
    return matches[0].read_text(encoding="utf-8")


def seed_002_projects() -> list[tuple[str, str, str]]:
    """(territory, stage code, name) for every project of fiche 6, parsed from the seed."""
    fiche_6 = seed_text("002").split("## Fiche 6", 1)[1]
    projects = []
    territory = None
    for line in fiche_6.splitlines():
        if line.startswith("#### "):
            territory = TERRITORIES[normalize_label(line[5:]).split("_")[0]]
        found = re.match(r"\*\*(\d+) (en .+?)\*\* : (.+)", line)
        if found:
            count, stage, names = found.groups()
            names = [n.strip() for n in names.rstrip(", ").split(", ")]
            assert len(names) == int(count)
            projects += [(territory, match_term(STAGES, stage),
                          n.removesuffix(" (pôles de santé)")) for n in names]
    return projects


@pytest.fixture(scope="module")
def census() -> pl.DataFrame:
    table = read_source_file(CENSUS, "census")
    assert table.header_line > 1, "the title block above the header is part of the demo"
    assert table.ignored_columns == [] and table.bad_rows == []
    return table.frame


def test_census_holds_the_53_projects_of_seed_002(census):
    assert census.height == 53
    assert Counter(census["territoire"]) == {
        "Artois-Douaisis": 19, "Hainaut-Cambrésis": 15, "Métropole-Flandre intérieure": 10,
        "Littoral": 9,
    }
    stages = Counter(match_term(STAGES, s) for s in census["stade"])
    assert stages == {"fonctionnement": 12, "operationnalisation": 10, "conception": 12,
                      "reflexion": 19}


def test_census_rows_are_the_seed_projects_with_their_territory_and_stage(census):
    rows = [(t, match_term(STAGES, s), n) for t, s, n in
            census.select("territoire", "stade", "nom_projet").iter_rows()]
    assert sorted(rows) == sorted(seed_002_projects())
    assert (census["communes"] == census["nom_projet"]).all()


def test_census_constant_columns_and_vocabularies(census):
    assert set(census["date_recensement"]) == {"2013-05"}
    assert set(census["region"]) == {"Nord-Pas-de-Calais"}
    assert {match_term(STRUCTURE_TYPES, t) for t in census["type_structure"]} <= {"MSP", "PSP"}
    assert census["zone_fragile"].is_null().all() and census["zus"].is_null().all()


def test_census_nmr_modules_and_printed_types_follow_fiche_5(census):
    fiche_5 = seed_text("002").split("## Fiche 5", 1)[1].split("## Fiche 6", 1)[0]
    pole_block = fiche_5.split("Les Pôle de santé de", 1)[1]
    poles = re.findall(r"\*\*(.+?)\*\*", pole_block)
    with_modules = census.filter(pl.col("modules_nmr").is_not_null())
    assert with_modules.height == 9
    assert set(with_modules["modules_nmr"]) == {"1,2", "2", "3"}
    assert sorted(with_modules.filter(pl.col("type_structure") == "PSP")["nom_projet"]) == sorted(
        poles)
    assert census.filter(pl.col("nom_projet") == "Denain")["modules_nmr"].item() == "3"


def test_census_types_not_printed_by_the_seed_are_flagged_illustrative(census):
    printed = pl.col("modules_nmr").is_not_null() | pl.col("nom_projet").str.starts_with(
        "Laventie-Fleurbaix")
    unprinted = census.filter(~printed)
    assert unprinted.height == 53 - 10
    assert unprinted["commentaire"].str.contains("illustratif").all()
    assert not census.filter(printed)["commentaire"].fill_null("").str.contains(
        "illustratif").any()


def test_census_comment_quotes_are_verbatim_from_the_seed(census):
    text = seed_text("002")
    quotes = [q for c in census["commentaire"].drop_nulls()
              for q in re.findall(r"« (.+?) »", c)]
    assert quotes
    for quote in quotes:
        assert quote in text, quote


def test_census_workbook_is_what_the_committed_script_writes(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_census", CENSUS.with_name("make_census.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "OUTPUT", tmp_path / CENSUS.name)
    module.main()
    digest = hashlib.sha256((tmp_path / CENSUS.name).read_bytes()).hexdigest()
    assert digest == hashlib.sha256(CENSUS.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def followup() -> pl.DataFrame:
    table = read_source_file(FOLLOWUP, "followup")
    assert (table.encoding, table.separator) == ("utf-8", ";")
    assert table.ignored_columns == [] and table.bad_rows == []
    return table.frame


def test_followup_size_and_value_nature(followup):
    assert 40 <= followup.height <= 70
    assert set(followup["nature_valeur"]) == {"illustrative", "observée"}
    values = followup["valeur"].str.replace(",", ".").cast(pl.Float64, strict=False)
    # seed 000's evaluation lines that count nothing are followed as steps, by their state
    steps = followup.filter(values.is_null())
    assert steps.height == 7
    assert set(steps["nature_valeur"]) == {"illustrative"} and set(steps["cible"]) == {"réalisé"}
    assert followup["valeur"].str.contains(",").any(), "decimal comma is part of the demo"


def test_followup_has_seed_004_criteria_every_year(followup):
    cls = followup.filter(pl.col("territoire") == "PETR du Pays Ruffécois")
    text = normalize_label(seed_text("004"))
    for criterion in cls["critere"].unique():
        assert normalize_label(criterion) in text
    assert cls.group_by("critere").agg(pl.col("periode").sort()).sort("critere").to_dicts() == [
        {"critere": c, "periode": [str(y) for y in range(2019, 2025)]}
        for c in sorted(["Nombre de sites en projets ou opérationnels",
                         "Nombre d'installations de professionnels de santé",
                         "Nombre d'étudiants stagiaires", "Nombre de départs remplacés"])
    ]


def test_followup_observed_values_come_from_the_seeds(followup):
    observed = followup.filter(pl.col("nature_valeur") == "observée")
    sites = observed.filter(pl.col("critere") == "Nombre de sites en projets ou opérationnels")
    seed_004 = seed_text("004")
    labelled = seed_004.split("Les projets labellisés :", 1)[1].split("\n", 1)[0]
    in_labelling = seed_004.split("pour une labellisation :", 1)[1].split("\n", 1)[0]
    projects = len(labelled.split("/")) + len(in_labelling.split("/"))
    assert sites["valeur"].to_list() == [str(projects)]
    tutors = observed.filter(pl.col("critere") == "Nombre de maîtres de stage")
    assert tutors["valeur"].to_list() == re.findall(r"Maîtres de stage \( (\d+) actuellement",
                                                    seed_text("000"))
    assert observed.height == 2


def test_followup_duras_lauzun_roadmap(followup):
    pole = followup.filter(pl.col("territoire") == "CC du Pays de Duras, CC du Pays de Lauzun")
    assert pole.height >= 20
    assert {"Nombre de remplaçants accueillis", "Nombre d'étudiants accueillis",
            "Nombre de rencontres des groupes"} <= set(pole["critere"])
    assert pole.filter(pl.col("unite") == "%").height > 0


def test_followup_comment_quotes_are_verbatim_from_the_seeds(followup):
    seeds = seed_text("000") + seed_text("004")
    quotes = [q for c in followup["commentaire"] for q in re.findall(r"« (.+?) »", c)]
    assert len(quotes) >= followup.height
    for quote in quotes:
        assert quote in seeds, quote
