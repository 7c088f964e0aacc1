"""ref.communes: one row per current commune (COG 2026), from data/reference/communes.parquet.

The file is committed and rebuilt by pipelines/geography/build_reference.py; the suite guards a
rebuild from a broken or partial package.
"""

TABLE = "ref.communes"

INSEE_CODE = r"^([0-9]{5}|2[AB][0-9]{3})$"
# Communes outside any EPCI (single-commune islands, overseas collectivities: 98 in COG 2026)
# and without a population (the six districts of the TAAF and Clipperton) are rare and known;
# beyond 0.5 % the package lost a field.
MOSTLY_PRESENT = 0.995
# France counts about 35,000 communes; fewer than 30,000 means a partial rebuild.
MIN_COMMUNES, MAX_COMMUNES = 30_000, 40_000


def expectations(gx, reference):
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="commune_code"),
        e.ExpectColumnValuesToMatchRegex(column="commune_code", regex=INSEE_CODE),
        e.ExpectColumnValuesToBeUnique(column="commune_code"),
        e.ExpectColumnValuesToNotBeNull(column="commune_name"),
        e.ExpectColumnValuesToNotBeNull(column="department_code"),
        e.ExpectColumnValuesToBeInSet(column="department_code", value_set=reference.departments),
        e.ExpectColumnValuesToNotBeNull(column="region_code"),
        e.ExpectColumnValuesToBeInSet(column="region_code", value_set=reference.regions),
        e.ExpectColumnValuesToNotBeNull(column="epci_code", mostly=MOSTLY_PRESENT),
        e.ExpectColumnValuesToBeInSet(column="epci_code", value_set=reference.epci),
        e.ExpectColumnValuesToNotBeNull(column="population", mostly=MOSTLY_PRESENT),
        e.ExpectColumnValuesToBeBetween(column="population", min_value=0),
        e.ExpectTableRowCountToBeBetween(min_value=MIN_COMMUNES, max_value=MAX_COMMUNES,
                                         severity="warning"),
    ]
