"""The synthetic landing generator: deterministic, well-formed and calibrated on ameli."""

import csv
import hashlib
import io
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from support import real_data

from pipelines.settings import REFERENCE_DIR
from pipelines.synth import SCALES, generate_activity, generate_landing
from pipelines.synth.calibration import AMELI_2024

ACTIVITY_HEADER = (
    "periode;id_professionnel;profession;code_commune_exercice;structure;annee_naissance;etp;"
    "nb_actes;nb_consultations;nb_visites;nb_patients;nb_patients_medecin_traitant;"
    "nb_soins_non_programmes"
)
CENSUS_HEADER = (
    "date_recensement;region;territoire;nom_projet;type_structure;communes;stade;zone_fragile;"
    "zus;modules_nmr;commentaire"
)
FOLLOWUP_HEADER = (
    "programme;territoire;axe;action;critere;periode;valeur;cible;unite;nature_valeur;commentaire"
)
COUNTS = ("nb_actes", "nb_consultations", "nb_visites", "nb_patients")
GP = "Médecin généraliste"
NURSE = "Infirmier"
DESVRES_SAMER = "200018083"  # CC de Desvres-Samer, 31 communes


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    generate_activity(out, "tiny", 2026)
    return out


@pytest.fixture(scope="module")
def tiny(tiny_dir) -> pl.DataFrame:
    frames = [
        pl.read_csv(path, separator=";", infer_schema=False)
        for path in sorted((tiny_dir / "activity").glob("activite_*.csv"))
    ]
    return pl.concat(frames).with_columns(
        pl.col(*COUNTS, "annee_naissance", "nb_patients_medecin_traitant",
               "nb_soins_non_programmes").cast(pl.Int64)
    )


@pytest.fixture(scope="module")
def communes() -> pl.DataFrame:
    return pl.read_parquet(REFERENCE_DIR / "communes.parquet")


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_scales_are_the_four_documented():
    assert SCALES == ("tiny", "demo", "region", "national")


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tiny_dir, tmp_path):
    again = generate_activity(tmp_path / "again", "tiny", 2026)
    other = generate_activity(tmp_path / "other", "tiny", 7)
    reference = _digests(tiny_dir)
    assert _digests(tmp_path / "again") == reference
    other_digests = _digests(tmp_path / "other")
    assert other_digests.keys() == reference.keys()
    csv_names = [name for name in reference if name.endswith(".csv")]
    assert all(other_digests[name] != reference[name] for name in csv_names)
    assert again.rows == sum(1 for _ in _data_lines(tiny_dir)) > 0
    assert other.professionals > 0


def _data_lines(folder: Path):
    for path in sorted((folder / "activity").glob("activite_*.csv")):
        yield from path.read_text(encoding="utf-8").splitlines()[1:]


def test_one_file_per_month_with_the_exact_header(tiny_dir, tiny):
    files = sorted((tiny_dir / "activity").glob("activite_*.csv"))
    expected = [f"activite_{y}-{m:02d}.csv" for y in (2023, 2024) for m in range(1, 13)]
    assert [f.name for f in files] == expected
    for path in files:
        first_line = path.read_text(encoding="utf-8").split("\n", 1)[0]
        assert first_line == ACTIVITY_HEADER
        assert set(pl.read_csv(path, separator=";", infer_schema=False)["periode"]) == {
            path.stem.removeprefix("activite_")
        }
    assert tiny.height < 100_000


def test_readme_says_the_data_are_synthetic(tiny_dir):
    text = (tiny_dir / "activity" / "LISEZMOI.txt").read_text(encoding="utf-8")
    warning = "données de démonstration : activité synthétique, ne décrit aucun professionnel réel"
    assert warning in text.lower()
    assert "2026" in text and "tiny" in text


def test_months_shortens_the_period(tmp_path):
    summary = generate_activity(tmp_path, "tiny", 2026, months=3)
    names = sorted(p.name for p in (tmp_path / "activity").glob("*.csv"))
    assert names == ["activite_2023-01.csv", "activite_2023-02.csv", "activite_2023-03.csv"]
    assert summary.files[-1].name == "LISEZMOI.txt"
    assert summary.seconds > 0


def test_identifiers_and_codes(tiny, communes):
    assert tiny["id_professionnel"].str.contains(r"^10\d{9}$").all()
    assert tiny["code_commune_exercice"].str.len_chars().eq(5).all()
    known = set(communes.filter(pl.col("department_code").is_in(["16", "47"]))["commune_code"])
    assert set(tiny["code_commune_exercice"]) <= known
    per_id = tiny.group_by("id_professionnel").agg(
        pl.col("profession", "code_commune_exercice", "annee_naissance").n_unique()
    )
    assert per_id.select(pl.exclude("id_professionnel").max()).row(0) == (1, 1, 1)
    assert set(tiny["profession"]) == {GP, NURSE}


