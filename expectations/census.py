"""staging.census: one row per project × census date."""

TABLE = "staging.census"


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
