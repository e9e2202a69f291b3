"""CM4: the same service twice in the batch, and overlapping times (SPEC section 7).

The CM4 rules against earlier runs (CM402 already billed, CM405 void or
replacement of an unknown original) read the ledger (stage "ledger"); with
--no-ledger they are skipped and listed under rules_skipped.

Every check runs on the lines that passed CM0 (`ctx.checkable`), over whole
columns. Times are absolute minutes (service day * 1440 + minutes after
midnight), so a session past midnight meets the next morning's sessions.
Intervals are half-open: a session ending at 10:00 and one starting at 10:00
do not overlap, and a session that ends at or before its start (CM101's
finding) takes no time and overlaps nothing.

Overlaps are found with one sort per grouping (`Timeline`, one packed integer
key sorted by cmclaims.sorting, which is what makes it cheap): a line starting
before the latest end of the earlier lines of its group joins their cluster;
only lines in clusters of two or more are paired, each with the lines after
it that start before it ends. Nothing loops over lines in Python, and the
results do not depend on the order of the input rows: the line kept of an
exact duplicate and the line a message names are chosen by claim_id.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cmclaims.normalize.lines import MISSING
from cmclaims.rules.context import Context
from cmclaims.rules.describe import MINUTES_A_DAY, service_text, text_of, when
from cmclaims.rules.registry import Flags, rule
from cmclaims.rules.words import iso_date
from cmclaims.schema.columns import REPLACEMENT, VOID
from cmclaims.sorting import argsort_keys

_EMPTY = np.empty(0, dtype=np.int64)


# --- the overlap engine --------------------------------------------------------------------------


@dataclass(frozen=True)
class Timeline:
    """Lines sorted by group and then start time: the one sort an overlap check needs.

    `start` and `end` carry the group as an offset (group * span + minutes), so
    one ascending array orders groups and times together, and a running
    maximum of `end` never leaks from one group into the next.
    """

    rows: np.ndarray  # line numbers, in (group, start) order
    start: np.ndarray  # int64, ascending
    end: np.ndarray  # int64, with the same group offset as `start`

    @classmethod
    def build(cls, rows: np.ndarray, group: np.ndarray, start: np.ndarray, end: np.ndarray) -> Timeline:
        """The lines `rows`, grouped by `group` (non-negative integers), with their start and end minutes."""
        if rows.size == 0:
            return cls(_EMPTY, _EMPTY, _EMPTY)
        g = group[rows].astype(np.int64)
        s = start[rows].astype(np.int64)
        e = end[rows].astype(np.int64)
        low = min(int(s.min()), int(e.min()))
        span = max(int(s.max()), int(e.max())) - low + 1
        if int(g.max()) >= (1 << 62) // span:  # the keys would overflow: number the groups densely
            g = pd.factorize(g)[0].astype(np.int64)
        offset = g * span - low
        s_key, e_key = s + offset, e + offset
        order = argsort_keys(s_key)  # ties fall in line order, though nothing below depends on it
        return cls(rows[order], s_key[order], e_key[order])

    def same_start(self) -> np.ndarray:
        """Lines that share their group and start with another line (candidates for exact copies)."""
        if self.rows.size < 2:
            return _EMPTY
        tie = self.start[1:] == self.start[:-1]
        marked = np.zeros(self.rows.size, dtype=bool)
        marked[1:] |= tie
        marked[:-1] |= tie
        return self.rows[marked]

    def overlapping_pairs(self, among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every pair of lines of one group whose times overlap, each pair once.

        `among` (a boolean per line number) limits the lines considered.
        """
        keep = self.end > self.start
        if among is not None:
            keep &= among[self.rows]
        pos = np.flatnonzero(keep)
        if pos.size < 2:
            return _EMPTY, _EMPTY
        start, end = self.start[pos], self.end[pos]
        reach = np.maximum.accumulate(end)  # the latest end among this line and the ones before it
        opens = np.ones(pos.size, dtype=bool)
        opens[1:] = start[1:] >= reach[:-1]
        cluster = np.cumsum(opens) - 1
        crowded = np.flatnonzero(np.bincount(cluster)[cluster] > 1)
        # Partners of a crowded line: the lines after it that start before it ends (same group,
        # since the next group's offset puts its starts beyond every end of this one).
        stop = np.searchsorted(start, end[crowded], side="left")
        count = stop - crowded - 1
        first = np.repeat(crowded, count)
        second = first + 1 + (np.arange(first.size) - np.repeat(np.cumsum(count) - count, count))
        return self.rows[pos[first]], self.rows[pos[second]]


