"""staging.followup: one row per programme × action × criterion × period."""

TABLE = "staging.followup"
# messages about a column name it as the analyst's file does (pipelines/sources/contracts.py)
FILE_COLUMNS = {
    "programme": "programme",
    "action": "action",
    "criterion": "critere",
    "period": "periode",
    "value": "valeur",
    "milestone": "valeur",
    "target_milestone": "cible",
    "value_nature": "nature_valeur",
}


# the states parse_milestone (models/macros.sql) reads a step's value as
MILESTONE_STATES = ["réalisé", "en cours", "non réalisé", "abandonné"]


def expectations(gx, reference):
    e = gx.expectations
    return [
        e.ExpectColumnValuesToNotBeNull(column="programme"),
        e.ExpectColumnValuesToNotBeNull(column="criterion"),
        e.ExpectColumnValuesToMatchRegex(
            column="period", regex=r"^\d{4}(?:-(?:0[1-9]|1[0-2]|T[1-4]|S[12]))?$"
        ),
        e.ExpectColumnValuesToBeBetween(column="value", min_value=0, severity="warning"),
        e.ExpectColumnValuesToBeInSet(
            column="value_nature", value_set=["observée", "illustrative"]
        ),
        *(e.ExpectColumnValuesToBeInSet(column=column, value_set=MILESTONE_STATES)
          for column in ("milestone", "target_milestone")),
        e.ExpectCompoundColumnsToBeUnique(
            column_list=["programme", "action", "criterion", "period"]
        ),
    ]
