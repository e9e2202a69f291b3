"""The sample's service period: drawing service days, and writing days and times as an EHR does.

Dates are int32 day numbers (days since 1970-01-01, as in `cmclaims.normalize`)
and times are minutes after midnight until the very end, where each distinct
value is formatted once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from cmclaims.sample.flavour import WEEKEND_WEIGHT

EPOCH = dt.date(1970, 1, 1)
# Services from January to October 2026. The period is fixed (the same seed must
# give the same bytes whenever it runs) and ends before the late-2026 days these
# samples are validated on, so no line is a service "after today" (CM011) unless
# a problem puts it there.
PERIOD_START = dt.date(2026, 1, 1)
PERIOD_END = dt.date(2026, 10, 31)


def day_of(date: dt.date) -> int:
    """The day number of a date."""
    return (date - EPOCH).days


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday 0 ... Sunday 6 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def date_texts(first: int, last: int) -> list[str]:
    """ISO dates (`2026-03-04`) of the day numbers first..last."""
    return np.arange(first, last + 1).astype("datetime64[D]").astype(str).tolist()


def time_texts() -> list[str]:
    """`HH:MM` for every minute of a day, indexed by minute."""
    minutes = np.arange(24 * 60)
    return [f"{h:02d}:{m:02d}" for h, m in zip((minutes // 60).tolist(), (minutes % 60).tolist(), strict=True)]


@dataclass(frozen=True)
class Calendar:
    """The days of the period with their weights: weekdays far more likely than weekends."""

    first: int
    last: int
    cdf: np.ndarray  # cumulative weight up to and including each day, ending at 1
    before: np.ndarray  # cumulative weight before each day

    @classmethod
    def of_period(cls, start: dt.date = PERIOD_START, end: dt.date = PERIOD_END) -> Calendar:
        """The calendar of start..end (inclusive)."""
        first, last = day_of(start), day_of(end)
        days = np.arange(first, last + 1)
        weights = np.where(weekday(days) >= 5, WEEKEND_WEIGHT, 1.0)
        cdf = np.cumsum(weights) / weights.sum()
        return cls(first, last, cdf, cdf - weights / weights.sum())

    @property
    def size(self) -> int:
        """Days in the period."""
        return self.last - self.first + 1

    def clip(self, days: np.ndarray) -> np.ndarray:
        """Day numbers moved into the period."""
        return np.clip(days, self.first, self.last)

    def draw(
        self, rng: np.random.Generator, n: int, low: np.ndarray | None = None, high: np.ndarray | None = None
    ) -> np.ndarray:
        """`n` service days, weekdays mostly; each between its own `low` and `high` when given.

        Inverse-CDF sampling restricted to [low, high] per line: one uniform draw
        and one binary search per line, whatever the bounds.
        """
        low_index = np.zeros(n, np.int64) if low is None else self.clip(low) - self.first
        high_index = np.full(n, self.size - 1, np.int64) if high is None else self.clip(high) - self.first
        high_index = np.maximum(high_index, low_index)
        u = self.before[low_index] + rng.random(n) * (self.cdf[high_index] - self.before[low_index])
        index = np.clip(np.searchsorted(self.cdf, u, side="right"), low_index, high_index)
        return (self.first + index).astype(np.int32)
