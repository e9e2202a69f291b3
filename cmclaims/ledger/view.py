"""What one validate run needs from the ledger, loaded once: duplicates, originals, prior usage.

Only the months the batch's lines fall in are read (whole years when the
profile has an annual cap), and only the numbers and hashes the checks need;
claim ids are read in full only for the few blocks where a hash matched. The
run's own earlier execution is ignored (a re-run replaces it), and so is
what that execution retired: the re-run retires it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger.hashing import positions_of, stable_hash
from cmclaims.ledger.store import LINE_SCHEMA, LedgerStore, month_of
from cmclaims.limits.prior import PriorUsage
from cmclaims.normalize.lines import MISSING
from cmclaims.rules.context import Context

_COLUMNS = ["claim_hash", "member_hash", "service", "hcpcs", "service_day", "units", "authorization_id",
            "auth_units", "frequency"]  # fmt: skip
VOID, REPLACEMENT = "8", "7"


def no_lines() -> pa.Table:
    """An empty table with the columns a view's lines have."""
    table = LINE_SCHEMA.empty_table().select(_COLUMNS)
    for name, kind in (("run_id", pa.string()), ("profile", pa.string()), ("month", pa.int64())):
        table = table.append_column(name, pa.array([], kind))
    return table


@dataclass
class Billed:
    """For lines of the batch: the earlier run that billed the same claim_id, and on what date."""

    rows: np.ndarray
    run_ids: np.ndarray
    days: np.ndarray


