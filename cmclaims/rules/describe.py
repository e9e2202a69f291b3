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


def ascii_table(texts: np.ndarray, width: int) -> np.ndarray:
    """ASCII texts all `width` characters long as a byte matrix, one row a text."""
    return np.frombuffer("".join(texts.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, width)


_CLOCK_BYTES = ascii_table(clock(np.arange(MINUTES_A_DAY)), 5)


def spelled(indices: np.ndarray, words: pa.Array, blank: np.ndarray | None = None) -> pa.Array:
    """`words[indices]` as Arrow strings, built without a Python string per line; null where `blank` or < 0."""
    missing = indices < 0 if blank is None else blank | (indices < 0)
    index = pa.array(np.where(missing, 0, indices).astype(np.int32), pa.int32(), mask=missing)
    return pa.DictionaryArray.from_arrays(index, words).cast(pa.string())


def when(ctx: Context, rows: np.ndarray) -> pa.Array:
    """`2026-03-04 09:00-09:40` for each of `rows`, for messages (`?` for a value that is missing)."""
    day = ctx.column("service_day")[rows].astype(np.int64)
    return when_text(day, ctx.column("start_minute")[rows], ctx.column("end_minute")[rows])


def when_text(day: np.ndarray, start: np.ndarray, end: np.ndarray) -> pa.Array:
    """Day numbers and start and end minutes as `2026-03-04 09:00-09:40` (`?` for MISSING).

    Each distinct date and minute is written once and looked up, so naming a
    million lines costs a few integer gathers, not a million Python strings.
    When every line has its date and times (always, for the CM4 overlaps that
    flag most lines of a bad night), the texts are all 22 bytes wide and are
    gathered straight into one byte matrix, without Arrow's joins.
    """
    known = day != MISSING
    low, high = (int(day[known].min()), int(day[known].max())) if known.any() else (0, 0)
    dates = iso_date(np.arange(low, high + 1))
    if known.all() and (start != MISSING).all() and (end != MISSING).all() and (np.char.str_len(dates) == 10).all():
        date, start_clock, end_clock = day - low, np.mod(start, MINUTES_A_DAY), np.mod(end, MINUTES_A_DAY)
        return fixed_width_text([(ascii_table(dates, 10), date), b" ", (_CLOCK_BYTES, start_clock), b"-",
                                 (_CLOCK_BYTES, end_clock)], day.size)
    return _when_joined(day - low, ~known, dates, start, end)


def _when_joined(day_index: np.ndarray, no_day: np.ndarray, dates: np.ndarray, start: np.ndarray,
                 end: np.ndarray) -> pa.Array:
    """`when_text` for lines that may miss a value: the parts spelled, `?` put in, and joined."""
    parts = (
        spelled(day_index, pa.array(dates.tolist(), pa.string()), no_day),
        spelled(np.mod(start, MINUTES_A_DAY), _CLOCK, start == MISSING),
        spelled(np.mod(end, MINUTES_A_DAY), _CLOCK, end == MISSING),
    )
    parts = tuple(pc.fill_null(p, "?") for p in parts)
    return pc.binary_join_element_wise(parts[0], pc.binary_join_element_wise(parts[1], parts[2], "-"), " ")


def fixed_width_text(pieces: list[tuple[np.ndarray, np.ndarray] | bytes], size: int) -> pa.Array:
    """Strings of one width, gathered piece by piece into one byte matrix that becomes Arrow's data buffer.

    A piece is a literal (`b"-"`) or a table of equally wide texts as bytes, one
    row a text, with each string's row in it.
    """
    widths = [len(p) if isinstance(p, bytes) else p[0].shape[1] for p in pieces]
    matrix = np.empty((size, sum(widths)), dtype=np.uint8)
    at = 0
    for piece, width in zip(pieces, widths, strict=True):
        if isinstance(piece, bytes):
            matrix[:, at:at + width] = np.frombuffer(piece, dtype=np.uint8)
        else:
            table, index = piece
            matrix[:, at:at + width] = table[index]
        at += width
    offsets = np.arange(size + 1, dtype=np.int64) * matrix.shape[1]
    text_type = pa.string() if offsets[-1] < 1 << 31 else pa.large_string()
    offsets = offsets.astype(np.int32) if text_type == pa.string() else offsets
    return pa.Array.from_buffers(text_type, size, [None, pa.py_buffer(offsets), pa.py_buffer(matrix)])


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
