"""What one validate run needs from the ledger, loaded once: duplicates, originals, prior usage.

A claim's identity is not month-scoped: the claim ids, service dates and
states of every earlier line, in every month, are read for CM402 and CM405
(a claim billed in April and re-sent with a July date is still billed). For
the daily and monthly limits only the months the batch's lines fall in are
read, and only the columns they need. An annual cap reads the ledger's
running totals of the batch's years (cmclaims/ledger/totals.py), not a year
of lines; the few lines the totals cannot answer for are read one by one: the
originals of tonight's voids and replacements (in any month), and on a
re-run, the run's own earlier lines and the originals it retired. Ids are
matched in Arrow (one hash table per lookup).

The run's own earlier execution is ignored (a re-run replaces it), and so is
what that execution retired: the re-run retires it again. Lines of this run
that later runs voided or replaced stay as those runs left them: the re-run
neither counts them again nor takes them for duplicates (SPEC section 6: the
same input gives the same outputs).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.ledger import totals as running
from cmclaims.ledger.earlier import CLAIM_COLUMNS, EarlierClaims, kept_lines, retired_rows, void_rows, without
from cmclaims.ledger.lookup import dictionary_positions, first_positions, is_in, positions_in
from cmclaims.ledger.store import LINE_SCHEMA, LedgerStore
from cmclaims.limits.groups import sum_by
from cmclaims.limits.prior import PriorUsage
from cmclaims.normalize.text import Factorized
from cmclaims.normalize.values import MISSING, month_of
from cmclaims.rules.context import Context
from cmclaims.schema.columns import REPLACEMENT, VOID
from cmclaims.tables import Profile

# What the limits need of every earlier line of the months loaded (texts stay dictionary-encoded) ...
USAGE_COLUMNS = ["member_id", "service", "hcpcs", "service_day", "units", "authorization_id", "auth_units"]


def _empty(columns: list[str]) -> pa.Table:
    table = LINE_SCHEMA.empty_table().select(columns)
    for name, kind in (("run_id", pa.string()), ("profile", pa.string()), ("month", pa.int64()),
                       ("block_row", pa.int32())):
        table = table.append_column(name, pa.array([], kind))
    return table


def _shaped_as(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` cast to `schema`, where dictionary-encoded columns may meet plain ones (Arrow casts text to a
    dictionary, not numbers: a block's month)."""
    columns = []
    for column, kind in zip(table.columns, schema.types, strict=True):
        if pa.types.is_dictionary(kind) and not pa.types.is_dictionary(column.type):
            column = column.cast(kind.value_type).dictionary_encode()
        columns.append(column.cast(kind))
    return pa.Table.from_arrays(columns, schema=schema)


def no_retirements() -> pd.DataFrame:
    """An empty table of retired originals."""
    frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in ("claim_id", "original_run", "retired_by", "how")})
    return frame.assign(units=pd.Series([], dtype="int64"))




@dataclass
class Billed:
    """For lines of the batch: the earlier run that billed the same claim_id, and on what date."""

    rows: np.ndarray
    run_ids: np.ndarray
    days: np.ndarray


