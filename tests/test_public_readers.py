"""Readers of public reference files, on the real files of ../shared/data/real: row counts are
computed here with the csv module or plain text, spot values come from the files themselves or
from their documentation. Then one malformed input per reader."""

import csv
import hashlib
import hmac
import re
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
import xlrd
from support import real_data

from pipelines.settings import REFERENCE_DIR
from pipelines.sources.public.ameli import read_ameli_densities, read_cnam_densities_xls
from pipelines.sources.public.cartosante import read_cartosante_export
from pipelines.sources.public.finess import (
    finess_commune_code,
    read_finess_extract,
    read_finess_geolocated,
)
from pipelines.sources.public.laposte import read_laposte_centroids
from pipelines.sources.public.rpps import read_rpps_activity
from pipelines.sources.reader import SourceFileError

AMELI_CSV = "ameli/toutes_specialites_departement.csv"
AMELI_XLS = "ameli/Effectif_et_densite_par_departement_en_2018.xls"
RPPS = "rpps/PS_LibreAcces_Personne_activite_small.txt"
FINESS_RAW = "finess/etalab-cs1100502-stock-20260512-0339_excerpt15.csv"
FINESS_2020 = "finess/etalab_small_20201231.csv"
LAPOSTE = "geography/laposte_hexasmal.csv"
CARTOSANTE = "cartosante/zonage-raw.csv"
KEY = b"test key, not the night's"


def csv_rows(path: Path, delimiter: str, skip: int = 0) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        for _ in range(skip):
            next(f)
        return list(csv.DictReader(f, delimiter=delimiter))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def refusal(reader, path: Path, *args) -> SourceFileError:
    with pytest.raises(SourceFileError) as caught:
        reader(path, *args)
    message = str(caught.value)
    assert f"{path.parent.name}/{path.name}" in message
    assert "fichier" in message
    return caught.value


# ---------------------------------------------------------------- data.ameli CSV and CNAM XLS


@pytest.fixture(scope="module")
def ameli_csv():
    path = real_data(AMELI_CSV)
    return path, read_ameli_densities(path), csv_rows(path, ",")


def test_ameli_csv_keeps_every_row_with_its_level(ameli_csv):
    _, frame, rows = ameli_csv
    assert frame.height == len(rows) == 4560
    levels = Counter(
        "departement" if r["departement"] != "999"
        else "france" if r["region"] == "99" else "region"
        for r in rows
    )
    assert dict(frame["geo_level"].value_counts().iter_rows()) == levels
    france = frame.filter(pl.col("geo_level") == "france")
    assert france["region_code"].null_count() == france.height
    aggregates = frame.filter(pl.col("geo_level") != "departement")
    assert aggregates["department_code"].null_count() == aggregates.height
    assert {"01", "2A", "2B", "971", "976"} <= set(frame["department_code"].drop_nulls())


def test_ameli_csv_spot_values(ameli_csv):
    _, frame, rows = ameli_csv
    # Published in the file and copied into pipelines/synth/calibration.py: Ain, GPs.
    ain = frame.filter(
        (pl.col("department_code") == "01")
        & pl.col("profession_label").str.starts_with("Médecins généralistes (hors")
    ).row(0, named=True)
    assert (ain["headcount"], ain["density_per_100k"]) == (368, 53.4)
    assert (ain["profession_code"], ain["region_code"], ain["year"]) == (
        "medecin_generaliste", "84", 2024)
    source = next(r for r in rows if r["departement"] == "16"
                  and r["profession_sante"] == "Infirmiers")
    charente = frame.filter((pl.col("department_code") == "16")
                            & (pl.col("profession_label") == "Infirmiers")).row(0, named=True)
    assert charente["headcount"] == int(source["effectif"])
    assert charente["density_per_100k"] == float(source["densite"])
    assert charente["profession_code"] == "infirmier"
    surgeons = frame.filter(pl.col("profession_label") == "Chirurgiens")
    assert surgeons["profession_code"].null_count() == surgeons.height


@pytest.fixture(scope="module")
def cnam_xls():
    path = real_data(AMELI_XLS)
    return path, read_cnam_densities_xls(path), xlrd.open_workbook(path)


