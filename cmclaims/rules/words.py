"""Turning numbers into a clerk's words, vectorised over the flagged lines.

Messages are templates (`{units} units on {date} exceed ...`) filled from
whole arrays at once: no Python loop over lines, however many are flagged.
"""

from __future__ import annotations

import string
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def clock(minutes: np.ndarray) -> np.ndarray:
    """Minutes after midnight as `HH:MM` (the next day's times wrap)."""
    within = np.mod(np.asarray(minutes, dtype=np.int64), 1440)
    if within.size == 0:
        return np.empty(0, dtype="U5")
    hours = np.char.zfill((within // 60).astype("U2"), 2)
    mins = np.char.zfill((within % 60).astype("U2"), 2)
    return np.char.add(np.char.add(hours, ":"), mins)


def iso_date(days: np.ndarray) -> np.ndarray:
    """Day numbers as `YYYY-MM-DD`."""
    return _calendar_text(days, "datetime64[D]")


def month_label(days: np.ndarray) -> np.ndarray:
    """Day numbers as the month they fall in, `YYYY-MM`."""
    return _calendar_text(days, "datetime64[M]")


def year_label(days: np.ndarray) -> np.ndarray:
    """Day numbers as the calendar year they fall in, `YYYY`."""
    return _calendar_text(days, "datetime64[Y]")


def _calendar_text(days: np.ndarray, unit: str) -> np.ndarray:
    """Day numbers written in a numpy calendar unit, each distinct day once (findings share a few hundred)."""
    distinct, where = np.unique(np.asarray(days, dtype=np.int64), return_inverse=True)
    return distinct.astype("datetime64[D]").astype(unit).astype(str)[where.reshape(np.shape(days))]


def counted(values: np.ndarray, noun: str) -> np.ndarray:
    """Counts with their noun, singular or plural: `1 unit`, `17 units`."""
    numbers = np.asarray(values)
    if numbers.dtype.kind in "iu":
        return _per_distinct_number(numbers, lambda n: f"1 {noun}" if n == 1 else f"{n} {noun}s")
    return np.where(numbers == 1, "1 " + noun, as_text(numbers) + f" {noun}s")


def as_text(values: np.ndarray) -> np.ndarray:
    """Any array as an object array of str, ready for `+` with other text."""
    numbers = np.asarray(values)
    if numbers.dtype.kind in "iu":
        return _per_distinct_number(numbers, str)
    return numbers.astype(str).astype(object)


def _per_distinct_number(numbers: np.ndarray, text: Callable[[int], str]) -> np.ndarray:
    """`text` of each integer, as an object array: worded once per distinct number (a night's findings
    repeat a few dozen unit counts tens of thousands of times)."""
    distinct, where = np.unique(numbers, return_inverse=True)
    return np.array([text(n) for n in distinct.tolist()], dtype=object)[where.reshape(numbers.shape)]


def per_distinct(build: Callable[..., np.ndarray], *keys: np.ndarray) -> pa.Array:
    """Text built once per distinct combination of `keys` (integer arrays) and gathered per line.

    Flagged lines repeat the same few numbers (a start time, a unit length):
    `build` receives the distinct combinations, one array per key, and returns
    their texts; the lines get a dictionary array pointing at them. The text of
    a line is exactly what `build` would give for that line alone.
    """
    if keys[0].size == 0:
        return pa.array([], pa.string())
    # Each key numbered densely, the numbers packed into one integer per line, that integer made distinct.
    dense = [np.unique(np.asarray(k), return_inverse=True) for k in keys]
    packed = np.zeros(keys[0].size, dtype=np.int64)
    radix = 1
    for values, inverse in dense:
        if radix * values.size >= 1 << 62:  # renumber what is packed so far before it could overflow
            _, packed = np.unique(packed, return_inverse=True)
            packed, radix = packed.reshape(-1).astype(np.int64), int(packed.max()) + 1
        packed = packed * values.size + inverse.reshape(-1)
        radix *= values.size
    _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    texts = np.asarray(build(*(np.asarray(k)[first] for k in keys)), dtype=object)
    return pa.DictionaryArray.from_arrays(pa.array(inverse.reshape(-1).astype(np.int32)),
                                          pa.array(texts.tolist(), pa.string()))


def _text_array(value: object, size: int) -> pa.Array | pa.Scalar:
    if isinstance(value, pa.Array | pa.ChunkedArray):
        return value.cast(pa.string())
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f":
            value = np.where(np.isnan(value), "", np.char.mod("%g", np.nan_to_num(value)))
        array = pa.array(value.tolist() if value.dtype == object else value)
        return array.cast(pa.string())
    return pa.scalar("" if value is None else str(value), pa.string())


def render(template: str, fields: dict[str, object], size: int) -> pa.Array:
    """Fill `template` for `size` findings; each field is an array of that size or a scalar."""
    parts: list[pa.Array | pa.Scalar] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(pa.scalar(literal, pa.string()))
        if name:
            parts.append(_text_array(fields[name], size))
    if size == 0:
        return pa.array([], pa.string())
    if not any(isinstance(p, pa.Array) for p in parts):
        parts.append(pa.array([""] * size, pa.string()))
    return pc.binary_join_element_wise(*parts, "", null_handling="replace", null_replacement="")
