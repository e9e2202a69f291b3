"""What one validate run needs from the ledger, loaded once: duplicates, originals, prior usage.

Only the months the batch's lines fall in are read (whole years when the
profile has an annual cap), and only the columns the checks need. Ids are
matched in Arrow (one hash table per lookup). The run's own earlier
execution is ignored (a re-run replaces it), and so is what that execution
retired: the re-run retires it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger.lookup import dictionary_positions, positions_in
from cmclaims.ledger.store import LINE_SCHEMA, LedgerStore
from cmclaims.limits.groups import sum_by
from cmclaims.limits.prior import PriorUsage
from cmclaims.normalize.values import MISSING, month_of
from cmclaims.rules.context import Context
from cmclaims.schema.columns import REPLACEMENT, VOID
from cmclaims.tables import Profile

# What the limits need of every earlier line of the months loaded (texts stay dictionary-encoded) ...
USAGE_COLUMNS = ["member_id", "service", "hcpcs", "service_day", "units", "authorization_id", "auth_units"]
# ... and what the duplicate and void checks need of the lines in the batch's own months.
CLAIM_COLUMNS = ["claim_id", "service_day", "frequency"]


def _empty(columns: list[str]) -> pa.Table:
    table = LINE_SCHEMA.empty_table().select(columns)
    for name, kind in (("run_id", pa.string()), ("profile", pa.string()), ("month", pa.int64()),
                       ("block_row", pa.int32())):
        table = table.append_column(name, pa.array([], kind))
    return table


def no_retirements() -> pd.DataFrame:
    """An empty table of retired originals."""
    return pd.DataFrame({c: pd.Series([], dtype="str") for c in ("claim_id", "original_run", "retired_by", "how")})


def _without(table: pa.Table, gone: pd.DataFrame) -> pa.Table:
    """`table` less the lines named in `gone` by run_id, month and block_row.

    Two vectorised passes find the few lines in the blocks concerned; only
    those are compared exactly.
    """
    if not len(gone) or not table.num_rows:
        return table
    maybe = pc.and_(pc.is_in(table.column("run_id"), value_set=pa.array(gone["run_id"].unique(), pa.string())),
                    pc.is_in(table.column("month"), value_set=pa.array(gone["month"].unique(), pa.int64())))
    candidates = np.flatnonzero(maybe.to_numpy(zero_copy_only=False))
    keep = np.ones(table.num_rows, dtype=bool)
    if candidates.size:
        here = pd.MultiIndex.from_arrays([
            table.column("run_id").take(candidates).to_numpy(zero_copy_only=False),
            table.column("month").take(candidates).to_numpy(),
            table.column("block_row").take(candidates).to_numpy(),
        ])
        keep[candidates] = ~here.isin(pd.MultiIndex.from_frame(gone[["run_id", "month", "block_row"]]))
    return table.filter(pa.array(keep))


@dataclass
class Billed:
    """For lines of the batch: the earlier run that billed the same claim_id, and on what date."""

    rows: np.ndarray
    run_ids: np.ndarray
    days: np.ndarray


@dataclass
class LedgerView:
    """The ledger as one run sees it. `store` is None for a dry run without a ledger file yet.

    `usage` holds this profile's earlier lines of the months the limits need;
    `claims` every profile's earlier lines of the batch's own months. Neither
    holds this run's own earlier execution, nor originals another run voided
    or replaced.
    """

    store: LedgerStore | None
    run_id: str
    mode: str  # "write" or "dry-run"
    usage: pa.Table | None  # None once prior_for has summed it into `prior`
    claims: pa.Table
    retired: pd.DataFrame  # originals retired by other runs: claim_id, month, original_run, retired_by, how
    months: list[int]  # the months whose usage was loaded
    profile: str
    previous_executions: int
    size: int = field(init=False)  # earlier lines loaded for the limits
    prior: PriorUsage | None = field(default=None, init=False)

    @classmethod
    def load(cls, store: LedgerStore | None, ctx: Context, run_id: str, mode: str) -> LedgerView:
        """Load what this batch needs from the ledger: the months it falls in, not the whole ledger."""
        return cls.load_for_days(store, ctx.column("service_day"), ctx.profile, run_id, mode)

    @classmethod
    def load_for_days(cls, store: LedgerStore | None, days: np.ndarray, profile: Profile, run_id: str,
                      mode: str) -> LedgerView:
        """Load what lines of these service days need (an engine that never holds the whole batch)."""
        known = days[days != MISSING]
        batch_months = sorted(set(month_of(np.unique(known)).tolist())) if known.size else []
        months = batch_months
        if profile.annual_caps and months:
            years = sorted({m // 12 for m in months})
            months = [y * 12 + m for y in years for m in range(12)]
        if store is None:
            return cls(None, run_id, mode, _empty(USAGE_COLUMNS), _empty(CLAIM_COLUMNS), no_retirements(), months,
                       profile.name, 0)
        retired = store.retired(months)
        retired = retired[retired["retired_by"] != run_id]
        usage = store.lines(months, USAGE_COLUMNS, profile=profile.name, exclude_run=run_id, dictionary=True)
        claims = store.lines(batch_months, CLAIM_COLUMNS, exclude_run=run_id)
        gone = _retired_rows(store, retired)
        run = store.run(run_id)
        return cls(store, run_id, mode, _without(usage, gone), _without(claims, gone), retired, months,
                   profile.name, run["executions"] if run else 0)

    def __post_init__(self) -> None:
        self.size = self.usage.num_rows if self.usage is not None else 0

    def run_dates(self) -> dict[str, str]:
        """Each earlier run's day (when it finished), for the messages that name it."""
        return {r["run_id"]: r["finished_at"][:10] for r in self.store.runs()} if self.store else {}

    def billed_claims(self) -> pa.ChunkedArray:
        """The earlier claim ids that bill something: a void line bills nothing, so its id is not billed.

        Null in place of a void's id keeps positions aligned with `claims`.
        """
        is_void = pc.equal(self.claims.column("frequency"), VOID)
        return pc.if_else(pc.fill_null(is_void, False), pa.scalar(None, pa.string()), self.claims.column("claim_id"))

    def billed_elsewhere(self, ctx: Context, rows: np.ndarray) -> Billed:
        """Lines among `rows` whose claim_id an earlier run already billed.

        A claim a replacement took out still counts as billed (its replacement
        carries it on); a voided claim may be billed again.
        """
        claims = ctx.lines.text["claim_id"].text(rows)
        hits = positions_in(self.billed_claims(), claims)
        matched = hits >= 0
        run_ids = np.full(rows.size, "", dtype=object)
        days = np.full(rows.size, MISSING, dtype=np.int64)
        found = pa.array(hits[matched])
        run_ids[matched] = self.claims.column("run_id").take(found).to_numpy(zero_copy_only=False)
        days[matched] = self.claims.column("service_day").take(found).to_numpy()
        replaced = self.retired[self.retired["how"] == "replace"]
        if len(replaced):
            where = positions_in(pa.array(replaced["claim_id"], pa.string()), claims)
            carried = (where >= 0) & ~matched
            run_ids[carried] = replaced["original_run"].to_numpy()[where[carried]]
            matched |= carried
        return Billed(rows[matched], run_ids[matched], days[matched])

    def original_state(self, claim_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For original claim ids: whether each is an active ledger line, and the run that already retired it."""
        originals = pa.array(claim_ids.tolist(), pa.string())
        active = positions_in(self.billed_claims(), originals) >= 0
        retired_by = np.full(len(claim_ids), "", dtype=object)
        if len(self.retired):
            where = positions_in(pa.array(self.retired["claim_id"], pa.string()), originals)
            retired_by[where >= 0] = self.retired["retired_by"].to_numpy()[where[where >= 0]]
        return active, retired_by

    def originals_of(self, ctx: Context) -> pd.DataFrame:
        """The earlier lines (run_id, month, block_row) this batch's accepted voids and replacements take out."""
        frequency = ctx.lines.text["claim_frequency"]
        changing = np.flatnonzero(ctx.accepted & frequency.isin([VOID, REPLACEMENT]))
        originals = ctx.lines.text["original_claim_id"].text(changing).drop_null()
        # The billed line with that id: a void that reused the id bills nothing and is not it.
        where = positions_in(self.billed_claims(), originals)
        where = where[where >= 0]
        return pd.DataFrame({
            "run_id": self.claims.column("run_id").take(where).to_numpy(zero_copy_only=False),
            "month": self.claims.column("month").take(where).to_numpy(),
            "block_row": self.claims.column("block_row").take(where).to_numpy(),
        })

    def prior_for(self, ctx: Context) -> PriorUsage:
        """Earlier runs' units for this profile and the batch's members, less originals this batch replaces.

        The sums are kept and `usage` is released (for a profile with an annual
        cap it is a whole year of lines, the largest table a run holds).
        """
        if self.prior is not None:
            return self.prior
        assert self.usage is not None
        usage = _without(self.usage, self.originals_of(ctx))
        # Each earlier line's member code is its member's position among the batch's members;
        # lines of other members are dropped, column by column (numpy, not an Arrow table filter).
        member = dictionary_positions(ctx.lines.text["member_id"].values, usage.column("member_id"))
        mine = member >= 0
        member = member[mine]
        code = dictionary_positions(pa.array(list(ctx.services.codes)), usage.column("hcpcs"))[mine]
        service = dictionary_positions(pa.array([s.key for s in ctx.profile.services]), usage.column("service"))[mine]
        units = usage.column("units").to_numpy()[mine]
        month = usage.column("month").to_numpy()[mine]
        day = usage.column("service_day").to_numpy()[mine].astype(np.int64)
        days = ctx.column("service_day")
        in_batch_months = np.isin(month, month_of(np.unique(days[days != MISSING])))
        # Days matter only in the batch's own months (daily, monthly, per diem); years for the annual caps.
        by_day = sum_by({"member": member[in_batch_months], "service": service[in_batch_months],
                         "code": code[in_batch_months], "day": day[in_batch_months]}, units[in_batch_months], "units")
        year = month // 12 + 1970  # months count from 1970-01
        by_year = sum_by({"member": member, "code": code, "year": year}, units, "units")
        auth_units = usage.column("auth_units").to_numpy()
        authorized = mine & (auth_units > 0)
        authorizations = pd.DataFrame({
            "authorization_id": usage.column("authorization_id").filter(pa.array(authorized)).cast(pa.string())
            .to_numpy(zero_copy_only=False),
            "units": auth_units[authorized].astype(np.int64),
        }).groupby("authorization_id", as_index=False)["units"].sum()
        self.prior, self.usage = PriorUsage(by_day=by_day, by_year=by_year, authorizations=authorizations), None
        return self.prior

    def describe(self) -> dict[str, object]:
        """The ledger part of summary.json."""
        return {
            "mode": self.mode,
            "path": str(self.store.path) if self.store is not None else None,
            "months_loaded": len(self.months),
            "earlier_lines_loaded": self.size,
            "previous_executions_of_this_run": self.previous_executions,
        }


def _retired_rows(store: LedgerStore, retired: pd.DataFrame) -> pd.DataFrame:
    """Where the retired originals sit: run_id, month and block_row, read from their blocks only."""
    found = []
    for (run_id, month), group in retired.groupby(["original_run", "month"]):
        block = store.lines([int(month)], ["claim_id"], [str(run_id)])
        hit = pc.is_in(block.column("claim_id"), value_set=pa.array(group["claim_id"], pa.string()))
        rows = block.column("block_row").filter(hit).to_numpy()
        found.append(pd.DataFrame({"run_id": run_id, "month": int(month), "block_row": rows}))
    return pd.concat(found) if found else pd.DataFrame({"run_id": [], "month": [], "block_row": []})