def data_sheets(book: xlrd.Book) -> list[xlrd.sheet.Sheet]:
    return [s for s in book.sheets() if s.nrows and "DEPARTEMENT" in s.row_values(0)]


def test_cnam_xls_reads_every_sheet_and_row(cnam_xls):
    _, frame, book = cnam_xls
    sheets = data_sheets(book)
    assert len(sheets) == 6
    assert frame.height == sum(s.nrows - 1 for s in sheets)
    totals = Counter(v for s in sheets for v in s.col_values(1)[1:] if v.startswith("TOTAL"))
    levels = dict(frame["geo_level"].value_counts().iter_rows())
    assert levels["france"] == totals["TOTAL France ENTIERE"]
    assert levels["france_metropolitaine"] == totals["TOTAL FRANCE METROPOLITAINE"]
    assert levels["outre_mer"] == totals["TOTAL OUTRE-MER"]
    assert set(frame["year"]) == {2018}


def test_cnam_xls_spot_values(cnam_xls):
    _, frame, book = cnam_xls
    nurses = book.sheet_by_name("Auxiliaires médicaux")
    row = next(r for r in range(nurses.nrows)
               if nurses.row_values(r)[:2] == ["24- Infirmiers", "16- Charente"])
    charente = frame.filter((pl.col("profession_label") == "24- Infirmiers")
                            & (pl.col("department_code") == "16")).row(0, named=True)
    assert charente["headcount"] == int(nurses.cell_value(row, 2))
    assert charente["density_per_100k"] == pytest.approx(nurses.cell_value(row, 4))
    assert (charente["region_code"], charente["profession_code"]) == ("75", "infirmier")
    ain = frame.filter((pl.col("profession_label") == "01- Médecine générale")
                       & (pl.col("department_code") == "01")).row(0, named=True)
    assert (ain["headcount"], round(ain["density_per_100k"], 2)) == (393, 60.12)
    assert ain["profession_code"] == "medecin_generaliste"
    corsica = frame.filter(pl.col("department_code") == "2A")
    assert corsica.height > 0 and set(corsica["region_code"]) == {"94"}
    kine = frame.filter(pl.col("profession_label").str.contains("Masseurs-kin"))
    assert set(kine["profession_code"]) == {"masseur_kinesitherapeute"}


# ---------------------------------------------------------------------------------- RPPS

IDENTIFIER_HEADERS = ("Identifiant PP", "Identification nationale PP",
                      "Identifiant technique de la structure",
                      "Ancien identifiant de la structure")


@pytest.fixture(scope="module")
def rpps():
    path = real_data(RPPS)
    return path, read_rpps_activity(path, KEY), csv_rows(path, "|")


def all_text(frame: pl.DataFrame) -> list[str]:
    return [str(v) for column in frame.columns for v in frame[column].drop_nulls()]


def test_rpps_keeps_every_row(rpps):
    path, frame, rows = rpps
    data_lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert frame.height == len(data_lines) - 1 == len(rows) == 22


def test_rpps_returns_no_identifier(rpps):
    _, frame, rows = rpps
    raw = {r[h] for r in rows for h in IDENTIFIER_HEADERS if r[h]}
    hashes = [c for c in frame.columns if c.endswith("_hmac")]
    assert all(2**62 <= v < 2**63 for h in hashes for v in frame[h].drop_nulls())
    values = all_text(frame.drop(hashes))
    assert not [v for v in values if any(identifier in v for identifier in raw)]
    assert not [v for v in values if re.search(r"(?<!\d)\d{10,11}(?!\d)", v)]
    # 62 bits of the HMAC-SHA256, bit 62 set
    expected = [int.from_bytes(hmac.new(KEY, r["Identifiant PP"].encode(),
                                        hashlib.sha256).digest()[:8], "big") >> 2 | 2**62
                for r in rows]
    assert frame["pp_identifier_hmac"].to_list() == expected
    formats = dict(zip(frame["identifier_type"], frame["pp_identifier_format"], strict=True))
    assert formats == {"0": "adeli", "8": "rpps"}


