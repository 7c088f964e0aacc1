"""staging.structures: one row per FINESS establishment (FINESS ET), from reference/finess/.

Optional: with no FINESS file in the landing folder the table is empty and the suite is skipped
(recorded in audit.validation_results), never blocking.
"""

TABLE = "staging.structures"

# A FINESS number is 9 characters: the département (2A/2B in Corsica, 97/98 overseas), then 7
# digits, the last being a check digit.
FINESS_NUMBER = r"^[0-9][0-9AB][0-9]{7}$"
STRUCTURE_TYPES = ["MSP", "CDS", "CPTS"]


def expectations(gx, reference):
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="finess_et"),
        e.ExpectColumnValuesToMatchRegex(column="finess_et", regex=FINESS_NUMBER),
        e.ExpectColumnValuesToBeUnique(column="finess_et"),
        e.ExpectColumnValuesToNotBeNull(column="name"),
        e.ExpectColumnValuesToNotBeNull(column="category_code"),
        e.ExpectColumnValuesToBeInSet(column="structure_type", value_set=STRUCTURE_TYPES),
        e.ExpectColumnValuesToNotBeNull(column="commune_code"),
        e.ExpectColumnValuesToBeInSet(column="commune_code", value_set=reference.communes),
        # FINESS files carry the opening date of every establishment, but a missing one only
        # hides an establishment from "opened since" counts
        e.ExpectColumnValuesToNotBeNull(column="opened_on", severity="warning"),
    ]
