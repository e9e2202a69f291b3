"""The pipeline as a pure function of one partition, on Arrow tables only.

    validate_partition(lines, usage, given, plan) -> PartitionOutput

`lines` holds the lines of a set of members (`layout.lines_table` columns),
`usage` those members' earlier lines from the ledger, `given` the findings of
the checks that cross members, decided on partitions of their own (CM010, one
claim_id on several members' lines; CM403, one staff member with two members
at once). Out come the partition's clean lines, its findings (exceptions
rows), its ledger entries and its counts, each an Arrow table (retirements a
pandas frame), all tagged with each line's place in the batch so that the
driver puts them back in the order a local run writes.

Nothing here knows Dask: Spark's `groupBy(route).applyInPandas` or a plain
loop could call it the same way (docs/architecture.md says how).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.engine.counting import partition_counts, partition_findings, partition_rules
from cmclaims.engine.layout import FILE, ROW, Layout, batch_of, place, place_of, route, split_by
from cmclaims.io.batch import Batch
from cmclaims.io.column_map import ValueMaps
from cmclaims.ledger.view import LedgerView
from cmclaims.pipeline.checks import REJECTED, Given, Outcome, run_checks
from cmclaims.pipeline.ledger_entries import ledger_lines, retirements
from cmclaims.pipeline.outputs import clean_file, exceptions_file
from cmclaims.pipeline.partition import context_for
from cmclaims.rules.context import Context
from cmclaims.rules.registry import Rule
from cmclaims.side.bundle import SideData
from cmclaims.tables import Profile, load_profile

# The checks that compare lines of different members, and where the engine decides them.
CLAIM_WIDE = "CM010"  # one claim_id on several lines: decided over every line carrying a repeated id
STAFF_WIDE = "CM403"  # one staff member with two members at once: decided on partitions by staff
GIVEN_SCHEMA = pa.schema([(FILE, pa.int32()), (ROW, pa.int64()), ("rule", pa.string()), ("message", pa.string())])


@dataclass(frozen=True)
class LedgerShare:
    """What every partition reads of the ledger, loaded once by the driver (usage travels per member)."""

    run_id: str
    mode: str
    claims: pa.Table  # earlier lines of the batch's months: duplicates and originals (CM402, CM405)
    retired: pd.DataFrame
    months: list[int]
    previous_executions: int
    run_dates: dict[str, str]
    changed_later: pd.DataFrame  # this run's own lines that later runs voided or replaced
    year_totals: pa.Table | None = None  # the annual caps' running totals of the batch's years (ledger/totals.py)
    carried: pd.DataFrame | None = None  # claims a replacement took out whose replacement still bills (CM402)
    own_retired: pd.DataFrame | None = None  # what this run retired when it ran before (a re-run retires it again)


class PartitionLedgerView(LedgerView):
    """The ledger view of one partition: the driver's, with only its members' usage."""

    shared_run_dates: ClassVar[dict[str, str]] = {}

    def run_dates(self) -> dict[str, str]:
        """As the driver read them: a partition never opens the ledger."""
        return self.shared_run_dates


@dataclass(frozen=True)
class PartitionPlan:
    """What every partition of one run shares: shipped once to each worker."""

    layout: Layout
    profile_name: str
    side: SideData
    today: dt.date
    over_limit: str
    ledger: LedgerShare | None = None
    value_maps: ValueMaps | None = None  # the column map's [values.COLUMN] tables
    profile_cache: dict[str, Profile] = field(default_factory=dict, compare=False, repr=False)

    @property
    def profile(self) -> Profile:
        """The profile, loaded once per worker process."""
        if self.profile_name not in self.profile_cache:
            self.profile_cache[self.profile_name] = load_profile(self.profile_name)
        return self.profile_cache[self.profile_name]


@dataclass
class PartitionOutput:
    """One partition's share of every output, each row tagged with its line's place in the batch."""

    clean: pa.Table  # clean-file rows and `__file`, `__row`
    exceptions: pa.Table  # exceptions-file rows and `__file`
    ledger_lines: pa.Table | None  # what the run records for these lines (None when it records nothing)
    retirements: pd.DataFrame | None
    counts: pa.Table  # one row: lines, units and cents (summary.json's counts, summed exactly)
    findings: pa.Table  # per rule that found something: findings, lines rejected, cents held
    rules: pa.Table  # the rules applied and skipped (with why), in run order


def _given(given: pa.Table | None, ctx: Context) -> Given:
    """The cross-member findings of this partition's lines, as positions in its batch."""
    decided = Given()
    if given is None or given.num_rows == 0:
        return decided
    here = pd.Index(place(ctx.column("file"), ctx.column("source_row")))
    for code in sorted(set(given.column("rule").to_pylist())):
        mine = given.filter(pc.equal(given.column("rule"), code))
        rows = here.get_indexer(place(mine.column(FILE).to_numpy(), mine.column(ROW).to_numpy()))
        found = rows >= 0
        decided.findings[code] = (rows[found].astype(np.int64), mine.column("message").combine_chunks().filter(
            pa.array(found)))
    return decided


