"""The pipeline as a function of one partition of the batch.

Every limit, eligibility and duplicate rule reads the lines of one member, and
that member's earlier usage in the ledger: the lines of a set of members can
be validated on their own and give, for those lines, what the whole batch
would give. A local run is one partition holding the whole batch; the Dask
engine (`cmclaims/engine/`) runs many. The few checks that cross members are
decided where their lines are together and handed in (`checks.Given`).

    context_for(batch)            read lines -> normalised lines, services, units
    run_checks(ctx, given)        -> every line's fate (checks.Outcome)
    clean_file / exceptions_file / ledger_lines / totals
                                  -> the partition's share of each output
"""

from __future__ import annotations

import datetime as dt

from cmclaims.io.batch import Batch
from cmclaims.io.column_map import ValueMaps
from cmclaims.normalize.lines import build_lines
from cmclaims.normalize.services import resolve_services
from cmclaims.normalize.units import compute_units
from cmclaims.rules.context import Context
from cmclaims.side.bundle import SideData
from cmclaims.tables import Profile


def context_for(
    batch: Batch, profile: Profile, side: SideData, today: dt.date, over_limit: str,
    value_maps: ValueMaps | None = None,
) -> Context:
    """Normalise a batch (or a partition of one) into what the rules read.

    `value_maps` (the column map's [values.*] tables) translate the export's
    spellings; each partition translates its own distinct values.
    """
    lines = build_lines(batch, profile.catalog, today, value_maps)
    services = resolve_services(lines, profile)
    units = compute_units(lines, services, profile)
    return Context(lines, profile, services, units, today, over_limit, side=side)