def test_rpps_fields_of_practice(rpps):
    _, frame, rows = rpps
    with_commune = [r for r in rows if r["Code commune (coord. structure)"]]
    assert frame["commune_code"].drop_nulls().to_list() == [
        r["Code commune (coord. structure)"] for r in with_commune]
    lab = frame.filter(pl.col("finess_site") == "010010288").row(0, named=True)
    assert (lab["commune_code"], lab["postal_code"]) == ("01004", "01500")
    assert lab["practice_mode_label"] == "Salarié"
    orthoptist = frame.filter(pl.col("profession_label") == "Orthoptiste").row(0, named=True)
    assert (orthoptist["profession_code"], orthoptist["practice_mode_code"]) == (
        "orthoptiste", "L")
    assert orthoptist["structure_id_hmac"] is not None
    assert "Nom d'exercice" not in frame.columns and "name" not in frame.columns


# -------------------------------------------------------------------------------- FINESS


@pytest.fixture(scope="module")
def finess_raw():
    path = real_data(FINESS_RAW)
    return path, read_finess_extract(path)


def test_finess_extract_reads_every_structure(finess_raw):
    path, frame = finess_raw
    lines = path.read_text(encoding="utf-8").splitlines()
    assert frame.height == sum(line.startswith("structureet;") for line in lines) == 14
    communes = set(pl.read_parquet(REFERENCE_DIR / "communes.parquet")["commune_code"])
    assert set(frame["commune_code"]) <= communes


@pytest.mark.parametrize(("finess_et", "commune", "department"), [
    ("010000024", "01451", "01"),    # Viriat
    ("970102018", "97701", "977"),   # Saint-Barthélemy, filed as 9A + 123
    ("970100400", "97801", "978"),   # Saint-Martin, filed as 9A + 127
    ("970210126", "97207", "972"),   # Ducos, 9B
    ("970300026", "97302", "973"),   # Cayenne, 9C
    ("970400024", "97411", "974"),   # Saint-Denis, 9D
    ("980501506", "97606", "976"),   # Chirongui, 9F
    ("980600027", "98613", "986"),   # Uvea, 9J
])
def test_finess_commune_codes(finess_raw, finess_et, commune, department):
    _, frame = finess_raw
    row = frame.filter(pl.col("finess_et") == finess_et).row(0, named=True)
    assert (row["commune_code"], row["department_code"]) == (commune, department)


def test_finess_extract_values(finess_raw):
    _, frame = finess_raw
    mayotte = frame.filter(pl.col("finess_et") == "980501506").row(0, named=True)
    assert mayotte["name"] == 'LIEU DE VIE "MAVOUNA MEMA 1"'
    assert (mayotte["category_code"], mayotte["postal_code"]) == ("462", "97620")
    assert str(mayotte["opened_on"]) == "2019-04-01"
    assert frame["structure_type"].null_count() == frame.height  # no MSP/CDS/CPTS here


@pytest.mark.parametrize(("department", "commune", "code"), [
    ("2A", "004", "2A004"), ("9E", "502", "97502"), ("59", "350", "59350"),
    ("9B", "107", None), ("9Z", "101", None), ("01", "45", None),
])
def test_finess_commune_rule(department, commune, code):
    assert finess_commune_code(department, commune) == code


def structure_line(finess_et: str, category: str) -> str:
    fields = ["structureet", finess_et, "590000000", "MSP DU BOURG", "", "", "", "1", "R",
              "DE LA GARE", "", "", "350", "59", "NORD", "59000 LILLE", "", "", category,
              "Maison de santé (L.6223-3)", "2", "Autres", "", "", "", "", "", "",
              "2019-01-02", "2019-01-02", "2020-01-01", ""]
    return ";".join(fields)