def test_structures_are_a_minority_of_msp_in_communes_with_three_professionals(tiny):
    with_structure = tiny.filter(pl.col("structure").is_not_null())
    assert 0 < with_structure.height < 0.3 * tiny.height
    assert with_structure["structure"].str.starts_with("MSP ").all()
    headcount = tiny.group_by("code_commune_exercice").agg(
        pl.col("id_professionnel").n_unique().alias("n")
    )
    communes_with_msp = with_structure["code_commune_exercice"].unique()
    assert headcount.filter(pl.col("code_commune_exercice").is_in(communes_with_msp.implode()))[
        "n"
    ].min() >= 3


def test_etp_and_counts(tiny):
    assert tiny["etp"].str.contains(r"^[01],\d\d$").all()
    etp = tiny["etp"].str.replace(",", ".").cast(pl.Float64)
    assert etp.min() >= 0.2 and etp.max() <= 1.2
    for column in COUNTS:
        assert tiny[column].null_count() == 0 and tiny[column].min() >= 0
    assert (tiny["nb_consultations"] + tiny["nb_visites"] <= tiny["nb_actes"]).all()
    assert (tiny["nb_patients"] <= tiny["nb_actes"]).all()


def test_gp_only_columns(tiny):
    gps = tiny.filter(pl.col("profession") == GP)
    nurses = tiny.filter(pl.col("profession") == NURSE)
    for column in ("nb_patients_medecin_traitant", "nb_soins_non_programmes"):
        assert gps[column].null_count() == 0 and gps[column].min() >= 0
        assert nurses[column].null_count() == nurses.height
    unplanned_share = gps["nb_soins_non_programmes"].sum() / gps["nb_actes"].sum()
    assert 0.10 <= unplanned_share <= 0.15


def test_densities_match_the_ameli_figures(tiny, communes):
    months = tiny["periode"].n_unique()
    population = communes.group_by("department_code").agg(pl.col("population").sum())
    density = (
        tiny.join(communes.select("commune_code", "department_code"),
                  left_on="code_commune_exercice", right_on="commune_code")
        .group_by("department_code", "profession").agg((pl.len() / months).alias("monthly"))
        .join(population, on="department_code")
        .with_columns(per_10k=pl.col("monthly") / pl.col("population") * 10_000)
    )
    assert density.height == 4
    ameli_column = {GP: 0, NURSE: 1}
    for department, profession, per_10k in density.select(
        "department_code", "profession", "per_10k"
    ).iter_rows():
        ameli_per_100k = AMELI_2024[department][ameli_column[profession]][1]
        assert per_10k == pytest.approx(ameli_per_100k / 10, rel=0.15)


def test_copied_ameli_figures_match_the_published_file():
    path = real_data("ameli/toutes_specialites_departement.csv")
    labels = (
        "Médecins généralistes (hors médecins à expertise particulière - MEP)",
        "Infirmiers",
        "Masseurs-kinésithérapeutes",
        "Chirurgiens-dentistes (hors spécialistes d'orthopédie dento-faciale - ODF)",
        "Sages-femmes",
    )
    published = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            if row["profession_sante"] not in labels:
                continue
            if row["region"] == "99":
                key = "FR"
            elif row["departement"] != "999":
                key = row["departement"]
            else:
                continue
            published[(key, labels.index(row["profession_sante"]))] = (
                int(row["effectif"]), float(row["densite"])
            )
    copied = {(k, i): pair for k, pairs in AMELI_2024.items() for i, pair in enumerate(pairs)}
    assert copied == published


def test_age_pyramid_gps_older_than_nurses(tiny):
    last = tiny.filter(pl.col("periode") == "2024-12")
    share_60 = last.group_by("profession").agg(
        ((2024 - pl.col("annee_naissance")) >= 60).mean().alias("share")
    )
    shares = dict(share_60.iter_rows())
    assert 0.25 <= shares[GP] <= 0.45
    assert shares[NURSE] < shares[GP]


def test_installations_and_departures(tiny):
    spans = tiny.group_by("id_professionnel", "profession").agg(
        pl.col("periode").min().alias("first"), pl.col("periode").max().alias("last"),
        pl.len().alias("months"),
    )
    # Active months are contiguous: nobody leaves and comes back.
    first_index = spans["first"].str.slice(0, 4).cast(pl.Int64) * 12 + spans["first"].str.slice(
        5, 2).cast(pl.Int64)
    last_index = spans["last"].str.slice(0, 4).cast(pl.Int64) * 12 + spans["last"].str.slice(
        5, 2).cast(pl.Int64)
    assert (last_index - first_index + 1 == spans["months"]).all()
    flows = spans.group_by("profession").agg(
        (pl.col("first") > "2023-01").sum().alias("installations"),
        (pl.col("last") < "2024-12").sum().alias("departures"),
    )
    for profession, installations, departures in flows.iter_rows():
        assert installations > 0 and departures > 0, profession
    gp = flows.filter(pl.col("profession") == GP).row(0, named=True)
    assert gp["installations"] < gp["departures"]


