"""The published warehouse explains itself: comments everywhere, the analysts' views, the data
dictionary, docs/warehouse.md and its example queries.

Refresh docs/warehouse.md on purpose with UPDATE_SNAPSHOTS=1 when tables, comments or example
queries change.
"""

import os
import shutil

import duckdb
import pytest

from pipelines.publish.documentation import (
    RAW_NOTICE,
    VIEWS_DIR,
    apply_comments,
    create_views,
    dictionary,
    example_queries,
    load_comments,
    render_markdown,
    uncommented,
    unknown_entries,
)
from pipelines.settings import REPO_ROOT
from pipelines.sql import macros_sql, model_sql

WAREHOUSE_DOC = REPO_ROOT / "docs" / "warehouse.md"


def test_every_table_and_column_of_the_published_file_has_a_comment(published):
    tables, columns = published.execute(
        """SELECT (SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database())
                + (SELECT count(*) FROM duckdb_views()
                   WHERE database_name = current_database() AND NOT internal),
                  (SELECT count(*) FROM duckdb_columns()
                   WHERE database_name = current_database())"""
    ).fetchone()
    assert tables > 30 and columns > 250
    missing = uncommented(published)
    assert missing == [], f"sans commentaire dans models/comments.yaml : {', '.join(missing)}"