def test_finess_geolocated_edition_and_structure_types(tmp_path):
    path = write(tmp_path / "finess" / "cs1100507.csv", "\n".join([
        "finess;etalab;111;2026-05-12",
        structure_line("590000001", "603"),
        structure_line("590000002", "124"),
        structure_line("590000003", "604"),
        "geolocalisation;590000001;704000.5;7059000.25;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,"
        "LAMBERT_93;2026-01-01;",
    ]) + "\n")
    frame = read_finess_extract(path)
    assert frame["structure_type"].to_list() == ["MSP", "CDS", "CPTS"]
    first = frame.row(0, named=True)
    assert (first["coord_x"], first["coord_y"], first["coord_system"]) == (
        704000.5, 7059000.25, "LAMBERT_93")
    assert frame["coord_x"].null_count() == 2


@pytest.fixture(scope="module")
def finess_2020():
    path = real_data(FINESS_2020)
    return path, read_finess_geolocated(path), csv_rows(path, ";")


def test_finess_2020_extract(finess_2020):
    path, frame, rows = finess_2020
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == (path.parent / "headers.txt").read_text(encoding="utf-8").splitlines()[1]
    assert frame.height == len(rows) == 100
    assert frame["commune_code"].to_list() == [r["cog"] for r in rows]
    viriat = frame.filter(pl.col("finess_et") == "010000024").row(0, named=True)
    assert (viriat["commune_code"], viriat["coord_x"], viriat["coord_y"]) == (
        "01451", 870215.7, 6571590.5)
    assert set(frame["coord_system"].drop_nulls()) == {"LAMBERT_93"}
    assert frame["category_label"].str.contains("\ufffd").any()  # accents lost upstream


# ------------------------------------------------------------------------------ La Poste


@pytest.fixture(scope="module")
def laposte():
    path = real_data(LAPOSTE)
    return path, read_laposte_centroids(path), csv_rows(path, ";")


def test_laposte_one_row_per_commune(laposte):
    _, frame, rows = laposte
    codes = {r["Code_commune_INSEE"] for r in rows}
    assert frame.height == len(codes) == 35099
    assert frame["commune_code"].is_unique().all()
    without_gps = [r for r in rows if not r["coordonnees_gps"]]
    assert len(without_gps) == 270
    never_located = codes - {r["Code_commune_INSEE"] for r in rows if r["coordonnees_gps"]}
    missing = frame.filter(pl.col("point_count") == 0)
    assert set(missing["commune_code"]) == never_located
    assert missing["latitude"].null_count() == missing.height


def test_laposte_lille_includes_lomme_and_hellemmes(laposte):
    _, frame, rows = laposte
    lille = frame.filter(pl.col("commune_code") == "59350").row(0, named=True)
    assert {"59000", "59160", "59260"} <= set(lille["postal_codes"].split(","))
    lomme = next(r for r in rows if r["Ligne_5"] == "LOMME")
    latitude, longitude = (float(v) for v in lomme["coordonnees_gps"].split(","))
    assert (lille["latitude"], lille["longitude"]) == (latitude, longitude)


def test_laposte_centroid_is_the_mean_of_distinct_points(tmp_path):
    path = write(tmp_path / "geo" / "cp.csv", "\n".join([
        "Code_commune_INSEE;Nom_commune;Code_postal;Ligne_5;Libellé_d_acheminement;"
        "coordonnees_gps",
        "1001;A;1400;;A;46.0,5.0",
        "01001;A;01400;X;A;46.0,5.0",
        "01001;A;01401;;A;48.0,7.0",
        "2A004;AJACCIO;20000;;AJACCIO;",
    ]) + "\n")
    frame = read_laposte_centroids(path)
    assert frame.rows() == [("01001", "A", "01400,01401", 47.0, 6.0, 2),
                            ("2A004", "AJACCIO", "20000", None, None, 0)]


# ---------------------------------------------------------------------------- CartoSanté


def test_cartosante_export():
    path = real_data(CARTOSANTE)
    frame = read_cartosante_export(path)
    rows = csv_rows(path, ";", skip=2)
    assert frame.height == len(rows) == 34919
    published = Counter(r["Zonage infirmiers"] for r in rows)
    assert published["N/A - résultat non disponible"] == frame["value"].null_count() == 2
    counts = dict(frame["value"].drop_nulls().value_counts().iter_rows())
    assert counts == {k: v for k, v in published.items() if not k.startswith("N/A")}
    assert set(frame["indicator"]) == {"Zonage infirmiers"}
    ruffec = frame.filter(pl.col("commune_code") == "16292").row(0, named=True)
    assert (ruffec["commune_name"], ruffec["value"]) == ("Ruffec", "3_intermediaire")
    assert frame.filter(pl.col("commune_code") == "97701")["value"].to_list() == [None]