def test_gp_activity_dips_in_august(tiny):
    gp_acts = (
        tiny.filter(pl.col("profession") == GP)
        .group_by("periode").agg(pl.col("nb_actes").sum())
    )
    acts = dict(gp_acts.iter_rows())
    for year in (2023, 2024):
        assert acts[f"{year}-08"] < acts[f"{year}-03"]
        assert acts[f"{year}-08"] < acts[f"{year}-01"]


def test_national_scale_every_third_month_is_windows_1252(tmp_path, communes):
    generate_activity(tmp_path, "national", 2026, months=3)
    files = sorted((tmp_path / "activity").glob("activite_*.csv"))
    assert [f.name for f in files] == [f"activite_2022-0{m}.csv" for m in (1, 2, 3)]
    files[0].read_bytes().decode("utf-8")
    third = files[2].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        third.decode("utf-8")
    frame = pl.read_csv(io.StringIO(third.decode("cp1252")), separator=";", infer_schema=False)
    assert frame.columns == ACTIVITY_HEADER.split(";")
    assert GP in set(frame["profession"])
    departments = set(
        frame.join(communes, left_on="code_commune_exercice", right_on="commune_code")[
            "department_code"
        ]
    )
    assert {"2A", "2B", "971", "976", "59"} <= departments
    assert not departments & {"975", "987", "988"}
    assert 200_000 < frame.height < 300_000


@pytest.fixture(scope="module")
def region_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("region")
    summary = generate_landing(out, "region", 2026)
    assert summary.rows == sum(1 for _ in _data_lines(out))
    assert {p.parent.name for p in summary.files} == {"activity", "census", "followup"}
    return out


def test_region_census_files(region_dir, communes):
    files = sorted((region_dir / "census").glob("recensement_*.csv"))
    assert len(files) == 8
    known_codes = set(communes["commune_code"])
    known_names = set(communes["commune_name"])
    stages = ["En réflexion", "En conception", "En cours d'opérationnalisation",
              "En fonctionnement"]
    history: dict[str, list[int | None]] = {}
    for index, path in enumerate(files):
        assert path.read_text(encoding="utf-8").split("\n", 1)[0] == CENSUS_HEADER
        frame = pl.read_csv(path, separator=";", infer_schema=False)
        assert set(frame["date_recensement"]) == {path.stem.removeprefix("recensement_")}
        assert set(frame["region"]) == {"Hauts-de-France"}
        assert set(frame["type_structure"]) <= {"MSP", "PSP", "CDS", "CPTS"}
        assert frame["nom_projet"].is_unique().all()
        for communes_field in frame["communes"]:
            parts = communes_field.split(",")
            assert all(p in known_codes for p in parts) or communes_field in known_names
        for name, stage in frame.select("nom_projet", "stade").iter_rows():
            history.setdefault(name, [None] * len(files))[index] = stages.index(stage)
    assert 120 <= len(history) <= 150
    for name, stages_over_time in history.items():
        seen = [s for s in stages_over_time if s is not None]
        assert seen == sorted(seen), f"{name} went backwards"
        present = [i for i, s in enumerate(stages_over_time) if s is not None]
        assert present == list(range(present[0], present[-1] + 1)), f"{name} came back"


def test_a_project_groups_communes_of_one_epci_never_those_outside_any(communes):
    """The four islands outside any EPCI (Yeu, Bréhat, Sein, Ouessant) were once grouped as if
    they were one, into projects that spanned three régions."""
    from pipelines.synth.projects import _projects

    islands = communes.filter(pl.col("epci_code").is_null(),
                              pl.col("department_code").is_in(["22", "29", "85"]))
    assert islands.height == 4
    places = pl.concat([islands, communes.filter(pl.col("epci_code") == DESVRES_SAMER)])
    # a project of one commune may write its name
    epci = dict(places.select("commune_code", "epci_code").iter_rows())
    epci |= dict(places.select("commune_name", "epci_code").iter_rows())
    islands_in_groups = 0
    for seed in range(20):
        projects = _projects(np.random.default_rng(seed), 12, places)
        for kind, field in projects.select("type_structure", "communes").iter_rows():
            codes = field.split(",")
            assert len({epci[code] for code in codes}) == 1, codes
            assert len(codes) == 1 or epci[codes[0]] is not None, codes
            islands_in_groups += kind in ("PSP", "CPTS") and epci[codes[0]] is None
    assert islands_in_groups, "no island led a project of several communes: nothing was checked"


def test_region_followup_file(region_dir):
    path = region_dir / "followup" / "criteres_programmes.csv"
    assert path.read_text(encoding="utf-8").split("\n", 1)[0] == FOLLOWUP_HEADER
    frame = pl.read_csv(path, separator=";", infer_schema=False)
    assert set(frame["nature_valeur"]) == {"illustrative"}
    assert frame["programme"].n_unique() == 25
    assert frame["valeur"].str.contains(r"^\d+(,\d)?$").all()
    assert set(frame["unite"]) == {"nombre", "%"}
    assert re.fullmatch(r"\d{4}", frame["periode"][0])
