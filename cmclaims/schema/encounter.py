"""The pandera schema of the encounter export's values, and its failures as findings.

The schema checks the cleaned text of each line: required columns have a
value, vocabulary columns hold a known value, places of service are two digits.
It is validated lazily over the whole batch; its failure cases (row, column,
check) become CM002 and CM009 findings, never an exception or a message on
the terminal. Dates, times and numbers are judged by their parsers instead
(CM003-CM005), which say more precisely what is wrong.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from cmclaims.normalize.lines import Lines
from cmclaims.schema.columns import ENCOUNTER
from cmclaims.tables import Catalog

# column -> the vocabulary its values come from (SPEC section 2)
VOCABULARY_COLUMNS = {
    "activity": "activity",
    "contact_type": "contact_type",
    "member_present": "yes_no",
    "note_signed": "yes_no",
    "member_setting": "setting",
    "member_population": "population",
    "claim_frequency": "claim_frequency",
}
PLACE_OF_SERVICE = r"^\d{2}$"


def validation_frame(lines: Lines) -> pd.DataFrame:
    """The lines as pandera sees them: presence of required values, vocabulary values as categoricals.

    Required columns are given as their nullable integer codes (null = no value),
    so member and claim ids are checked without being copied as text.
    """
    data: dict[str, object] = {}
    for column in ENCOUNTER.required:
        codes = lines.text[column].codes
        data[column] = pd.arrays.IntegerArray(codes, mask=codes < 0)
    for column in (*VOCABULARY_COLUMNS, "place_of_service"):
        if column in lines.present:
            factorized = lines.text[column]
            categories = pd.Index(factorized.values.to_pandas(), dtype="str")
            data[column] = pd.Categorical.from_codes(factorized.codes, categories=categories)
    return pd.DataFrame(data)


def encounter_schema(catalog: Catalog, frame: pd.DataFrame) -> pa.DataFrameSchema:
    columns: dict[str, pa.Column] = {name: pa.Column(nullable=False) for name in ENCOUNTER.required}
    for column, vocabulary in VOCABULARY_COLUMNS.items():
        if column in frame:
            columns[column] = pa.Column(nullable=True, checks=pa.Check.isin(list(catalog.vocabulary(vocabulary))))
    if "place_of_service" in frame:
        columns["place_of_service"] = pa.Column(nullable=True, checks=pa.Check.str_matches(PLACE_OF_SERVICE))
    return pa.DataFrameSchema(columns, coerce=False, strict=False)


def failure_cases(lines: Lines, catalog: Catalog, rows: np.ndarray) -> pd.DataFrame:
    """Validate `rows` of the batch lazily; one row per failure: line, column, check, value."""
    frame = validation_frame(lines).iloc[rows]
    try:
        encounter_schema(catalog, frame).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["index"].notna()]
        return pd.DataFrame(
            {
                "line": cases["index"].astype(np.int64).to_numpy(),
                "column": cases["column"].astype(str).to_numpy(),
                "missing": cases["check"].astype(str).eq("not_nullable").to_numpy(),
                "value": cases["failure_case"].astype(str).to_numpy(),
            }
        )
    return pd.DataFrame(
        {
            "line": np.empty(0, np.int64),
            "column": np.empty(0, object),
            "missing": np.empty(0, bool),
            "value": np.empty(0, object),
        }
    )
