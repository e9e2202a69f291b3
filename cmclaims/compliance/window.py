"""The period a compliance check looks at: from --from to --as-of, both included."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmclaims.compliance.calendar import month_end, month_start


def _month(day: int) -> int:
    return int(np.int64(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64))


@dataclass(frozen=True)
class Window:
    """Day numbers of --from and --as-of."""

    first: int
    last: int

    @property
    def months(self) -> tuple[int, int]:
        """The first and last month the window touches (months since 1970-01)."""
        return _month(self.first), _month(self.last)

    @property
    def whole_months(self) -> tuple[int, int]:
        """The first and last calendar month wholly inside the window (the last may precede the first)."""
        low, high = self.months
        if int(month_start(np.array([low]))[0]) != self.first:
            low += 1
        if int(month_end(np.array([high]))[0]) != self.last:
            high -= 1
        return low, high

    @property
    def years(self) -> tuple[int, int]:
        """The calendar years the window touches."""
        low, high = self.months
        return low // 12 + 1970, high // 12 + 1970
