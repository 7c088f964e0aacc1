"""staging.reference_densities: one row per year × profession × territory × age group × sex, from
the data.ameli "effectifs et densités" files in reference/ameli/.

Optional: with no ameli file the table is empty and the suite is skipped (recorded in
audit.validation_results), never blocking.
"""

TABLE = "staging.reference_densities"

GEO_LEVELS = ["departement", "region", "france", "france_metropolitaine", "outre_mer"]
# ameli publishes figures from 2012 on; the CNAM workbooks go back to the 2000s.
FIRST_YEAR, LAST_YEAR = 2000, 2100
# The highest density ameli publishes is a few thousand per 100,000 (nurses in some
# départements, pharmacists around 300, GPs around 150); over 10,000 per 100,000 means one
# professional for ten inhabitants, a units mistake.
MAX_DENSITY_PER_100K = 10_000


def expectations(gx, reference):
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="year"),
        e.ExpectColumnValuesToBeBetween(column="year", min_value=FIRST_YEAR,
                                        max_value=LAST_YEAR),
        e.ExpectColumnValuesToNotBeNull(column="profession_label"),
        e.ExpectColumnValuesToBeInSet(column="profession_code", value_set=reference.professions),
        e.ExpectColumnValuesToBeInSet(column="geo_level", value_set=GEO_LEVELS),
        e.ExpectColumnValuesToBeInSet(column="department_code",
                                      value_set=reference.departments),
        e.ExpectColumnValuesToNotBeNull(column="headcount"),
        e.ExpectColumnValuesToBeBetween(column="headcount", min_value=0),
        e.ExpectColumnValuesToBeBetween(column="density_per_100k", min_value=0),
        e.ExpectColumnValuesToBeBetween(column="density_per_100k", min_value=0,
                                        max_value=MAX_DENSITY_PER_100K, severity="warning"),
        e.ExpectCompoundColumnsToBeUnique(
            column_list=["year", "profession_label", "geo_level", "region_code",
                         "department_code", "age_group", "sex"]
        ),
    ]
