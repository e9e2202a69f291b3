"""Age of an open exception, from its date of service, in finance's buckets.

Payers refuse claims filed too long after the date of service (timely
filing, commonly 90 to 180 days, some 365), so age runs from the date of
service, not from the night the line was rejected: an item that is 91-180
days old is at risk, one over 180 days may already be lost.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

# (label, oldest age in days that still falls in the bucket); ages are whole days, as-of minus service date.
BUCKETS = (("0-30", 30), ("31-60", 60), ("61-90", 90), ("91-180", 180), ("over 180", None))
NO_DATE = "no valid date"
BUCKET_ORDER = [label for label, _ in BUCKETS] + [NO_DATE]


def age_days(service_day: pd.Series, as_of: dt.date) -> pd.Series:
    """Days from the date of service to `as_of` (float, NaN without a usable date)."""
    return (pd.Timestamp(as_of) - service_day).dt.days.astype("float64")


def bucket_of(age: pd.Series) -> pd.Series:
    """The bucket label of each age; missing dates and dates after as-of are 'no valid date'."""
    values = age.to_numpy(dtype=np.float64)
    edges = np.array([limit for _, limit in BUCKETS[:-1]], dtype=np.float64)
    # searchsorted(side=left): 30 -> bucket 0, 31 -> bucket 1, ..., 181 -> 'over 180'.
    index = np.searchsorted(edges, values, side="left")
    labels = np.array(BUCKET_ORDER, dtype=object)
    index = np.where(np.isnan(values) | (values < 0), len(BUCKET_ORDER) - 1, index)
    return pd.Series(pd.Categorical(labels[index], categories=BUCKET_ORDER, ordered=True), index=age.index)