# --- the batch's sessions, computed once for all CM4 rules -----------------------------------------


@dataclass
class Sessions:
    """What the CM4 rules share: usable times, the staff timeline, and the exact copies."""

    usable: np.ndarray  # line-stage lines with a member, a staff member and both times
    start: np.ndarray  # int64 absolute minutes
    end: np.ndarray
    by_staff: Timeline
    copies: np.ndarray  # line numbers of exact copies (CM401 rejects them)
    kept: np.ndarray  # per copy: the line number of the first line it repeats


def _claim_rank(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """Per row, its position in claim_id order among `rows`: an order-independent tie break."""
    order = pc.sort_indices(text_of(ctx, "claim_id", rows)).to_numpy()  # line-stage lines all have one
    rank = np.empty(rows.size, dtype=np.int64)
    rank[order] = np.arange(rows.size)
    return rank


def _exact_copies(ctx: Context, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Among lines sharing staff and start: the copies, and the first line each repeats.

    First is by member, date, start, claim_id (SPEC section 5's order); within a
    set of copies the first three are equal, so the smallest claim_id is kept.
    """
    key = ["member_key", "service_day", "start_minute", "end_minute", "staff_key", "combo"]
    frame = pd.DataFrame({name: ctx.column(name)[candidates] for name in key[:-1]})
    frame["combo"] = ctx.services.combo[candidates]  # code and modifiers, in billing order
    repeated = frame.duplicated(key, keep=False).to_numpy()
    if not repeated.any():
        return _EMPTY, _EMPTY
    rows = candidates[repeated]
    frame = frame[repeated].assign(claim=_claim_rank(ctx, rows), row=rows)
    frame = frame.sort_values([*key, "claim"])
    copy = frame.duplicated(key, keep="first").to_numpy()
    first_row = frame["row"].where(~copy).ffill().to_numpy().astype(np.int64)
    return frame["row"].to_numpy()[copy], first_row[copy]


def sessions(ctx: Context) -> Sessions:
    """The batch's sessions, computed on first use and shared by every CM4 rule of the run."""
    return ctx.shared("cm4 sessions", lambda: _sessions(ctx))


def _sessions(ctx: Context) -> Sessions:
    day = ctx.column("service_day").astype(np.int64)
    start_minute, end_minute = ctx.column("start_minute"), ctx.column("end_minute")
    usable = (
        ctx.checkable
        & (day != MISSING)
        & (start_minute != MISSING)
        & (end_minute != MISSING)
        & (ctx.column("member_key") >= 0)
        & (ctx.column("staff_key") >= 0)
    )
    start = day * MINUTES_A_DAY + start_minute
    end = day * MINUTES_A_DAY + end_minute
    by_staff = Timeline.build(np.flatnonzero(usable), ctx.column("staff_key"), start, end)
    copies, kept = _exact_copies(ctx, by_staff.same_start())
    return Sessions(usable, start, end, by_staff, copies, kept)


def _not_copies(s: Sessions) -> np.ndarray:
    among = s.usable.copy()
    among[s.copies] = False
    return among


def _earliest_partner(ctx: Context, line: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per distinct line: its partner that starts first (then ends first, then has the smallest claim_id).

    Returns the lines, their partners and how many partners each has. Ends and
    claim ids are compared only among partners starting at the same minute.
    """
    s = sessions(ctx)
    start = s.start[other]
    low = int(start.min())
    span = int(start.max()) - low + 1
    if int(line.max()) < (1 << 62) // span:  # one integer key sorts faster than lexsort's two
        order = argsort_keys(line.astype(np.int64) * span + (start - low))
    else:
        order = np.lexsort((start, line))
    line, other = line[order], other[order]
    opens = np.ones(line.size, dtype=bool)
    opens[1:] = line[1:] != line[:-1]
    first = np.flatnonzero(opens)
    run = np.cumsum(opens) - 1
    count = np.bincount(run)
    lead = other[first][run]  # per entry: the first partner of its line by start
    tied = s.start[other] == s.start[lead]
    contested = np.flatnonzero(tied & (np.bincount(run, weights=tied)[run] > 1))
    if contested.size:  # partners starting at the same minute: the first to end, then the smallest claim_id
        rank = _claim_rank(ctx, other[contested])
        pick = contested[np.lexsort((rank, s.end[other[contested]], run[contested]))]
        keep = np.ones(pick.size, dtype=bool)
        keep[1:] = run[pick][1:] != run[pick][:-1]
        first[run[pick][keep]] = pick[keep]
    return line[first], other[first], count


def _overlap_flags(ctx: Context, a: np.ndarray, b: np.ndarray) -> Flags:
    """Both lines of every pair, each naming its earliest partner and how many more it has."""
    if a.size == 0:
        return Flags.none()
    rows, partner, count = _earliest_partner(ctx, np.concatenate([a, b]), np.concatenate([b, a]))
    extra, which = np.unique(count - 1, return_inverse=True)  # each distinct count of other lines worded once
    words = ["" if n == 0 else " and 1 other line" if n == 1 else f" and {n} other lines" for n in extra.tolist()]
    more = pa.DictionaryArray.from_arrays(pa.array(which.reshape(-1).astype(np.int32)), pa.array(words, pa.string()))
    return Flags(
        rows,
        {
            "service": service_text(ctx, rows),
            "when": when(ctx, rows),
            "other": text_of(ctx, "claim_id", partner),
            "other_when": when(ctx, partner),
            "more": more,
        },
    )


def _staff_pairs(ctx: Context) -> tuple[np.ndarray, np.ndarray]:
    s = sessions(ctx)
    return ctx.shared("cm4 staff pairs", lambda: s.by_staff.overlapping_pairs(_not_copies(s)))


# --- the rules ---------------------------------------------------------------------------------------


@rule(
    "CM401",
    "duplicates.exact_copy",
    severity="error",
    message="{service} on {when} repeats claim_id {kept} exactly (same member, date, times, code, "
    "modifiers and staff); only {kept} is billed",
)
def exact_copy(ctx: Context) -> Flags:
    """The same service entered twice: same member, date, times, code, modifiers and staff.

    What it checks:
        Lines under different claim_ids that agree on member, service date,
        start and end time, procedure code, modifiers and staff. The first of
        them is billed, the others are held. First means the smallest
        claim_id (lines are taken by member, date, start time and claim_id),
        so the outcome does not depend on the order of the export's rows.
        (A repeated claim_id is CM010's finding.)
    Why it matters:
        Billing one session twice is a duplicate claim: the payer denies the
        second or recoups it, and repeated duplicates draw an audit.
    Example:
        claim_id 88123 and 88124, both member M1, 2026-03-04 09:00-10:00,
        T1017 HE TF, staff S1: 88123 is billed, 88124 is held.
    How to fix:
        Delete the duplicate encounter in the EHR (or void it). If it was a
        second, real session, correct its times.
    Source:
        SPEC section 7 (an exact duplicate keeps the first and rejects the
        rest) and section 5 (the order of lines); seeds/001 "Scope of
        Practice" (case management cannot be duplicative).
    """
    s = sessions(ctx)
    if s.copies.size == 0:
        return Flags.none()
    return Flags(
        s.copies,
        {"service": service_text(ctx, s.copies), "when": when(ctx, s.copies), "kept": text_of(ctx, "claim_id", s.kept)},
    )


_BOTH_HELD = "; both are held until the wrong one is corrected"


@rule(
    "CM403",
    "duplicates.staff_overlap",
    severity="error",
    message="{service} on {when} overlaps claim_id {other} ({other_when}){more}: the same staff member is "
    "billed for another member at the same time" + _BOTH_HELD,
)
def staff_overlap(ctx: Context) -> Flags:
    """One staff member billed for two members at the same time.

    What it checks:
        Pairs of lines with the same staff_id, different members, and times
        that overlap by at least a minute (across midnight too). Both lines
        of each pair are held. Lines that only touch (one ends at 10:00, the
        next starts at 10:00) do not overlap, and two group sessions (a group
        modifier such as HQ, or a per diem code such as Michigan's H0023
        drop-in center) may serve several members at once.
    Why it matters:
        A case manager cannot serve two members at once: one of the two
        notes has the wrong time, member or staff, and the payer would recoup
        both in an audit. The validator cannot tell which one is wrong; the
        clerk can.
    Example:
        staff S1: claim 501 for member M1 on 2026-03-04 09:00-10:00 and claim
        502 for member M2 on 2026-03-04 09:45-10:30: both are held.
    How to fix:
        Check both notes (the message names the other line), correct the one
        whose time, member or staff is wrong, and re-export; both are
        validated again.
    Source:
        SPEC section 7 (two lines of the same staff member whose times
        overlap, for different members, are both rejected); seeds/002
        "Documentation Requirements" (3) (start and stop times of each
        service).
    """
    a, b = _staff_pairs(ctx)
    member = ctx.column("member_key")
    # Two group sessions (HQ, or a per diem code such as a drop-in day) of one staff member
    # serve several members at once by design; any other pair is a conflict.
    both_group = _group_service(ctx, a) & _group_service(ctx, b)
    conflict = (member[a] != member[b]) & ~both_group
    return _overlap_flags(ctx, a[conflict], b[conflict])


def _group_service(ctx: Context, rows: np.ndarray) -> np.ndarray:
    return ctx.services.group(rows) | ctx.units.per_diem[rows]


@rule(
    "CM404",
    "duplicates.member_overlap",
    severity="error",
    message="{service} on {when} overlaps claim_id {other} ({other_when}){more}: the same member is billed "
    "for the same code by another staff member at the same time" + _BOTH_HELD,
)
def member_overlap(ctx: Context) -> Flags:
    """One member billed for the same code by two staff members at the same time.

    What it checks:
        Pairs of lines with the same member and procedure code, different
        staff, and times that overlap by at least a minute. Both lines of
        each pair are held. Lines that only touch do not overlap; different
        codes (a peer support session during a case management visit) are not
        compared.
    Why it matters:
        The same service to the same member at the same time by two staff is
        billed twice for one need: either one of the notes is wrong or the
        second person's time is not a separate service. The payer recoups
        duplicated case management.
    Example:
        member M1, T1017: claim 601 by staff S1 on 2026-03-04 09:00-10:00 and
        claim 602 by staff S2 on 2026-03-04 09:30-10:15: both are held.
    How to fix:
        Check both notes (the message names the other line); correct the
        wrong time, member or staff, or void the line that duplicates the
        other, and re-export.
    Source:
        SPEC section 7 (the same member, same code, overlapping times by two
        staff: both rejected); seeds/001 "Scope of Practice" and seeds/000
        "Documentation Requirements" 9 (case management shall not be
        duplicative).
    """
    s = sessions(ctx)
    among = _not_copies(s)
    rows = np.flatnonzero(among)
    group = ctx.column("member_key").astype(np.int64) * len(ctx.services.codes) + ctx.services.code_index
    a, b = Timeline.build(rows, group, s.start, s.end).overlapping_pairs()
    staff = ctx.column("staff_key")
    other_staff = staff[a] != staff[b]
    return _overlap_flags(ctx, a[other_staff], b[other_staff])


@rule(
    "CM406",
    "duplicates.same_staff_overlap",
    severity="error",
    message="{service} on {when} overlaps claim_id {other} ({other_when}){more}: the same staff member bills "
    "the same member twice for the same minutes" + _BOTH_HELD,
)
def same_staff_overlap(ctx: Context) -> Flags:
    """One staff member billing the same member twice for overlapping times.

    What it checks:
        Pairs of lines with the same staff and the same member (any codes)
        whose times overlap by at least a minute but are not exact copies of
        each other (those are CM401's). Both lines of each pair are held.
    Why it matters:
        The overlapping minutes are billed twice: 09:00-10:00 and 09:30-10:30
        bill 8 units for 90 minutes of work. One of the two notes has the
        wrong times, or the two are one session entered twice.
    Example:
        staff S1, member M1: claim 701 on 2026-03-04 09:00-10:00 and claim 702
        on 2026-03-04 09:30-10:30: both are held.
    How to fix:
        Correct the times of the wrong note, or void one of the two and bill
        the session once with its real start and end, and re-export.
    Source:
        SPEC section 4 (units are earned by the documented time) and section
        7 (overlapping times); seeds/002 "Documentation Requirements" (3).
    """
    a, b = _staff_pairs(ctx)
    member = ctx.column("member_key")
    same_member = member[a] == member[b]
    return _overlap_flags(ctx, a[same_member], b[same_member])


# --- against earlier runs: the ledger ------------------------------------------------------------



def _claims(ctx: Context, rows: np.ndarray, column: str) -> np.ndarray:
    return np.asarray(ctx.lines.text[column].text(rows).to_pylist(), dtype=object)


@rule(
    "CM402",
    "duplicates.already_billed",
    severity="error",
    stage="ledger",
    needs=("ledger",),
    message="claim_id {claim_id} was already billed by {run} ({billed_on}); it is not billed twice",
)
def already_billed(ctx: Context) -> Flags:
    """A line whose claim_id an earlier run already billed.

    What it checks:
        Every accepted line's claim_id against every line earlier runs
        recorded in the ledger, in any month and whatever their payer: a claim
        billed with an April date and re-sent with a July date (a corrected
        re-export does this) is still billed. A replacement (claim_frequency 7)
        that keeps its original's claim_id is not a duplicate; a claim that was
        voided may be billed again; and a night run again is not a duplicate of
        itself, even after later nights voided or replaced some of its lines.
        Nor is a void of a night run again that took its original out the
        first time, whatever later nights billed since (its original again,
        or the void's own claim_id): the void stays as it was, or the
        original would come back beside that claim or over a limit.
    Why it matters:
        Billing the same service line twice is the double billing audits
        recoup, with penalties. It happens when an export is re-sent with new
        lines added, or two nights' exports overlap.
    Example:
        claim_id 88123 billed on 2026-03-05's run, and again in 2026-03-06's export.
    How to fix:
        Nothing, if the line was billed: it stays held back. If the earlier run's
        clean file was never submitted, roll that run back
        (`cmclaims ledger rollback RUN`) and validate again. To correct a billed
        line, send a replacement (claim_frequency 7 with original_claim_id).
    Source:
        SPEC sections 6 and 7 (CM4: already billed).
    """
    view = ctx.ledger
    frequency = ctx.lines.text["claim_frequency"]
    same_id = ctx.lines.text["claim_id"].codes == _original_codes_as_claim_codes(ctx)
    exempt = frequency.isin([VOID, REPLACEMENT]) & same_id
    rows = np.flatnonzero(ctx.accepted & ~exempt)
    billed = view.billed_elsewhere(ctx, rows)  # type: ignore[union-attr]
    runs = view.run_dates()  # type: ignore[union-attr]
    run_dates = np.array([runs.get(r, "?") for r in dict.fromkeys(billed.run_ids)], dtype=object)
    run_index = pd.Index(list(dict.fromkeys(billed.run_ids))).get_indexer(billed.run_ids)
    billed_on = "run of " + run_dates[run_index] if run_index.size else np.empty(0, dtype=object)
    dated = billed.days != MISSING
    billed_on[dated] = billed_on[dated] + ", service date " + iso_date(billed.days[dated]).astype(object)
    return Flags(
        billed.rows,
        {"claim_id": _claims(ctx, billed.rows, "claim_id"), "run": billed.run_ids, "billed_on": billed_on},
    )


def _original_codes_as_claim_codes(ctx: Context) -> np.ndarray:
    """Per line, the claim code of its original_claim_id text (-2 when no line has that claim_id)."""
    originals = ctx.lines.text["original_claim_id"]
    claims = ctx.lines.text["claim_id"]
    mapped = claims.codes_of(originals.values.to_pylist()) if len(originals.values) else np.empty(0, np.int32)
    return np.append(mapped, np.int32(-3))[originals.codes]  # lines without an original: -3 matches nothing


@rule(
    "CM405",
    "duplicates.unknown_original",
    severity="error",
    stage="ledger",
    needs=("ledger",),
    message="this {kind} names original claim {original}, which {problem}",
)
def unknown_original(ctx: Context) -> Flags:
    """A void or replacement whose original claim is not known.

    What it checks:
        A line with claim_frequency 8 (void) or 7 (replacement) must name, in
        original_claim_id, a claim the ledger holds as billed (or a line of
        the same batch). A void takes the original's units out of the ledger;
        a replacement puts its own units in their place. The original is
        looked for among every line the ledger holds, in any month (a
        correction may carry another date than its original).
    Why it matters:
        A void or replacement of a claim that was never billed, or was
        already voided, is denied by the payer, and would corrupt the units
        counted against the member's limits.
    Example:
        claim_frequency 8 with original_claim_id 77001, when no run billed 77001.
    How to fix:
        Check the original claim's id in the billing history; if it was billed
        before cmclaims kept a ledger, load that history with `cmclaims ledger import`.
    Source:
        SPEC section 2 (claim_frequency, original_claim_id) and section 6.
    """
    frequency = ctx.lines.text["claim_frequency"]
    rows = np.flatnonzero(ctx.accepted & frequency.isin([VOID, REPLACEMENT]))
    originals = _claims(ctx, rows, "original_claim_id")
    missing = np.array([o is None for o in originals], dtype=bool)
    originals = np.where(missing, "", originals).astype(object)
    active, retired_by = ctx.ledger.original_state(originals)  # type: ignore[union-attr]
    # An original in this batch is an accepted original line, never a void or replacement (nor the line itself).
    batch_claims = ctx.lines.text["claim_id"]
    batch_originals = ctx.accepted & ~frequency.isin([VOID, REPLACEMENT])
    in_batch = np.isin(batch_claims.codes_of(originals.tolist()), batch_claims.codes[batch_originals])
    unknown = ~active & ~in_batch
    problem = np.full(rows.size, "", dtype=object)
    problem[unknown] = "no earlier run billed"
    gone = unknown & (retired_by != "")
    problem[gone] = "was already voided or replaced by " + retired_by[gone]
    problem[missing] = "is empty: name the claim it voids or replaces"
    flagged = problem != ""
    kind = np.where(frequency.codes[rows] == frequency.code_of(VOID), "void", "replacement")
    return Flags(
        rows[flagged],
        {
            "kind": kind[flagged],
            "original": np.where(missing, "(none)", originals)[flagged],
            "problem": problem[flagged],
        },
    )


@rule(
    "CM407",
    "duplicates.changed_later",
    severity="warning",
    effect="adjust",
    stage="ledger",
    needs=("ledger",),
    message="claim_id {claim_id} was {how} by {run} after this night was first validated; validated again, "
    "the line bills what it billed then: {clean_units}",
)
def changed_later(ctx: Context) -> Flags:
    """A line of a night validated again that a later run voided or replaced, and that billed fewer units.

    What it checks:
        When a night is validated again (the same export: its own earlier
        execution is replaced), a line of it that a later run has since voided
        or replaced is left as that run left it: it is not counted again
        toward a limit, and it bills the units it billed the first time. Those
        are fewer than the export's when a limit cut the line back
        (`--over-limit cutback`); this rule says so and the clean file bills
        them. A line that billed all its units the first time is not flagged.
    Why it matters:
        The same input must give the same outputs (SPEC section 6): a night's
        clean file, validated again, must not bill more than it did, over a
        limit the first run enforced, for a line the payer already has.
    Example:
        A line cut back from 8 to 6 units by the daily limit, replaced by a
        later night, in its own night validated again: it bills 6.
    How to fix:
        Nothing: the line is billed as it was. Its correction is the later
        run's void or replacement.
    Source:
        SPEC sections 5 and 6 (voids and replacements; a run validated again).
    """
    view = ctx.ledger
    later = view.changed_later.drop_duplicates("claim_id")  # type: ignore[union-attr]
    rows = np.flatnonzero(ctx.accepted & view.changed_later_lines(ctx))  # type: ignore[union-attr]
    claims = ctx.lines.text["claim_id"]
    where = pd.Index(claims.codes_of(later["claim_id"].tolist())).get_indexer(claims.codes[rows])
    billed_then = later["units"].to_numpy(np.int64)[where]
    fewer = billed_then < ctx.billable[rows]
    rows, where, billed_then = rows[fewer], where[fewer], billed_then[fewer]
    return Flags(
        rows,
        {
            "claim_id": _claims(ctx, rows, "claim_id"),
            "how": np.where(later["how"].to_numpy()[where] == "void", "voided", "replaced"),
            "run": later["retired_by"].to_numpy()[where],
        },
        units=billed_then,
    )