def _view(plan: PartitionPlan, usage: pa.Table | None) -> LedgerView | None:
    share = plan.ledger
    if share is None:
        return None
    assert usage is not None
    view = PartitionLedgerView(None, share.run_id, share.mode, usage, share.claims, share.retired, share.months,
                               plan.profile_name, share.previous_executions, share.changed_later)
    view.shared_run_dates = share.run_dates  # type: ignore[misc]  # this view's own, set once
    if share.year_totals is not None:
        view.year_totals = share.year_totals
    if share.carried is not None:
        view.carried = share.carried
    if share.own_retired is not None:
        view.own_retired = share.own_retired
    return view


def check_partition(lines: pa.Table, plan: PartitionPlan, usage: pa.Table | None = None,
                    given: pa.Table | None = None,
                    chosen: Callable[[Rule], bool] | None = None) -> tuple[Batch, Context, Outcome]:
    """The pipeline's stages over one partition's lines: its batch, its context and every line's fate."""
    batch = batch_of(lines, plan.layout)
    ctx = context_for(batch, plan.profile, plan.side, plan.today, plan.over_limit, plan.value_maps)
    ctx.ledger = _view(plan, usage)
    return batch, ctx, run_checks(ctx, _given(given, ctx), chosen)


def decided_findings(ctx: Context, outcome: Outcome, code: str) -> pa.Table:
    """One rule's findings as a `given` table (file, row, rule, message) for other partitions."""
    for finding in outcome.findings:
        if finding.rule.code == code:
            rows = finding.rows
            return pa.table({
                FILE: pa.array(ctx.column("file")[rows].astype(np.int32)),
                ROW: pa.array(ctx.column("source_row")[rows].astype(np.int64)),
                "rule": pa.array(np.full(rows.size, code, dtype=object), pa.string()),
                "message": finding.messages(),
            }, schema=GIVEN_SCHEMA)
    return GIVEN_SCHEMA.empty_table()


def validate_partition(lines: pa.Table, usage: pa.Table | None, given: pa.Table | None,
                       plan: PartitionPlan) -> PartitionOutput:
    """Validate the lines of a set of members: what a local run gives for exactly these lines."""
    batch, ctx, outcome = check_partition(lines, plan, usage, given)
    kept = np.flatnonzero(outcome.disposition != REJECTED)
    clean = clean_file(ctx, batch, outcome).table()
    clean = clean.append_column(FILE, pa.array(ctx.column("file")[kept].astype(np.int32)))
    clean = clean.append_column(ROW, pa.array(ctx.column("source_row")[kept].astype(np.int64)))
    exceptions = exceptions_file(ctx, outcome).table()
    names = pa.array([file.name for file in plan.layout.files], pa.string())
    exceptions = exceptions.append_column(FILE, pc.index_in(exceptions.column("source_file"), value_set=names))
    recording = ctx.ledger is not None and ctx.ledger.mode == "write"
    return PartitionOutput(
        clean=clean,
        exceptions=exceptions,
        ledger_lines=ledger_lines(ctx, outcome) if recording else None,
        retirements=retirements(ctx, outcome, ctx.ledger) if recording and ctx.ledger is not None else None,
        counts=partition_counts(ctx, outcome),
        findings=partition_findings(ctx, outcome),
        rules=partition_rules(outcome),
    )


def claim_findings(lines: pa.Table, plan: PartitionPlan) -> pa.Table:
    """CM010 over every line whose claim_id repeats (they are few, and checked together here)."""
    if lines.num_rows == 0:
        return GIVEN_SCHEMA.empty_table()
    _, ctx, outcome = check_partition(lines, plan, chosen=lambda rule: rule.code == CLAIM_WIDE)
    return decided_findings(ctx, outcome, CLAIM_WIDE)


def staff_findings(lines: pa.Table, claim_given: pa.Table, plan: PartitionPlan, parts: int) -> list[pa.Table]:
    """CM403 over one staff partition (lines by staff member), its findings cut by member partition."""
    _, ctx, outcome = check_partition(
        lines, plan, given=claim_given, chosen=lambda rule: rule.stage == "input" or rule.code == STAFF_WIDE
    )
    found = decided_findings(ctx, outcome, STAFF_WIDE)
    if found.num_rows == 0:
        return [found] * parts
    member = route(lines, plan.layout.header("member_id"), parts)
    here = pd.Index(place_of(lines))
    found_member = member[here.get_indexer(place_of(found))]
    return split_by(found, found_member, parts)