@dataclass
class LedgerView:
    """The ledger as one run sees it. `store` is None for a dry run without a ledger file yet."""

    store: LedgerStore | None
    run_id: str
    mode: str  # "write" or "dry-run"
    lines: pa.Table  # active ledger lines of the loaded months, all profiles, not this run's
    retired: pd.DataFrame  # originals retired by other runs
    months: list[int]
    profile: str
    previous_executions: int
    _hashes: dict[str, np.ndarray] = field(default_factory=dict)

    def line_hashes(self, ctx: Context, column: str) -> np.ndarray:
        """Per line, the stable hash of its claim_id or member_id (hashed once per distinct value)."""
        if column not in self._hashes:
            factorized = ctx.lines.text[column]
            self._hashes[column] = np.append(stable_hash(factorized.values), np.uint64(0))[factorized.codes]
        return self._hashes[column]

    @classmethod
    def load(cls, store: LedgerStore | None, ctx: Context, run_id: str, mode: str) -> LedgerView:
        """Load what this batch needs from the ledger: the months it falls in, not the whole ledger."""
        days = ctx.column("service_day")
        known = days[days != MISSING]
        months = sorted(set(month_of(np.unique(known)).tolist())) if known.size else []
        if ctx.profile.annual_caps and months:
            years = sorted({m // 12 for m in months})
            months = [y * 12 + m for y in years for m in range(12)]
        if store is None:
            empty = pd.DataFrame(columns=["claim_id", "claim_hash", "month", "original_run", "retired_by", "how"])
            return cls(None, run_id, mode, no_lines(), empty, months, ctx.profile.name, 0)
        retired = store.retired(months)
        retired = retired[retired["retired_by"] != run_id]
        lines = store.lines(months, _COLUMNS)
        lines = lines.filter(pc.not_equal(lines.column("run_id"), run_id))
        # Lines a void or replacement of another run took out no longer count.
        gone = pd.MultiIndex.from_arrays([retired["claim_hash"].to_numpy(np.uint64), retired["original_run"]])
        here = pd.MultiIndex.from_arrays([lines.column("claim_hash").to_numpy(), lines.column("run_id").to_numpy(
            zero_copy_only=False)])
        lines = lines.filter(pa.array(~here.isin(gone)))
        run = store.run(run_id)
        return cls(store, run_id, mode, lines, retired, months, ctx.profile.name, run["executions"] if run else 0)

    @property
    def size(self) -> int:
        """Earlier lines loaded."""
        return self.lines.num_rows

    def _same_text(self, hits: np.ndarray, claims: np.ndarray) -> np.ndarray:
        """Whether each hash match is the same claim_id text, reading only the matched blocks."""
        assert self.store is not None
        run_ids = self.lines.column("run_id").to_numpy(zero_copy_only=False)[hits]
        months = self.lines.column("month").to_numpy()[hits]
        blocks = pd.DataFrame({"run_id": run_ids, "month": months}).drop_duplicates()
        texts = pa.concat_tables(
            self.store.lines([int(month)], ["claim_id", "claim_hash"], [str(run_id)])
            for run_id, month in blocks.itertuples(index=False)
        )
        by_hash = pd.Series(texts.column("claim_id").to_numpy(zero_copy_only=False),
                            index=texts.column("claim_hash").to_numpy())
        by_hash = by_hash[~by_hash.index.duplicated()]
        found = by_hash.reindex(self.lines.column("claim_hash").to_numpy()[hits]).to_numpy(dtype=object)
        return found == claims

    def billed_elsewhere(self, ctx: Context, rows: np.ndarray) -> Billed:
        """Lines among `rows` whose claim_id an earlier run already billed.

        A claim a replacement took out still counts as billed (its replacement
        carries it on); a voided claim may be billed again.
        """
        claims = np.asarray(ctx.lines.text["claim_id"].text(rows).to_pylist(), dtype=object)
        hits = positions_of(self.lines.column("claim_hash").to_numpy(), self.line_hashes(ctx, "claim_id")[rows])
        matched = hits >= 0
        if matched.any():
            matched[matched] = self._same_text(hits[matched], claims[matched])
        run_ids = np.full(rows.size, "", dtype=object)
        days = np.full(rows.size, MISSING, dtype=np.int64)
        run_ids[matched] = self.lines.column("run_id").to_numpy(zero_copy_only=False)[hits[matched]]
        days[matched] = self.lines.column("service_day").to_numpy()[hits[matched]]
        if len(self.retired):
            replaced = self.retired[self.retired["how"] == "replace"]
            where = pd.Index(replaced["claim_id"]).get_indexer(claims) if len(replaced) else np.full(rows.size, -1)
            carried = (where >= 0) & ~matched
            run_ids[carried] = replaced["original_run"].to_numpy()[where[carried]]
            matched |= carried
        return Billed(rows[matched], run_ids[matched], days[matched])

    def original_state(self, claim_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For original claim ids: whether each is an active ledger line, and the run that already retired it."""
        active = positions_of(self.lines.column("claim_hash").to_numpy(), stable_hash(claim_ids)) >= 0
        retired_by = np.full(len(claim_ids), "", dtype=object)
        if len(self.retired):
            where = pd.Index(self.retired["claim_id"]).get_indexer(claim_ids)
            retired_by[where >= 0] = self.retired["retired_by"].to_numpy()[where[where >= 0]]
        return active, retired_by

    def prior_for(self, ctx: Context) -> PriorUsage:
        """Earlier runs' units for this profile and the batch's members, less originals this batch replaces."""
        frequency = ctx.lines.text["claim_frequency"]
        changing = np.flatnonzero(ctx.accepted & frequency.isin([VOID, REPLACEMENT]))
        originals = ctx.lines.text["original_claim_id"].text(changing).drop_null()
        lines = self.lines.filter(pc.equal(self.lines.column("profile"), self.profile))
        # The member code of each earlier line is its member's position among the batch's members.
        member = positions_of(stable_hash(ctx.lines.text["member_id"].values), lines.column("member_hash").to_numpy())
        keep = member >= 0
        if len(originals):
            keep &= ~np.isin(lines.column("claim_hash").to_numpy(), stable_hash(originals))
        lines = lines.filter(pa.array(keep))
        day = lines.column("service_day").to_numpy().astype(np.int64)
        code = _indexes(lines.column("hcpcs"), list(ctx.services.codes))
        frame = pd.DataFrame({
            "member": member[keep],
            "service": _indexes(lines.column("service"), [s.key for s in ctx.profile.services]),
            "code": code,
            "day": day,
            "units": lines.column("units").to_numpy().astype(np.int64),
        })
        by_day = frame.groupby(["member", "service", "code", "day"], as_index=False)["units"].sum()
        frame["year"] = day.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
        by_year = frame.groupby(["member", "code", "year"], as_index=False)["units"].sum()
        authorizations = pd.DataFrame({
            "authorization_id": lines.column("authorization_id").to_numpy(zero_copy_only=False),
            "units": lines.column("auth_units").to_numpy().astype(np.int64),
        })
        authorizations = authorizations[authorizations["units"] > 0].groupby(
            "authorization_id", as_index=False)["units"].sum()
        return PriorUsage(by_day=by_day, by_year=by_year, authorizations=authorizations)

    def describe(self) -> dict[str, object]:
        """The ledger part of summary.json."""
        return {
            "mode": self.mode,
            "path": str(self.store.path) if self.store is not None else None,
            "months_loaded": len(self.months),
            "earlier_lines_loaded": self.size,
            "previous_executions_of_this_run": self.previous_executions,
        }



def _indexes(values: pa.ChunkedArray, known: list[str]) -> np.ndarray:
    """Each value's position in `known` (-1 when absent), working on the few distinct values."""
    array = values.combine_chunks() if len(values) else pa.array([], pa.string())
    encoded = array.dictionary_encode()
    positions = np.append(pd.Index(known).get_indexer(encoded.dictionary.to_pandas()), -1).astype(np.int64)
    return positions[encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)]
