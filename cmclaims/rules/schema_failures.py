"""The encounter schema's failure cases for a batch: which lines and columns fail it, and with what.

The schema (cmclaims/schema/encounter.py) is validated lazily; its failure
cases become CM002 and CM009 findings, never an exception or a message on the
terminal. To keep millions of good lines out of pandera, each column's checks
first run once over its distinct values; only the lines that can fail are then
validated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa

from cmclaims.normalize.lines import Lines
from cmclaims.schema.encounter import VOCABULARY_COLUMNS, encounter_schema
from cmclaims.tables import Catalog


def _validation_frame(lines: Lines, columns: list[str], rows: np.ndarray) -> pd.DataFrame:
    """`rows` of the lines as pandera sees them: codes of required values (null = no value),
    vocabulary values as categoricals; ids are checked without being copied as text."""
    data: dict[str, object] = {}
    for column in columns:
        factorized = lines.text[column]
        codes = factorized.codes[rows]
        if column in VOCABULARY_COLUMNS or column == "place_of_service":
            categories = pd.Index(factorized.values.to_pandas(), dtype="str")
            data[column] = pd.Categorical.from_codes(codes, categories=categories)
        else:
            data[column] = pd.arrays.IntegerArray(codes.astype(np.int32), mask=codes < 0)
    return pd.DataFrame(data, index=rows)


def _suspects(lines: Lines, schema: pa.DataFrameSchema, rows: np.ndarray) -> np.ndarray:
    """The rows that can fail the schema: an empty required value, or a value whose check fails.

    Each column's checks run once over its distinct values (a few dozen), so the
    schema itself then validates only the suspect rows, not millions of good ones.
    """
    suspect = np.zeros(lines.size, dtype=bool)
    for name, column in schema.columns.items():
        factorized = lines.text[name]
        if not column.nullable:
            suspect |= factorized.codes < 0
        if column.checks:
            distinct = pd.DataFrame({name: factorized.values.to_pandas()})
            try:
                pa.DataFrameSchema({name: pa.Column(nullable=True, checks=column.checks)}).validate(distinct, lazy=True)
            except pa.errors.SchemaErrors as errors:
                bad = errors.failure_cases["index"].dropna().astype(np.int64).to_numpy()
                suspect |= np.isin(factorized.codes, bad)
    inside = np.zeros(lines.size, dtype=bool)
    inside[rows] = True
    return np.flatnonzero(suspect & inside)


def failure_cases(lines: Lines, catalog: Catalog, rows: np.ndarray) -> pd.DataFrame:
    """Validate `rows` of the batch lazily with the schema; one row per failure: line, column, check, value."""
    schema = encounter_schema(catalog, lines.present)
    suspects = _suspects(lines, schema, rows)
    frame = _validation_frame(lines, list(schema.columns), suspects)
    try:
        schema.validate(frame, lazy=True)
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
