"""A whole night, in process, on the demo census/follow-up and a tiny activity panel."""

import shutil

import duckdb
from support import assert_no_professional_identifier, run_night

# Seed 002 (ARS Nord-Pas-de-Calais, May 2013), fiche 4 and fiche 6.
SEED_002_TERRITORIES = {
    "artois_douaisis": 19,
    "hainaut_cambresis": 15,
    "metropole_flandre_interieure": 10,
    "littoral": 9,
}
SEED_002_SHARES = {"artois_douaisis": 36, "hainaut_cambresis": 28,
                   "metropole_flandre_interieure": 19, "littoral": 17}
SEED_002_STAGES = {"fonctionnement": 12, "operationnalisation": 10, "conception": 12,
                   "reflexion": 19}


def test_census_figures_of_seed_002(published):
    rows = dict(published.execute(
        """SELECT geo_code, value FROM marts.indicator_values
           WHERE indicator_id = 'projets_nombre' AND geo_level = 'territoire_sante'
             AND category = 'ensemble' AND period = '2013-05'"""
    ).fetchall())
    assert rows == SEED_002_TERRITORIES
    total = published.execute(
        """SELECT value FROM marts.indicator_values
           WHERE indicator_id = 'projets_nombre' AND geo_level = 'region'
             AND category = 'ensemble' AND period = '2013-05'"""
    ).fetchone()[0]
    assert total == 53
    stages = dict(published.execute(
        """SELECT category, value FROM marts.indicator_values
           WHERE indicator_id = 'projets_nombre' AND geo_level = 'region'
             AND dimension = 'stade' AND period = '2013-05'"""
    ).fetchall())
    assert stages == SEED_002_STAGES
    shares = dict(published.execute(
        """SELECT geo_code, round(value) FROM marts.indicator_values
           WHERE indicator_id = 'projets_part_territoire' AND category = 'ensemble'
             AND period = '2013-05'"""
    ).fetchall())
    assert shares == SEED_002_SHARES


def test_reference_geography(published):
    assert published.execute("SELECT count(*) FROM ref.communes").fetchone()[0] == 34_969
    missing = published.execute(
        """SELECT count(*) FROM ref.communes
           WHERE department_code IS NULL OR region_code IS NULL"""
    ).fetchone()[0]
    assert missing == 0
    duras = published.execute(
        "SELECT count(*) FROM ref.communes WHERE epci_code = '244700449'"
    ).fetchone()[0]
    assert duras == 17


def test_every_layer_has_rows_and_nothing_is_lost(published):
    for table in ("raw.activity", "staging.activity", "staging.census", "staging.followup",
                  "marts.indicator_values", "marts.census_projects",
                  "marts.followup_criteria"):
        assert published.execute(f"SELECT count(*) FROM {table}").fetchone()[0] > 0, table
    for family in ("activity", "census", "followup"):
        raw, staged, rejected = published.execute(
            f"""SELECT (SELECT count(*) FROM raw.{family}),
                       (SELECT count(*) FROM staging.{family}),
                       (SELECT count(*) FROM audit.rejected_rows
                        WHERE table_name = 'staging.{family}')"""
        ).fetchone()
        assert raw == staged + rejected, family


def test_blocking_checks_recorded(published):
    failed = published.execute(
        """SELECT table_name, expectation FROM audit.validation_results
           WHERE severity = 'ERROR' AND NOT success"""
    ).fetchall()
    assert failed == []
    suites = {r[0] for r in published.execute(
        "SELECT DISTINCT table_name FROM audit.validation_results "
        "WHERE check_name = 'great_expectations'").fetchall()}
    assert suites == {"staging.activity", "staging.census", "staging.followup",
                      "staging.structures", "staging.reference_densities", "ref.communes"}


def test_no_raw_professional_identifier_in_any_column(published, tiny_landing):
    identifiers = set()
    for path in (tiny_landing / "activity").glob("*.csv"):
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            identifiers.add(line.split(";")[1])
    assert len(identifiers) > 100
    assert_no_professional_identifier(published, identifiers)


def test_dashboards_written(night):
    home, _ = night
    index = home / "dashboards" / "index.html"
    assert index.exists()
    html = index.read_text(encoding="utf-8")
    assert "Données de démonstration" in html


def test_failing_blocking_check_leaves_published_file_unchanged(night, tiny_landing, tmp_path):
    home, _ = night
    copy_home = tmp_path / "home"
    shutil.copytree(home, copy_home, ignore=shutil.ignore_patterns("dashboards"))
    landing = tmp_path / "landing"
    shutil.copytree(tiny_landing, landing)
    published = copy_home / "warehouse" / "observatoire.duckdb"
    before = published.read_bytes()
    # A professional's month sent twice: every row types cleanly, but the natural key
    # professional × month × commune is no longer unique — an ERROR expectation.
    source = sorted((landing / "activity").glob("*.csv"))[0]
    lines = source.read_text(encoding="utf-8").splitlines()
    (landing / "activity" / "renvoi.csv").write_text("\n".join(lines[:3]) + "\n",
                                                     encoding="utf-8")
    result = run_night(copy_home, landing)
    assert not result.success
    evaluations = [e.event_specific_data for e in result.all_events
                   if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = [(tuple(e.asset_key.path), e.check_name) for e in evaluations if not e.passed]
    assert (("staging", "activity"), "great_expectations") in failed
    assert published.read_bytes() == before
    con = duckdb.connect(str(published), read_only=True)
    assert con.execute("SELECT count(*) FROM raw.loaded_files WHERE source_file LIKE '%renvoi%'"
                   ).fetchone()[0] == 0
    con.close()

