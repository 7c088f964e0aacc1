"""staging.census: one row per project × census date."""

TABLE = "staging.census"
# project_id is a key (md5 of région, territory and name): an analyst finds a project by its name
SHOWN_AS = {"project_id": "project_name"}
# messages about a column name it as the analyst's file does (pipelines/sources/contracts.py);
# the key stands for the three columns it is made of
FILE_COLUMNS = {
    "project_id": "region, territoire, nom_projet",
    "project_name": "nom_projet",
    "census_date": "date_recensement",
    "territory": "territoire",
    "stage_code": "stade",
    "structure_type": "type_structure",
    "region_code": "region",
}


def expectations(gx, reference):
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="project_id"),
        e.ExpectColumnValuesToNotBeNull(column="census_date"),
        e.ExpectColumnValuesToNotBeNull(column="territory"),
        e.ExpectColumnValuesToBeInSet(column="stage_code", value_set=reference.stages),
        e.ExpectColumnValuesToBeInSet(
            column="structure_type", value_set=reference.structure_types
        ),
        e.ExpectColumnValuesToBeInSet(column="region_code", value_set=reference.regions),
        e.ExpectCompoundColumnsToBeUnique(column_list=["project_id", "census_date"]),
    ]
