"""What the ledger says was billed, as the requirements over time read it.

The lines of one profile in the months asked for, less voids and the originals
a void or replacement took out, become numpy columns sorted once by member,
day and start time. Texts (member, staff, code, contact type, place ...) are
kept as integer codes into their distinct values, so that 5 million lines
cost a few arrays of integers, not 5 million Python strings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger.store import LedgerStore
from cmclaims.ledger.view import history_lines
from cmclaims.normalize.values import MISSING
from cmclaims.schema.columns import VOID
from cmclaims.tables import Profile

COLUMNS = ["member_id", "staff_id", "hcpcs", "service_day", "start_minute", "units", "frequency",
           "contact_type", "place_of_service", "member_present", "activity"]
TEXTS = ("member_id", "staff_id", "hcpcs", "contact_type", "place_of_service", "member_present", "activity")


@dataclass
class Codes:
    """A text column as integer codes (-1 where empty) into its distinct values."""

    codes: np.ndarray
    values: pd.Index

    def isin(self, wanted: tuple[str, ...] | list[str]) -> np.ndarray:
        """Lines whose value is one of `wanted` (a lookup per distinct value, then one gather)."""
        table = np.zeros(len(self.values) + 1, dtype=bool)  # the last entry answers code -1 (no value)
        table[:-1] = self.values.isin(list(wanted))
        return table[self.codes]

    @property
    def known(self) -> np.ndarray:
        """Lines with a value."""
        return self.codes >= 0


@dataclass
class History:
    """Billed lines sorted by member, day and start; `texts` as codes, the rest plain arrays."""

    texts: dict[str, Codes]
    day: np.ndarray  # int64 day numbers
    start: np.ndarray  # int32 minutes after midnight; MISSING when the ledger does not know
    minutes: np.ndarray  # int64: units times the code's unit length (0 for per-diem codes)

    @property
    def size(self) -> int:
        """How many lines."""
        return int(self.day.size)

    @property
    def member(self) -> np.ndarray:
        """Member code per line."""
        return self.texts["member_id"].codes

    @property
    def members(self) -> pd.Index:
        """The member ids the codes index."""
        return self.texts["member_id"].values

    def taken(self, order: np.ndarray) -> History:
        """The lines in another order (or a subset)."""
        return History({k: Codes(v.codes[order], v.values) for k, v in self.texts.items()},
                       self.day[order], self.start[order], self.minutes[order])


def _codes(column: pa.ChunkedArray, clean: str | None = None) -> Codes:
    """Codes and distinct values of a (dictionary-encoded) text column; values cleaned once each."""
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    column = column.unify_dictionaries() if column.num_chunks > 1 else column
    if column.num_chunks == 0:
        return Codes(np.empty(0, dtype=np.int32), pd.Index([], dtype=object))
    dictionary = column.chunk(0).dictionary
    codes = np.concatenate([pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
                            for c in column.chunks])
    values = pd.Index(dictionary.to_pylist(), dtype=object)
    if clean == "place":  # CMS places of service are two digits: "2" is "02"
        values = pd.Index([v.zfill(2) if v.isdigit() else v for v in values], dtype=object)
    elif clean == "lower":
        values = pd.Index([v.lower() for v in values], dtype=object)
    elif clean == "upper":
        values = pd.Index([v.upper() for v in values], dtype=object)
    if values.has_duplicates:  # two spellings cleaned to one value: one code each
        unique, inverse = np.unique(values.to_numpy(dtype=object).astype(str), return_inverse=True)
        codes = np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1).astype(np.int32)
        values = pd.Index(unique.tolist(), dtype=object)
    return Codes(codes, values)


_CLEAN = {"place_of_service": "place", "contact_type": "lower", "activity": "lower", "member_present": "upper",
          "hcpcs": "upper"}


def read_history(store: LedgerStore, profile: Profile, first_day: int, last_day: int) -> History:
    """The profile's billed lines with service dates from `first_day` to `last_day`, sorted."""
    months = list(range(int(np.int64(first_day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)),
                        int(np.int64(last_day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)) + 1))
    table = history_lines(store, months, COLUMNS, profile.name)
    day = table.column("service_day").to_numpy().astype(np.int64)
    frequency = pc.fill_null(pc.equal(table.column("frequency").cast(pa.string()), VOID), False)
    keep = (day >= first_day) & (day <= last_day) & ~frequency.to_numpy(zero_copy_only=False)
    texts = {name: _codes(table.column(name), _CLEAN.get(name)) for name in TEXTS}
    start = pc.fill_null(table.column("start_minute").cast(pa.int32()), MISSING).to_numpy().astype(np.int32)
    units = pc.fill_null(table.column("units"), 0).to_numpy().astype(np.int64)
    codes = texts["hcpcs"]
    unit_minutes = np.array([(profile.codes[v].code.unit_minutes or 0) if v in profile.codes else 0
                             for v in codes.values] + [0], dtype=np.int64)
    minutes = units * unit_minutes[codes.codes]  # -1 (no code) picks the trailing 0
    history = History(texts, day, start, minutes)
    rows = np.flatnonzero(keep)
    # One sort by member, day and start time (packed in one integer key).
    member = history.member[rows].astype(np.int64)
    low = int(day[rows].min()) if rows.size else 0
    key = (member << 32) | ((day[rows] - low) * 1441 + np.where(start[rows] == MISSING, 0, start[rows] + 1))
    return history.taken(rows[np.argsort(key, kind="stable")])