def test_schemas_are_the_documented_few(published):
    schemas = {row[0] for row in published.execute(
        "SELECT DISTINCT schema_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()}
    assert schemas == {"ref", "raw", "staging", "marts", "audit"}
    assert set(load_comments()["schemas"]) == schemas


def test_raw_tables_are_marked_internal(published):
    raw = published.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'raw'"
    ).fetchall()
    assert {name for name, _ in raw} >= {"activity", "census", "followup", "loaded_files"}
    for name, comment in raw:
        assert comment.startswith(RAW_NOTICE), name
        assert len(comment) > len(RAW_NOTICE) + 20, f"raw.{name} : le contenu n'est pas décrit"


def test_comments_file_names_only_what_the_file_holds(published):
    stale = unknown_entries(published)
    assert stale == [], f"décrits dans models/comments.yaml mais absents : {', '.join(stale)}"


def test_a_column_missing_from_the_comments_is_named():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.counts (territory VARCHAR, projects BIGINT)")
    con.execute("CREATE VIEW marts.v_counts AS SELECT territory AS territoire FROM marts.counts")
    comments = {
        "tables": {
            "marts.counts": {"comment": "Projets.", "columns": {"territory": "Territoire."}},
            "marts.gone": {"comment": "Une table disparue."},
            "marts.v_counts": {"comment": "Vue.", "columns": {"population": "Inconnue."}},
        }
    }
    report = apply_comments(con, comments)
    assert report.uncommented == ["marts.counts.projects", "marts.v_counts.territoire"]
    assert report.unknown == ["marts.gone", "marts.v_counts.population"]
    assert con.execute(
        "SELECT comment FROM duckdb_views() WHERE view_name = 'v_counts'"
    ).fetchone()[0] == "Vue."


def test_the_night_reports_no_missing_comment(night):
    _, result = night
    published = [
        e.event_specific_data.materialization for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.event_specific_data.materialization.asset_key.path == ["publish", "warehouse"]
    ]
    assert len(published) == 1
    metadata = {k: v.value for k, v in published[0].metadata.items()}
    assert metadata["uncommented"] == []
    assert sorted(metadata["views"]) == sorted(
        f"marts.{p.stem}" for p in VIEWS_DIR.glob("*.sql")
    )


def test_v_indicateurs_has_one_labelled_row_per_indicator_value(published):
    values = published.execute("SELECT count(*) FROM marts.indicator_values").fetchone()[0]
    rows, unlabelled = published.execute(
        """SELECT count(*), count(*) FILTER (WHERE libelle_indicateur IS NULL
                                             OR libelle_categorie IS NULL)
           FROM marts.v_indicateurs"""
    ).fetchone()
    assert rows == values > 0
    assert unlabelled == 0
    # a territory's reference is named, as it is in its own rows
    artois = published.execute(
        """SELECT DISTINCT territoire_reference FROM marts.v_indicateurs
           WHERE indicateur = 'projets_part_stade' AND code_geo = 'artois_douaisis'"""
    ).fetchall()
    region = published.execute(
        "SELECT geo_name FROM marts.indicator_values WHERE indicator_id = 'projets_part_stade' "
        "AND geo_level = 'region' LIMIT 1"
    ).fetchone()[0]
    assert artois == [(region,)]
    stage = published.execute(
        """SELECT libelle_categorie, valeur FROM marts.v_indicateurs
           WHERE indicateur = 'projets_nombre' AND code_geo = 'artois_douaisis'
             AND categorie = 'fonctionnement'"""
    ).fetchone()
    label = published.execute(
        "SELECT label FROM ref.stages WHERE stage_code = 'fonctionnement'"
    ).fetchone()[0]
    assert stage[0] == label


def test_v_profil_territoire_takes_a_programmes_year_after_its_quarters():
    """A programme follows a criterion by quarter and by year: as text, '2024-T1' was the
    latest period of its profile, where the year 2024 ends after it."""
    con = duckdb.connect()
    con.execute(macros_sql())
    con.execute("CREATE SCHEMA marts")
    con.execute("""CREATE TABLE marts.v_indicateurs AS
        SELECT 'programme' AS niveau_geo, 'cls_test' AS code_geo, 'CLS de test' AS territoire,
               'suivi_valeur' AS indicateur, 'Valeur' AS libelle_indicateur,
               'critere' AS dimension, 'vaccination' AS categorie,
               'Vaccination' AS libelle_categorie, periode, valeur, NULL AS ic_bas,
               NULL AS ic_haut, '%' AS unite, NULL AS territoire_reference,
               NULL AS valeur_reference, NULL AS comparaison, false AS secret_statistique
        FROM (VALUES ('2023', 50.0), ('2024-T1', 55.0), ('2024-S1', 58.0), ('2024', 62.0))
             AS v(periode, valeur)""")
    [profile] = con.sql(model_sql("views", "v_profil_territoire")).fetchall()
    assert (profile[8], float(profile[9])) == ("2024", 62.0)


def test_views_are_made_in_a_file_whose_release_had_not_their_macros(night, tmp_path):
    """A night that only publishes runs no model: in a file from a release without the macro
    period_order (its deployment kept OBSERVATOIRE_CODE_VERSION), making the views failed and
    blocked the night."""
    home, _ = night
    copy = tmp_path / "ancienne_version.duckdb"
    shutil.copyfile(home / "warehouse" / "observatoire.duckdb", copy)
    con = duckdb.connect(str(copy))
    con.execute("DROP VIEW marts.v_profil_territoire")
    con.execute("DROP MACRO period_order")
    assert "marts.v_profil_territoire" in create_views(con)
    assert con.execute("SELECT count(*) FROM marts.v_profil_territoire").fetchone()[0] > 0
    con.close()


def test_v_profil_territoire_keeps_the_latest_period_of_each_indicator_and_category(published):
    duplicates = published.execute(
        """SELECT count(*) FROM (
               SELECT niveau_geo, code_geo, indicateur, dimension, categorie
               FROM marts.v_profil_territoire GROUP BY ALL HAVING count(*) > 1)"""
    ).fetchone()[0]
    assert duplicates == 0
    expected = published.execute(
        """SELECT geo_level, geo_code, indicator_id, dimension, category, max(period)
           FROM marts.indicator_values GROUP BY ALL ORDER BY ALL"""
    ).fetchall()
    profile = published.execute(
        """SELECT niveau_geo, code_geo, indicateur, dimension, categorie, periode
           FROM marts.v_profil_territoire ORDER BY ALL"""
    ).fetchall()
    assert profile == expected
    years = published.execute(
        """SELECT DISTINCT period FROM marts.indicator_values
           WHERE indicator_id = 'densite_professionnels'"""
    ).fetchall()
    assert len(years) > 1  # so that keeping the latest one is tested


def test_v_historique_projets_follows_a_project_across_census_dates():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute(
        """CREATE TABLE marts.census_projects AS
           SELECT *, NULL::VARCHAR AS commune_names, NULL::VARCHAR AS commune_codes,
                  NULL::VARCHAR AS epci_code, NULL::BOOLEAN AS fragile_zone,
                  NULL::BOOLEAN AS near_zus, NULL::VARCHAR AS nmr_modules
           FROM (VALUES
               ('2013-05', 'Hauts-de-France', 'Littoral', 'MSP de Desvres', 'MSP', 'reflexion',
                'En réflexion', 1, 'p1'),
               ('2014-05', 'Hauts-de-France', 'Littoral', 'MSP de Desvres', 'MSP',
                'fonctionnement', 'En fonctionnement', 4, 'p1'),
               ('2015-05', 'Hauts-de-France', 'Littoral', 'MSP de Desvres', 'MSP', 'conception',
                'En conception', 2, 'p1'),
               ('2013-05', 'Hauts-de-France', 'Littoral', 'PSP de Samer', 'PSP', 'conception',
                'En conception', 2, 'p2'),
               ('2014-05', 'Hauts-de-France', 'Littoral', 'PSP de Samer', 'PSP', 'conception',
                'En conception', 2, 'p2')
           ) AS t(census_date, region, territory, project_name, structure_type, stage_code,
                  stage_label, stage_order, project_id)"""
    )
    view = con.sql((VIEWS_DIR / "v_historique_projets.sql").read_text())
    history = [dict(zip(view.columns, row, strict=True)) for row in view.fetchall()]
    assert [(h["projet"], h["date_recensement"], h["stade_precedent"], h["evolution"],
             h["nombre_recensements"], h["present_au_dernier_recensement"]) for h in history] == [
        ("MSP de Desvres", "2013-05", None, "premier recensement", 3, True),
        ("MSP de Desvres", "2014-05", "En réflexion", "progression", 3, True),
        ("MSP de Desvres", "2015-05", "En fonctionnement", "recul", 3, True),
        ("PSP de Samer", "2013-05", None, "premier recensement", 2, False),
        ("PSP de Samer", "2014-05", "En conception", "stable", 2, False),
    ]


def test_v_historique_projets_has_every_census_row(published):
    rows, projects = published.execute(
        "SELECT count(*), count(DISTINCT id_projet) FROM marts.v_historique_projets"
    ).fetchone()
    assert (rows, projects) == published.execute(
        "SELECT count(*), count(DISTINCT project_id) FROM marts.census_projects"
    ).fetchone()


def test_five_example_queries_return_rows(published):
    queries = example_queries()
    assert len(queries) == 5
    for query in queries:
        assert query.title and query.explanation, query.path.name
        rows = published.sql(query.sql).fetchall()
        assert rows, f"{query.path.name} : aucune ligne"


def test_dictionary_has_every_column_with_its_comment(published):
    frame = dictionary(published)
    columns = published.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE database_name = current_database()"
    ).fetchone()[0]
    assert frame.height == columns
    assert frame["column_comment"].null_count() == 0
    assert frame["table_comment"].null_count() == 0
    assert frame.row(0, named=True)["schema_name"] == "marts"
    assert frame.row(0, named=True)["table_type"] == "vue"
    assert frame["schema_name"].unique(maintain_order=True).to_list()[-1] == "raw"


def test_docs_warehouse_md_is_generated_from_the_comments(published):
    current = render_markdown(published)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        WAREHOUSE_DOC.write_text(current, encoding="utf-8")
    if not WAREHOUSE_DOC.exists():
        pytest.fail("docs/warehouse.md absent : UPDATE_SNAPSHOTS=1 pour le générer")
    assert current == WAREHOUSE_DOC.read_text(encoding="utf-8"), (
        "docs/warehouse.md n'est plus à jour : UPDATE_SNAPSHOTS=1 pour le régénérer"
    )
    for query in example_queries():
        assert query.sql in current
