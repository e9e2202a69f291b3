"""Units billed in earlier runs, as the limits need them (SPEC sections 5 and 6).

The ledger fills this with aggregated usage for the members and periods of
the batch only; with `--no-ledger` it is empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class PriorUsage:
    """Earlier runs' accepted units, summed.

    by_day: member_id, service (key such as `T1017:TF`), hcpcs, day (day number), units
    by_year: member_id, hcpcs, year (calendar year), units
    authorizations: authorization_id, units (units billed beyond a cap against it)
    """

    by_day: pd.DataFrame
    by_year: pd.DataFrame
    authorizations: pd.DataFrame

    @classmethod
    def none(cls) -> PriorUsage:
        return cls(
            by_day=pd.DataFrame(
                {
                    "member_id": pd.Series([], dtype="str"),
                    "service": pd.Series([], dtype="str"),
                    "hcpcs": pd.Series([], dtype="str"),
                    "day": np.empty(0, np.int32),
                    "units": np.empty(0, np.int64),
                }
            ),
            by_year=pd.DataFrame(
                {
                    "member_id": pd.Series([], dtype="str"),
                    "hcpcs": pd.Series([], dtype="str"),
                    "year": np.empty(0, np.int32),
                    "units": np.empty(0, np.int64),
                }
            ),
            authorizations=pd.DataFrame(
                {"authorization_id": pd.Series([], dtype="str"), "units": np.empty(0, np.int64)}
            ),
        )
