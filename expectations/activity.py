"""staging.activity: one row per pseudonymised professional × month × commune of practice."""

from pipelines.ingest.pseudonymise import HASH_FLOOR

TABLE = "staging.activity"
# every expectation holds row by row or within one month (the uniqueness key has the month): the
# suite may run month by month (pipelines/quality/great_expectations.py, BATCH_ROWS)
BATCH_COLUMN = "period_month"
# messages about a column name it as the analyst's file does (pipelines/sources/contracts.py)
FILE_COLUMNS = {
    "period_month": "periode",
    "professional_hash": "id_professionnel pseudonymisé",
    "profession_code": "profession",
    "commune_code": "code_commune_exercice",
    "fte": "etp",
    "acts": "nb_actes",
    "patients": "nb_patients",
}

# A full-time GP bills about 400–500 acts a month and a nurse about 1,000 (CNAM, "Les
# professionnels de santé libéraux", ordres de grandeur); beyond 4,000 a month one professional
# is almost certainly two people or a software export fault.
MAX_ACTS_PER_MONTH = 4000
MAX_FTE = 1.5


def expectations(gx, reference):
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="period_month"),
        e.ExpectColumnValuesToNotBeNull(column="professional_hash"),
        # every pseudonym is 2^62 or more; an RPPS (11 digits) there escaped pseudonymisation
        e.ExpectColumnValuesToBeBetween(column="professional_hash", min_value=HASH_FLOOR),
        e.ExpectColumnValuesToBeInSet(column="profession_code", value_set=reference.professions),
        e.ExpectColumnValuesToBeInSet(column="commune_code", value_set=reference.communes),
        e.ExpectColumnValuesToBeBetween(column="fte", min_value=0, max_value=MAX_FTE),
        e.ExpectColumnValuesToBeBetween(column="acts", min_value=0),
        e.ExpectColumnValuesToBeBetween(
            column="acts", min_value=0, max_value=MAX_ACTS_PER_MONTH, severity="warning"
        ),
        e.ExpectColumnValuesToBeBetween(column="patients", min_value=0),
        e.ExpectCompoundColumnsToBeUnique(
            column_list=["professional_hash", "period_month", "commune_code"]
        ),
    ]