# ------------------------------------------------------------------------ malformed input

AMELI_HEADER = ("annee,profession_sante,region,libelle_region,departement,libelle_departement,"
                "classe_age,libelle_classe_age,libelle_sexe,effectif,densite")


def test_ameli_csv_refuses_a_non_numeric_headcount(tmp_path):
    path = write(tmp_path / "ameli" / "effectifs.csv", "\n".join([
        AMELI_HEADER,
        "2024,Infirmiers,75,Nouvelle-Aquitaine,16,Charente,tout_age,Tout âge,tout sexe,800,230.1",
        "2024,Infirmiers,75,Nouvelle-Aquitaine,17,Charente-Maritime,tout_age,Tout âge,tout sexe,"
        "douze,230.1",
    ]) + "\n")
    error = refusal(read_ameli_densities, path)
    assert (error.line, error.column) == (3, "effectif")
    assert "« douze »" in str(error) and "ligne 3" in str(error)


def test_cnam_xls_refuses_a_file_that_is_not_a_workbook(tmp_path):
    path = write(tmp_path / "ameli" / "Effectif_2018.xls", "DEPARTEMENT;EFFECTIF\n16;3\n")
    assert "classeur" in str(refusal(read_cnam_densities_xls, path))


def test_rpps_refuses_a_truncated_line_without_quoting_identifiers(tmp_path):
    header = "Type d'identifiant PP|Identifiant PP|Code profession|Libellé profession|" \
             "Code mode exercice|Code commune (coord. structure)|"
    path = write(tmp_path / "rpps" / "extraction.txt", "\n".join([
        header, "8|10101010101|60|Infirmier|L|16292|", "8|10101010102|60|Inf",
    ]) + "\n")
    error = refusal(read_rpps_activity, path, KEY)
    assert error.line == 3 and "ligne 3" in str(error)
    assert "1010101010" not in str(error)


def test_finess_extract_refuses_a_file_without_manifest(tmp_path):
    path = write(tmp_path / "finess" / "extract.csv", structure_line("590000001", "603") + "\n")
    assert refusal(read_finess_extract, path).line == 1


def test_finess_extract_refuses_a_short_structure_line(tmp_path):
    short = ";".join(structure_line("590000001", "603").split(";")[:20])
    path = write(tmp_path / "finess" / "extract.csv",
                 f"finess;etalab;111;2026-05-12\n{short}\n")
    error = refusal(read_finess_extract, path)
    assert error.line == 2 and "20 champs au lieu de 31 (32 avec" in str(error)


def test_finess_geolocated_refuses_a_file_without_commune_code(tmp_path):
    path = write(tmp_path / "finess" / "geo.csv",
                 "nofinesset;rs;categetab\n010000024;CH DE FLEYRIAT;355\n")
    assert refusal(read_finess_geolocated, path).column == "commune_code"


def test_laposte_refuses_unreadable_coordinates(tmp_path):
    path = write(tmp_path / "geo" / "cp.csv", "\n".join([
        "Code_commune_INSEE;Nom_commune;Code_postal;Ligne_5;Libellé_d_acheminement;"
        "coordonnees_gps",
        "01001;A;01400;;A;46.0,5.0",
        "01002;B;01640;;B;nord,est",
    ]) + "\n")
    error = refusal(read_laposte_centroids, path)
    assert (error.line, error.column) == (3, "coordonnees_gps")


def test_cartosante_refuses_an_export_without_indicator(tmp_path):
    path = write(tmp_path / "cartosante" / "export.csv",
                 "CartoSanté; ; \nCode;Libellé\n16292;Ruffec\n")
    assert refusal(read_cartosante_export, path).column == "Libellé"
