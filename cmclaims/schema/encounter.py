"""The pandera schema of the encounter export's values.

It checks the cleaned text of each line: required columns have a value,
vocabulary columns hold a known value, places of service are two digits.
The CM0 rules (cmclaims/rules/schema_failures.py) validate the batch against
it and turn its failure cases into CM002 and CM009 findings. Dates, times and
numbers are judged by their parsers instead (CM003-CM005), which say more
precisely what is wrong.
"""

from __future__ import annotations

import pandera.pandas as pa

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


def encounter_schema(catalog: Catalog, present: frozenset[str]) -> pa.DataFrameSchema:
    """Required values present; vocabulary columns (those the batch has) hold known values."""
    # A line needs its required values; end_time may be absent where duration_minutes
    # stands in for it (CM002 judges the pair itself).
    stood_in = {c for c, stand_in in ENCOUNTER.stand_ins if stand_in in present}
    columns: dict[str, pa.Column] = {
        name: pa.Column(nullable=name in stood_in) for name in ENCOUNTER.required
    }
    for column, vocabulary in VOCABULARY_COLUMNS.items():
        if column in present:
            columns[column] = pa.Column(nullable=True, checks=pa.Check.isin(list(catalog.vocabulary(vocabulary))))
    if "place_of_service" in present:
        columns["place_of_service"] = pa.Column(nullable=True, checks=pa.Check.str_matches(PLACE_OF_SERVICE))
    return pa.DataFrameSchema(columns, coerce=False, strict=False)
