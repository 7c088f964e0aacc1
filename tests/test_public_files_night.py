"""Real public files dropped in landing/reference/<format>/ reach their staging tables in a night;
a file its reader refuses blocks publication."""

import shutil

import dagster as dg
import duckdb
import pytest
from support import assert_no_professional_identifier, make_landing, real_data, run_night

from pipelines.sources.public.ameli import read_ameli_densities
from pipelines.sources.public.cartosante import read_cartosante_export
from pipelines.sources.public.finess import read_finess_extract
from pipelines.sources.public.laposte import read_laposte_centroids

PUBLIC_FILES = {
    "finess": "finess/etalab-cs1100502-stock-20260512-0339_excerpt15.csv",
    "ameli": "ameli/toutes_specialites_departement.csv",
    "rpps": "rpps/PS_LibreAcces_Personne_activite_small.txt",
    "laposte": "geography/laposte_hexasmal.csv",
    "cartosante": "cartosante/zonage-raw.csv",
}


@pytest.fixture(scope="module")
def landing_with_public_files(tmp_path_factory):
    landing = make_landing(tmp_path_factory.mktemp("public") / "landing", months=2)
    for folder, relative in PUBLIC_FILES.items():
        target = landing / "reference" / folder
        target.mkdir(parents=True)
        shutil.copy(real_data(relative), target)
    return landing


def test_public_files_reach_staging(tmp_path, landing_with_public_files):
    home = tmp_path / "home"
    assert run_night(home, landing_with_public_files).success
    expected = {
        "structures": read_finess_extract(real_data(PUBLIC_FILES["finess"])).height,
        "reference_densities": read_ameli_densities(real_data(PUBLIC_FILES["ameli"])).height,
        "rpps_activity": 22,
        "commune_centroids": read_laposte_centroids(real_data(PUBLIC_FILES["laposte"])).height,
        "cartosante_zoning": read_cartosante_export(real_data(PUBLIC_FILES["cartosante"])).height,
    }
    con = duckdb.connect(str(home / "warehouse" / "observatoire.duckdb"), read_only=True)
    counts = {t: con.execute(f"SELECT count(*) FROM staging.{t}").fetchone()[0]
              for t in expected}
    lines = real_data(PUBLIC_FILES["rpps"]).read_text(encoding="utf-8").splitlines()[1:]
    # "Identifiant PP" (RPPS 11 digits or ADELI 9) and "Identification nationale PP" (type + id)
    identifiers = {field for line in lines for field in line.split("|")[1:3]}
    assert len(identifiers) == 44
    assert_no_professional_identifier(con, identifiers)
    con.close()
    assert counts == expected
    assert expected["structures"] == 14 and expected["reference_densities"] == 4560


def test_a_refused_public_file_blocks_publication(tmp_path, landing_with_public_files):
    landing = tmp_path / "landing"
    shutil.copytree(landing_with_public_files, landing)
    (landing / "reference" / "laposte" / "laposte_hexasmal.csv").write_text(
        "colonne;autre\n1;2\n", encoding="utf-8")
    result = run_night(tmp_path / "home", landing)
    assert not result.success
    assert not (tmp_path / "home" / "warehouse" / "observatoire.duckdb").exists()
    # blocking failures only: a two-month landing also gets warnings (freshness, structures)
    failed = [e.event_specific_data for e in result.all_events
              if e.event_type_value == "ASSET_CHECK_EVALUATION"
              and not e.event_specific_data.passed
              and e.event_specific_data.severity == dg.AssetCheckSeverity.ERROR]
    assert [(tuple(e.asset_key.path), e.check_name) for e in failed] == [
        (("staging", "commune_centroids"), "files_readable")]
    message = failed[0].metadata["failures"].value[0]["unexpected_values"][0]
    assert message.startswith("reference/laposte/laposte_hexasmal.csv : Le fichier")