@dataclass
class LedgerView:
    """The ledger as one run sees it. `store` is None for a dry run without a ledger file yet.

    `usage` holds this profile's earlier lines of the batch's months;
    `claims` every profile's earlier lines, all months; `year_totals` this
    profile's running totals of the batch's years (annual caps only). None
    holds this run's own earlier execution, nor originals another run voided
    or replaced (but originals this run itself retired before do count: the
    re-run retires them again).
    `changed_later` lists this run's own lines that later runs voided or
    replaced (claim_id, retired_by, how, and the units the line billed): a
    re-run leaves them as they are (CM407).
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
    changed_later: pd.DataFrame = field(default_factory=no_retirements)
    carried: pd.DataFrame = field(default_factory=lambda: pd.DataFrame({"claim_id": [], "run_id": []}))
    own_retired: pd.DataFrame = field(default_factory=no_retirements)  # what this run retired when it ran before
    year_totals: pa.Table = field(default_factory=running.empty)
    size: int = field(init=False)  # earlier lines loaded for the limits
    totals_loaded: int = field(init=False)  # running totals loaded for the annual caps
    prior: PriorUsage | None = field(default=None, init=False)
    _void_rows: np.ndarray | None = field(default=None, init=False, repr=False)  # per row of `claims`: a void
    _claim_keys: pa.ChunkedArray | None = field(default=None, init=False, repr=False)  # ... its claim id's key
    # The batch's claim ids and original ids, each with the row in `claims` billing it (-1 none): the
    # ledger's ids are probed once for all of them, not once per question the rules ask.
    _expected: pa.Array | None = field(default=None, init=False, repr=False)
    _expected_at: np.ndarray | None = field(default=None, init=False, repr=False)
    # The batch's claim_id column the view was loaded for, and per distinct value (its code) the row in
    # `claims` billing it: the duplicate check over every line then looks codes up, not texts.
    _claim_column: Factorized | None = field(default=None, init=False, repr=False)
    _claim_code_at: np.ndarray | None = field(default=None, init=False, repr=False)
    # The batch's member_id values, and per row of `usage` and of `year_totals` its member's place among them
    # (-1 none): found on the reader thread, where the limit pass would otherwise wait for them.
    _members: pa.Array | None = field(default=None, init=False, repr=False)
    _usage_member_at: np.ndarray | None = field(default=None, init=False, repr=False)
    _year_member_at: np.ndarray | None = field(default=None, init=False, repr=False)
    _own_retired_lines: pd.DataFrame | None = field(default=None, init=False, repr=False)

    @classmethod
    def load(cls, store: LedgerStore | None, ctx: Context, run_id: str, mode: str,
             earlier: Future[EarlierClaims] | None = None) -> LedgerView:
        """Load what this batch needs from the ledger: the months it falls in, not the whole ledger.

        `earlier`: the earlier claims, being read before the batch was (cmclaims/ledger/earlier.py)."""
        view = cls.load_for_days(store, ctx.column("service_day"), ctx.profile, run_id, mode,
                                 earlier.result() if earlier is not None else None)
        claim_column = ctx.lines.text["claim_id"]
        claim_ids = claim_column.values.cast(pa.string())
        view.expect(pa.concat_arrays([claim_ids, ctx.lines.text["original_claim_id"].values.cast(pa.string())]),
                    distinct_first=len(claim_ids))
        assert view._expected_at is not None
        # The claim ids come first among the expected ids, in the order of their codes.
        view._claim_column, view._claim_code_at = claim_column, view._expected_at[:len(claim_ids)]
        view._members = ctx.lines.text["member_id"].values
        if view.usage is not None:
            view._usage_member_at = dictionary_positions(view._members, view.usage.column("member_id"))
        if view.year_totals.num_rows:
            view._year_member_at = dictionary_positions(view._members, view.year_totals.column("member_id"))
        return view

    def expect(self, claim_ids: pa.Array, distinct_first: int = 0) -> None:
        """Look up these claim ids in the ledger once, for every later `billed_position` of them.

        `_expected_at[i]` answers `claim_ids[i]`; the first `distinct_first` are known to be distinct
        (`first_positions`)."""
        self._expected = claim_ids
        self._expected_at = self.billed_in(claim_ids, distinct_first)

    @classmethod
    def load_for_days(cls, store: LedgerStore | None, days: np.ndarray, profile: Profile, run_id: str,
                      mode: str, earlier: EarlierClaims | None = None) -> LedgerView:
        """Load what lines of these service days need (an engine that never holds the whole batch); the
        earlier claims are read here unless `earlier` serves this run."""
        known = days[days != MISSING]
        months = sorted(set(month_of(np.unique(known)).tolist())) if known.size else []
        years = sorted({m // 12 + 1970 for m in months}) if profile.annual_caps else []
        if store is None:
            return cls(None, run_id, mode, _empty(USAGE_COLUMNS), _empty(CLAIM_COLUMNS), no_retirements(), months,
                       profile.name, 0)
        # Every month: a claim is billed once. Its run and frequency stay dictionary-encoded (one text per block).
        if earlier is None or not earlier.serves(run_id):
            earlier = EarlierClaims.read(store, run_id)
        every = earlier.every_retired
        retired = every[every["retired_by"] != run_id]
        own_retired = every[(every["retired_by"] == run_id) & (every["original_run"] != run_id)]
        changed_later = retired[retired["original_run"] == run_id]
        usage = store.lines(months, USAGE_COLUMNS, profile=profile.name, exclude_run=run_id, dictionary=True)
        run = store.run(run_id)
        year_totals = running.empty()
        if years:
            year_totals = _year_totals(store, profile.name, years, run_id if run else None,
                                       every[every["original_run"] == run_id],
                                       retired_rows(earlier.claims, own_retired))
        view = cls(store, run_id, mode, without(usage, earlier.gone), earlier.active, retired, months,
                   profile.name, run["executions"] if run else 0, changed_later.reset_index(drop=True),
                   earlier.carried, own_retired.reset_index(drop=True), year_totals)
        view._void_rows, view._claim_keys = earlier.void_rows, earlier.keys
        return view

    def add_originals(self, named: pa.Array) -> None:
        """Add to `usage` this profile's earlier lines, in any month, whose claim ids `named` lists.

        A view with the store reads the originals of the batch's voids and replacements
        where they are, in any month (`_lines_named`); a partition of the Dask engine has
        no store and looks for them in the usage it is given: the driver adds them here,
        from the original_claim_id values the batch names. Lines of other months only add
        days no batch line falls in, so the daily and monthly sums are not changed.
        """
        if self.store is None or self.usage is None or not len(named):
            return
        claims = self.claims
        wanted = pc.fill_null(pc.is_in(claims.column("claim_id"), value_set=named.cast(pa.string())), False)
        loaded = pc.is_in(claims.column("month"), value_set=pa.array(self.months, pa.int64()))
        rows = np.flatnonzero(pc.and_(wanted, pc.invert(pc.fill_null(loaded, False))).to_numpy(zero_copy_only=False))
        if not rows.size:
            return
        where = pd.DataFrame({name: claims.column(name).take(pa.array(rows)).to_numpy(zero_copy_only=False)
                              for name in ("run_id", "month", "block_row")})
        found = self.store.lines_at(where, USAGE_COLUMNS)
        found = found.filter(pc.equal(found.column("profile"), self.profile))
        found = _shaped_as(found.select(self.usage.column_names), self.usage.schema)
        self.usage = pa.concat_tables([self.usage, found])

    def __post_init__(self) -> None:
        self.size = self.usage.num_rows if self.usage is not None else 0
        self.totals_loaded = self.year_totals.num_rows

    def run_dates(self) -> dict[str, str]:
        """Each earlier run's day (when it finished), for the messages that name it."""
        return {r["run_id"]: r["finished_at"][:10] for r in self.store.runs()} if self.store else {}

    def billed_in(self, claim_ids: pa.Array | pa.ChunkedArray, distinct_first: int = 0) -> np.ndarray:
        """Per claim id: the row in `claims` of the first earlier line billing it, -1 when none does.

        A void line bills nothing, so its id is not billed: its rows are passed over (a mask over
        `claims`, found once; the ids themselves are never copied).
        """
        if self._void_rows is None:
            self._void_rows = void_rows(self.claims)
        skip = self._void_rows if self._void_rows.any() else None
        return first_positions(self.claims.column("claim_id"), claim_ids, distinct_first=distinct_first, skip=skip,
                               haystack_keys=self._claim_keys)

    def billed_position(self, claim_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Per claim id: the row in `claims` of the earlier line billing it, -1 when none does."""
        if self._expected is None or self._expected_at is None:
            return self.billed_in(claim_ids)
        # A few ids (originals, retirements) are hashed and the expected ids probed; many (a whole
        # column) are looked up in a hash of the expected ids. Both give each id's first expected place.
        few = len(claim_ids) * 8 < len(self._expected)
        at = first_positions(self._expected, claim_ids) if few else positions_in(self._expected, claim_ids)
        where = np.where(at >= 0, self._expected_at[np.maximum(at, 0)], -1)
        unexpected = np.flatnonzero((at < 0) & pc.is_valid(claim_ids).to_numpy(zero_copy_only=False))
        if unexpected.size:  # ids the batch did not announce (none in a validate run): looked up directly
            where[unexpected] = self.billed_in(pc.take(claim_ids, pa.array(unexpected)))
        return where

    def original_position(self, claim_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Per original claim id a void or replacement of this batch names: the row in `claims` of the line
        it takes out, -1 when none bills.

        The billed line with that id; on a re-run, the very line this run retired before (a later run may
        have billed the same id again, by a replacement that kept it): the same input takes out the same
        line.
        """
        where = self.billed_position(claim_ids)
        own = self.own_retired
        if len(own) and len(claim_ids):
            lines = self.lines_with_own_retired_ids().rename(columns={"run_id": "original_run"})
            taken = own.merge(lines[["claim_id", "original_run", "row"]], on=["claim_id", "original_run"]) \
                .drop_duplicates("claim_id")
            if len(taken):
                at = positions_in(pa.array(taken["claim_id"], pa.string()), claim_ids)
                where = np.where(at >= 0, taken["row"].to_numpy(np.int64)[np.maximum(at, 0)], where)
        return where

    def billed_elsewhere(self, ctx: Context, rows: np.ndarray) -> Billed:
        """Lines among `rows` whose claim_id an earlier run already billed.

        A claim a replacement took out still counts as billed (its replacement
        carries it on); a voided claim may be billed again. A line of this very
        run that a later run voided or replaced is this run's own, not a
        duplicate (re-running an old night gives its same outputs); nor is a
        void of this run that took its original out before.
        """
        if len(self.changed_later):
            rows = rows[~self.changed_later_lines(ctx)[rows]]
        if len(self.own_retired):
            rows = rows[~self.voids_kept_lines(ctx)[rows]]
        column = ctx.lines.text["claim_id"]
        if column is self._claim_column and self._claim_code_at is not None:
            codes = column.codes[rows]  # the ids the view was loaded for: answered per code, no text hashed
            hits = np.where(codes >= 0, self._claim_code_at[np.maximum(codes, 0)], -1)
        else:
            hits = self.billed_position(column.text(rows))
        matched = hits >= 0
        run_ids = np.full(rows.size, "", dtype=object)
        days = np.full(rows.size, MISSING, dtype=np.int64)
        found = pa.array(hits[matched])
        run_ids[matched] = self.claims.column("run_id").take(found).to_numpy(zero_copy_only=False)
        days[matched] = self.claims.column("service_day").take(found).to_numpy()
        if len(self.carried):
            where = positions_in(pa.array(self.carried["claim_id"], pa.string()), column.text(rows))
            carried = (where >= 0) & ~matched
            run_ids[carried] = self.carried["run_id"].to_numpy()[where[carried]]
            matched |= carried
        return Billed(rows[matched], run_ids[matched], days[matched])

    def voids_kept_lines(self, ctx: Context) -> np.ndarray:
        """Per batch line: a void of this run that took its original out when the run was validated before.

        Validated again, such a void is left as it was, whatever later runs billed since. A void bills
        nothing, so a later run may bill its original again (a voided claim may be billed again) or bill
        the void's own claim_id; rejecting the void now would put its original back, beside that later
        line or over a limit the later lines filled (SPEC section 6: the same input, the same outputs).
        """
        frequency = ctx.lines.text["claim_frequency"]
        voids = frequency.has(VOID)
        if not len(self.own_retired) or not voids.any():
            return np.zeros(ctx.lines.size, dtype=bool)
        voided = self.own_retired[self.own_retired["how"] == "void"]["claim_id"].unique()
        originals = ctx.lines.text["original_claim_id"]
        return voids & np.isin(originals.codes, originals.codes_of(list(voided)))

    def lines_with_own_retired_ids(self) -> pd.DataFrame:
        """The earlier lines (claim_id, run_id, row in `claims`) whose claim ids are those of originals
        this run retired when it ran before: a few lines, found once in every claim the ledger holds."""
        if self._own_retired_lines is None:
            named = pa.array(self.own_retired["claim_id"].unique(), pa.string())
            rows = np.flatnonzero(pc.fill_null(pc.is_in(self.claims.column("claim_id"), value_set=named), False)
                                  .to_numpy(zero_copy_only=False))
            lines = self.claims.take(pa.array(rows, pa.int64()))
            self._own_retired_lines = pd.DataFrame({
                "claim_id": lines.column("claim_id").to_numpy(zero_copy_only=False),
                "run_id": lines.column("run_id").cast(pa.string()).to_numpy(zero_copy_only=False),
                "row": rows,
            })
        return self._own_retired_lines

    def changed_later_lines(self, ctx: Context) -> np.ndarray:
        """Per batch line: whether it is a line of this run that a later run voided or replaced."""
        if not len(self.changed_later):
            return np.zeros(ctx.lines.size, dtype=bool)
        claims = ctx.lines.text["claim_id"]
        return np.isin(claims.codes, claims.codes_of(self.changed_later["claim_id"].tolist()))

    def original_state(self, claim_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For original claim ids: whether each is an active ledger line, and the run that already retired it."""
        originals = pa.array(claim_ids.tolist(), pa.string())
        active = self.billed_position(originals) >= 0
        retired_by = np.full(len(claim_ids), "", dtype=object)
        if len(self.retired):
            where = positions_in(pa.array(self.retired["claim_id"], pa.string()), originals)
            retired_by[where >= 0] = self.retired["retired_by"].to_numpy()[where[where >= 0]]
        return active, retired_by

    def originals_of(self, ctx: Context, kind: str) -> pd.DataFrame:
        """The earlier lines (line, run_id, month, block_row) this batch's accepted voids (`kind` VOID) or
        replacements (REPLACEMENT) name as their originals; `line` is the void's or replacement's row."""
        frequency = ctx.lines.text["claim_frequency"]
        changing = np.flatnonzero(ctx.accepted & frequency.has(kind))
        originals = ctx.lines.text["original_claim_id"].text(changing)
        # The billed line with that id: a void that reused the id bills nothing and is not it.
        where = self.original_position(originals)
        found = where >= 0
        where = pa.array(where[found])
        return pd.DataFrame({
            "line": changing[found],
            "run_id": self.claims.column("run_id").take(where).to_numpy(zero_copy_only=False),
            "month": self.claims.column("month").take(where).to_numpy(),
            "block_row": self.claims.column("block_row").take(where).to_numpy(),
        })

    def prior_for(self, ctx: Context) -> PriorUsage:
        """Earlier runs' units for this profile and the batch's members, and what the batch's replacements
        would release.

        The originals of accepted voids are taken out at once (a void bills
        nothing, so no limit rejects it). The originals of replacements keep
        counting: the limit pass releases each one only when its replacement
        is accepted (SPEC section 5), so `releases` says what each would free.
        On a re-run, a replacement of this run that a later run voided or
        replaced stays as that run left it (SPEC section 6): the pass does not
        decide it again, so its original is taken out at once, as a void's.
        The sums are kept and `usage` is released (for a profile with an annual
        cap it is a whole year of lines, the largest table a run holds).
        """
        if self.prior is not None:
            return self.prior
        assert self.usage is not None
        replacing = self.originals_of(ctx, REPLACEMENT)
        kept = self.changed_later_lines(ctx)[replacing["line"].to_numpy(np.int64)]
        # Counting such an original again would hold back lines the first run billed (a replacement held
        # back brings its own original back: a member over the cap).
        out = pd.concat([self.originals_of(ctx, VOID), replacing[kept]], ignore_index=True)
        kept_rows = kept_lines(self.usage, out)
        usage = self.usage if kept_rows is None else self.usage.filter(kept_rows)
        members = ctx.lines.text["member_id"].values
        codes = pa.array(list(ctx.services.codes))
        services = pa.array([s.key for s in ctx.profile.services])
        # Each earlier line's member code is its member's position among the batch's members (found as the
        # view was loaded); lines of other members are dropped, column by column (numpy, not an Arrow filter).
        member = self._member_positions(members, self.usage, self._usage_member_at)
        member = member if kept_rows is None else member[kept_rows.to_numpy(zero_copy_only=False)]
        mine = member >= 0
        code = dictionary_positions(codes, usage.column("hcpcs"))[mine]
        service = dictionary_positions(services, usage.column("service"))[mine]
        # Days matter only in the batch's own months (daily, monthly, per diem), the months `usage` holds.
        by_day = sum_by({"member": member[mine], "service": service, "code": code,
                         "day": usage.column("service_day").to_numpy()[mine].astype(np.int64)},
                        usage.column("units").to_numpy()[mine], "units")
        # The originals of the batch's voids and replacements, wherever they are (any month).
        _, out_lines = self._lines_named(out)
        replaced_line, replaced = self._lines_named(replacing[~kept])
        at = dictionary_positions(members, replaced.column("member_id"))
        releases = pd.DataFrame({"line": replaced_line, "member": at,
                                 "service": dictionary_positions(services, replaced.column("service")),
                                 "code": dictionary_positions(codes, replaced.column("hcpcs")),
                                 "day": replaced.column("service_day").to_numpy().astype(np.int64),
                                 "units": replaced.column("units").to_numpy().astype(np.int64)})
        # The annual caps: the running totals of the batch's years, less the originals taken out at once (above).
        by_year, authorizations = self._annual(ctx, members, codes, out_lines)
        self.prior = PriorUsage(by_day=by_day, by_year=by_year, authorizations=authorizations,
                                releases=releases[releases["member"] >= 0].reset_index(drop=True))
        self.usage = None
        return self.prior

    def _member_positions(self, members: pa.Array, table: pa.Table, found: np.ndarray | None) -> np.ndarray:
        """Per row of `table`, its member's position among `members`: as found when the view was loaded
        (`found`, for the same members and rows), or found now."""
        if found is not None and members is self._members and found.size == table.num_rows:
            return found
        return dictionary_positions(members, table.column("member_id"))

    def _lines_named(self, where: pd.DataFrame) -> tuple[np.ndarray, pa.Table]:
        """The earlier lines of this profile `where` names (line, run_id, month, block_row), read from their
        blocks: the batch's line for each, and the ledger line's usage columns."""
        if not len(where):
            return np.empty(0, np.int64), _empty(USAGE_COLUMNS)
        if self.store is None:
            # A view without the store (a partition of the Dask engine) finds them among the lines it was given.
            if self.usage is None:
                return np.empty(0, np.int64), _empty(USAGE_COLUMNS)
            found = _positions(self.usage, where)
            return found["line"].to_numpy(np.int64), self.usage.take(pa.array(found["position"].to_numpy(np.int64)))
        table = self.store.lines_at(where[["run_id", "month", "block_row"]], USAGE_COLUMNS)
        here = pd.DataFrame({
            "run_id": table.column("run_id").to_numpy(zero_copy_only=False),
            "month": table.column("month").to_numpy(),
            "block_row": table.column("block_row").to_numpy(),
            "profile": table.column("profile").to_numpy(zero_copy_only=False),
            "position": np.arange(table.num_rows),
        })
        found = where.merge(here, on=["run_id", "month", "block_row"])
        found = found[found["profile"] == self.profile]
        return found["line"].to_numpy(np.int64), table.take(pa.array(found["position"].to_numpy(np.int64)))

    def _annual(self, ctx: Context, members: pa.Array, codes: pa.Array,
                voided: pa.Table) -> tuple[pd.DataFrame, pd.DataFrame]:
        """by_year (member, code, year, units) and authorizations (authorization_id, units) for the annual caps:
        the running totals of the batch's members, less the originals taken out at once (`voided`)."""
        if not ctx.profile.annual_caps:
            none = PriorUsage.none()
            return none.by_year, none.authorizations
        years = pa.array(sorted({month // 12 + 1970 for month in self.months}), pa.int64())
        out = running.summed(voided, self.profile)
        out = out.filter(pc.is_in(out.column("year"), value_set=years))
        totals = self.year_totals
        member = self._member_positions(members, totals, self._year_member_at)
        if out.num_rows:  # the batch's members' totals only (the year's are many more), less `out`
            totals = running.combined([(totals.filter(pa.array(member >= 0)), +1), (out, -1)])
            member = positions_in(members, totals.column("member_id"))
        code = dictionary_positions(codes, totals.column("hcpcs"))
        mine = member >= 0
        units = totals.column("units").to_numpy()
        by_year = sum_by({"member": member[mine], "code": code[mine],
                          "year": totals.column("year").to_numpy()[mine]}, units[mine], "units")
        auth_units = totals.column("auth_units").to_numpy()
        billed_against = mine & (auth_units > 0)
        authorizations = pd.DataFrame({
            "authorization_id": totals.column("authorization_id").filter(pa.array(billed_against)).cast(pa.string())
            .to_numpy(zero_copy_only=False).astype(str),
            "units": auth_units[billed_against].astype(np.int64),
        }).groupby("authorization_id", as_index=False)["units"].sum()
        return by_year, authorizations

    def describe(self) -> dict[str, object]:
        """The ledger part of summary.json."""
        return {
            "mode": self.mode,
            "path": str(self.store.path) if self.store is not None else None,
            "months_loaded": len(self.months),
            "earlier_lines_loaded": self.size,
            "annual_totals_loaded": self.totals_loaded,
            "previous_executions_of_this_run": self.previous_executions,
        }

    def release(self) -> None:
        """Forget the earlier lines and totals, once the rules, the summary and the run's retirements have
        read them: the outputs and the commit need none of them.

        A night against a 5M-line ledger holds its claim ids (over 100 MB); freed
        before the outputs are built, that memory is reused for them instead of
        fresh pages (cmclaims/io/memory.py: fresh pages are dear). Only the counts
        `describe` reports stay.
        """
        self.claims = self.claims.schema.empty_table()
        self.year_totals = self.year_totals.schema.empty_table()
        self.usage = None
        self._void_rows = self._expected_at = self._claim_code_at = self._year_member_at = self._claim_keys = None
        self._expected = self._claim_column = self._members = self._usage_member_at = None
        self._own_retired_lines = None


def _year_totals(store: LedgerStore, profile: str, years: list[int], rerun: str | None,
                 own_lines_retired: pd.DataFrame, own_retired_rows: pd.DataFrame) -> pa.Table:
    """The running totals of `profile` in `years`, as this run sees the ledger.

    The totals count the ledger's active lines. A re-run (`rerun` is its run id) does not count its own
    earlier execution, and counts the originals that execution retired (it retires them again); the totals
    cannot tell those lines apart, so they are read from their blocks: the run's own lines of those
    years (as many as the night it re-runs) and the few originals it retired.
    """
    base = store.totals(profile, years, dictionary=True)  # each distinct member is looked up once
    if rerun is None:
        return base
    months = [(year - 1970) * 12 + m for year in years for m in range(12)]
    own = store.lines(months, running.LINE_COLUMNS, [rerun], profile=profile)
    active = pc.invert(pc.is_in(own.column("claim_id"),
                                value_set=pa.array(own_lines_retired["claim_id"].unique(), pa.string())))
    retired = store.lines_at(own_retired_rows, running.LINE_COLUMNS) if len(own_retired_rows) else \
        _empty(running.LINE_COLUMNS)
    retired = retired.filter(pc.and_(pc.equal(retired.column("profile"), profile),
                                     pc.is_in(retired.column("month"), value_set=pa.array(months, pa.int64()))))
    return running.combined([(base, +1), (running.summed(own.filter(active)), -1), (running.summed(retired), +1)])




def _positions(table: pa.Table, wanted: pd.DataFrame) -> pd.DataFrame:
    """The rows of `table` holding the lines `wanted` names by run_id, month and block_row: line, position."""
    if not len(wanted) or not table.num_rows:
        return pd.DataFrame({"line": np.empty(0, np.int64), "position": np.empty(0, np.int64)})
    maybe = pc.and_(is_in(table.column("run_id"), pa.array(wanted["run_id"].unique(), pa.string())),
                    pc.is_in(table.column("month"), value_set=pa.array(wanted["month"].unique(), pa.int64())))
    rows = np.flatnonzero(maybe.to_numpy(zero_copy_only=False))
    here = pd.DataFrame({
        "position": rows,
        "run_id": table.column("run_id").take(rows).to_numpy(zero_copy_only=False),
        "month": table.column("month").take(rows).to_numpy(),
        "block_row": table.column("block_row").take(rows).to_numpy(),
    })
    return wanted.merge(here, on=["run_id", "month", "block_row"])[["line", "position"]]




def history_lines(store: LedgerStore, months: list[int], columns: list[str], profile: str) -> pa.Table:
    """The lines committed runs of `profile` recorded in `months` and no void or replacement took out.

    Texts stay dictionary-encoded; for readers of the ledger's history such as
    `cmclaims compliance`. Only the blocks holding a retired original are read for claim ids.
    """
    lines = store.lines(months, columns, profile=profile, dictionary=True)
    retired = store.retired(months)
    found = []
    for (run_id, month), group in retired.groupby(["original_run", "month"]):
        block = store.lines([int(month)], ["claim_id"], [str(run_id)])
        hit = pc.is_in(block.column("claim_id"), value_set=pa.array(group["claim_id"], pa.string()))
        rows = block.column("block_row").filter(hit).to_numpy()
        found.append(pd.DataFrame({"run_id": run_id, "month": int(month), "block_row": rows}))
    gone = pd.concat(found) if found else pd.DataFrame({"run_id": [], "month": [], "block_row": []})
    return without(lines, gone)
