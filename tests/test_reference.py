import duckdb
import pytest

from pipelines.geography.reference import REFERENCE_SOURCE, REFERENCE_TABLES, load_reference
from pipelines.settings import REFERENCE_DIR

# Row counts of @etalab/decoupage-administratif 6.0.0 (COG 2026), as listed in
# data/reference/README.md.
EXPECTED_ROWS = {
    "communes": 34_969,
    "attached_communes": 2_621,
    "former_communes": 4_240,
    "epci": 1_255,
    "departements": 109,
    "regions": 26,
}


@pytest.fixture(scope="module")
def loaded():
    con = duckdb.connect()
    yield con, load_reference(con)
    con.close()


@pytest.fixture
def con(loaded):
    return loaded[0]


def scalar(con, query):
    return con.sql(query).fetchall()[0][0]


def test_row_counts_of_every_table(loaded):
    con, counts = loaded
    assert counts == EXPECTED_ROWS
    for table, rows in EXPECTED_ROWS.items():
        assert scalar(con, f"SELECT count(*) FROM ref.{table}") == rows


def test_reload_replaces_the_tables(con):
    assert load_reference(con) == EXPECTED_ROWS


def test_codes_are_text_and_populations_are_integers(con):
    types = dict(
        con.sql(
            "SELECT table_name || '.' || column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name = 'ref'"
        ).fetchall()
    )
    for column in (
        "communes.commune_code",
        "attached_communes.parent_commune_code",
        "former_communes.former_code",
        "former_communes.current_code",
        "epci.epci_code",
    ):
        assert types[column] == "VARCHAR"
    assert types["communes.population"] == types["epci.population"] == "BIGINT"
    # leading zeros kept, Corsica's 2A/2B kept
    assert scalar(con, "SELECT commune_name FROM ref.communes WHERE commune_code = '01004'") == (
        "Ambérieu-en-Bugey"
    )
    assert scalar(con, "SELECT commune_name FROM ref.communes WHERE commune_code = '2A004'") == (
        "Ajaccio"
    )
    assert (
        scalar(
            con,
            "SELECT count(*) FROM ref.communes WHERE NOT regexp_full_match(commune_code, "
            "'[0-9][0-9AB][0-9]{3}')",
        )
        == 0
    )


def test_every_commune_has_a_department_and_a_region(con):
    assert (
        scalar(
            con,
            "SELECT count(*) FROM ref.communes c "
            "JOIN ref.departements d USING (department_code) JOIN ref.regions r "
            "ON r.region_code = c.region_code",
        )
        == EXPECTED_ROWS["communes"]
    )


def test_only_the_uninhabited_territories_lack_a_population(con):
    # The package gives no population for the five districts of the Terres australes et
    # antarctiques françaises (984) and for Clipperton (989): nobody lives there permanently.
    missing = con.sql(
        "SELECT commune_code, department_code FROM ref.communes WHERE population IS NULL ORDER BY 1"
    ).fetchall()
    assert len(missing) == 6
    assert {dept for _, dept in missing} == {"984", "989"}
    # Zero is a real population: the six "villages morts pour la France" of the Meuse, destroyed
    # at Verdun in 1916 and kept as communes without inhabitants.
    assert con.sql(
        "SELECT commune_code FROM ref.communes WHERE population <= 0 ORDER BY 1"
    ).fetchall() == [("55039",), ("55050",), ("55139",), ("55189",), ("55239",), ("55307",)]
    assert scalar(con, "SELECT count(*) FROM ref.epci WHERE population IS NULL") == 0


def test_duras_epci_has_seventeen_communes(con):
    assert scalar(con, "SELECT epci_name FROM ref.epci WHERE epci_code = '244700449'") == (
        "CC du Pays de Duras"
    )
    assert scalar(con, "SELECT count(*) FROM ref.communes WHERE epci_code = '244700449'") == 17


def test_lomme_is_attached_to_lille(con):
    assert con.sql(
        "SELECT a.commune_name, a.commune_type, c.commune_code, c.commune_name "
        "FROM ref.attached_communes a JOIN ref.communes c ON c.commune_code = "
        "a.parent_commune_code WHERE a.commune_code = '59355'"
    ).fetchall() == [("Lomme", "commune-associee", "59350", "Lille")]


def test_every_attached_and_former_code_points_to_a_current_commune(con):
    for table, column in (
        ("attached_communes", "parent_commune_code"),
        ("former_communes", "current_code"),
    ):
        assert (
            scalar(
                con,
                f"SELECT count(*) FROM ref.{table} t ANTI JOIN ref.communes c "
                f"ON c.commune_code = t.{column}",
            )
            == 0
        )


def test_every_table_and_column_has_a_french_comment_naming_the_source(con):
    tables = dict(
        con.sql(
            "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'ref'"
        ).fetchall()
    )
    assert set(tables) == set(REFERENCE_TABLES)
    for comment in tables.values():
        assert comment.endswith(f"Source : {REFERENCE_SOURCE}.")
    columns = con.sql(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = 'ref'"
    ).fetchall()
    assert len(columns) == sum(len(cols) for _, cols in REFERENCE_TABLES.values())
    assert all(comment and len(comment) > 10 for _, _, comment in columns)


def test_source_names_the_packaged_version():
    package, version = (REFERENCE_DIR / "VERSION").read_text().strip().rsplit("@", 1)
    assert REFERENCE_SOURCE.startswith(f"{package} {version}, ")
