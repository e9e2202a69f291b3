"""How a line is named in a message: its service, its date and times, a column's text.

Everything is built in Arrow from the distinct values (a code, a date, a
minute of the day is written once and looked up), so naming a million flagged
lines costs integer gathers, not a million Python strings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.normalize.lines import MISSING
from cmclaims.rules.words import clock, iso_date

if TYPE_CHECKING:
    from cmclaims.rules.context import Context

MINUTES_A_DAY = 1440
_CLOCK = pa.array(clock(np.arange(MINUTES_A_DAY)).tolist(), pa.string())


def spelled(indices: np.ndarray, words: pa.Array, blank: np.ndarray | None = None) -> pa.Array:
    """`words[indices]` as Arrow strings, built without a Python string per line; null where `blank` or < 0."""
    missing = indices < 0 if blank is None else blank | (indices < 0)
    index = pa.array(np.where(missing, 0, indices).astype(np.int32), pa.int32(), mask=missing)
    return pa.DictionaryArray.from_arrays(index, words).cast(pa.string())


def when(ctx: Context, rows: np.ndarray) -> pa.Array:
    """`2026-03-04 09:00-09:40` for each of `rows`, for messages (`?` for a value that is missing).

    Each distinct date and minute is written once and looked up, so flagging
    a million lines costs a few integer gathers, not a million Python strings.
    """
    day = ctx.column("service_day")[rows].astype(np.int64)
    start, end = ctx.column("start_minute")[rows], ctx.column("end_minute")[rows]
    known = day != MISSING
    low, high = (int(day[known].min()), int(day[known].max())) if known.any() else (0, 0)
    dates = pa.array(iso_date(np.arange(low, high + 1)).tolist(), pa.string())
    parts = (
        spelled(day - low, dates, ~known),
        spelled(np.mod(start, MINUTES_A_DAY), _CLOCK, start == MISSING),
        spelled(np.mod(end, MINUTES_A_DAY), _CLOCK, end == MISSING),
    )
    parts = tuple(pc.fill_null(p, "?") for p in parts)
    return pc.binary_join_element_wise(parts[0], pc.binary_join_element_wise(parts[1], parts[2], "-"), " ")


def service_text(ctx: Context, rows: np.ndarray) -> pa.Array:
    """Code and modifiers as a claim shows them (`T1017 HE TF`), built per distinct combination."""
    hcpcs = ctx.lines.text["hcpcs"]
    code = spelled(hcpcs.codes[rows], hcpcs.values)
    modifiers = spelled(ctx.services.combo[rows], pa.array(ctx.services.combo_modifiers.tolist(), pa.string()))
    return pc.utf8_rtrim_whitespace(pc.binary_join_element_wise(code, modifiers, " "))


def text_of(ctx: Context, column: str, rows: np.ndarray) -> pa.Array:
    """The cleaned text of `column` on `rows` (null where blank), for messages."""
    return ctx.lines.text[column].text(rows)




def service_text_objects(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """service_text as an object array, for messages assembled with numpy string `+`."""
    return np.asarray(service_text(ctx, rows).to_pylist(), dtype=object)
