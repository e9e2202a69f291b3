"""The words findings are made of: numbers worded once per distinct value read as numpy would write them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cmclaims.rules.words import as_text, counted, iso_date, month_label, year_label

integers = st.one_of(
    hnp.arrays(st.sampled_from([np.int8, np.int16, np.int32, np.int64]), st.integers(0, 300),
               elements=st.integers(-128, 127)),
    hnp.arrays(np.uint32, st.integers(0, 300), elements=st.integers(0, 2**32 - 1)),
)


@settings(max_examples=100, deadline=None)
@given(integers)
def test_numbers_are_worded_as_numpy_writes_them(numbers: np.ndarray) -> None:
    plain = numbers.astype(str).astype(object)
    assert as_text(numbers).tolist() == plain.tolist()
    assert counted(numbers, "unit").tolist() == np.where(numbers == 1, "1 unit", plain + " units").tolist()
    assert as_text(numbers).dtype == object  # ready for `+` with other text


def test_floats_and_an_empty_array() -> None:
    assert counted(np.array([1.0, 2.5]), "hour").tolist() == ["1 hour", "2.5 hours"]
    assert counted(np.array([], dtype=np.int64), "unit").tolist() == []


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 200), elements=st.integers(-30_000, 60_000)))
def test_dates_are_written_as_numpy_writes_them(days: np.ndarray) -> None:
    stamped = days.astype("datetime64[D]")
    assert iso_date(days).tolist() == stamped.astype(str).tolist()
    assert month_label(days).tolist() == stamped.astype("datetime64[M]").astype(str).tolist()
    assert year_label(days).tolist() == stamped.astype("datetime64[Y]").astype(str).tolist()
