"""Units billed in earlier runs, as the limits need them (SPEC sections 5 and 6).

The ledger fills this with aggregated usage for the members and periods of
the batch only, already numbered like the batch (member codes, the profile's
service and code indexes), so the limits join it on integers. With
`--no-ledger` it is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


def _empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame({column: np.empty(0, np.int64) for column in columns})


@dataclass
class PriorUsage:
    """Earlier runs' accepted units, summed.

    by_day: member (the batch's member code), service (index into the profile's
        services, -1 for one it no longer has), code (index into its codes),
        day (day number), units
    by_year: member, code, year (calendar year), units
    authorizations: authorization_id, units (units billed beyond a cap against it)
    releases: what each of the batch's replacements frees when the limit pass
        accepts it: line (the replacement's row), and its original's member,
        service, code, day and units (SPEC section 5: a rejected replacement
        changes nothing, its original keeps counting)
    """

    by_day: pd.DataFrame
    by_year: pd.DataFrame
    authorizations: pd.DataFrame
    releases: pd.DataFrame = field(default_factory=lambda: _empty("line", "member", "service", "code", "day",
                                                                  "units"))

    @classmethod
    def none(cls) -> PriorUsage:
        """No earlier usage: the batch validated alone (--no-ledger, or a first run)."""
        empty = _empty
        return cls(
            by_day=empty("member", "service", "code", "day", "units"),
            by_year=empty("member", "code", "year", "units"),
            authorizations=pd.DataFrame(
                {"authorization_id": pd.Series([], dtype="str"), "units": np.empty(0, np.int64)}
            ),
        )
