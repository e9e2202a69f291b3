"""CM2: daily, monthly, per diem and annual limits, and authorizations (SPEC section 5).

The five rules share one sequential pass (cmclaims.limits.resolver): each line
is taken in order and accepted only if every limit it falls under still has
room. The pass runs once, on first use, and each rule reports the lines its
own limit held back or cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from cmclaims.limits.groups import Grouping, group_lines
from cmclaims.limits.prior import PriorUsage
from cmclaims.limits.resolver import AuthorizationPool, Limit, Outcome, Releases, apply_limits
from cmclaims.normalize.values import month_of, year_of
from cmclaims.rules.context import Context
from cmclaims.rules.registry import Flags, rule
from cmclaims.rules.words import as_text, counted, iso_date, month_label, year_label
from cmclaims.schema.columns import REPLACEMENT, VOID
from cmclaims.tables import Profile

DAILY, MONTHLY, PER_DIEM, ANNUAL, AUTHORIZATION = "CM201", "CM202", "CM203", "CM204", "CM205"


@dataclass
class LimitKind:
    """A limit as the resolver sees it, and what its messages need."""

    limit: Limit
    grouping: Grouping
    cap_name: np.ndarray | None = None  # per group, annual caps only: the cap's name
    cap_codes: list[int] | None = None  # annual caps only: the code indexes the cap counts


def _service_limits(profile: Profile, field: str) -> np.ndarray:
    """Per service index (and -1 last): its daily or monthly limit, 0 where it has none."""
    return np.array([getattr(s, field) or 0 for s in profile.services] + [0], dtype=np.int64)


def _prior(grouping: Grouping, columns: list[np.ndarray], units: np.ndarray, valid: np.ndarray) -> np.ndarray:
    found = grouping.locate([c[valid] for c in columns]) if valid.any() else np.empty(0, np.int64)
    hits = found >= 0
    return np.bincount(found[hits], weights=units[valid][hits], minlength=grouping.size).astype(np.int64)


def _build(ctx: Context, prior: PriorUsage) -> list[LimitKind]:
    profile = ctx.profile
    member = ctx.column("member_key")
    day = ctx.column("service_day").astype(np.int64)
    service = ctx.services.service_index.astype(np.int64)
    code = ctx.services.code_index.astype(np.int64)
    candidates = limit_candidates(ctx)
    members_p, services_p, codes_p, day_p = (prior.by_day[c].to_numpy(np.int64)
                                             for c in ("member", "service", "code", "day"))
    units_p = prior.by_day["units"].to_numpy(np.float64)
    known_p = (members_p >= 0) & (services_p >= 0)
    kinds: list[LimitKind] = []

    for code_rule, field, period, period_p in (
        (DAILY, "daily_units", day, day_p),
        (MONTHLY, "monthly_units", month_of(day), month_of(day_p)),
    ):
        caps = _service_limits(profile, field)
        applies = candidates & (caps[service] > 0)
        grouping = group_lines([member, service, period], applies)
        cap = _per_group(grouping, caps[service])
        used = _prior(grouping, [members_p, services_p, period_p], units_p, known_p)
        kinds.append(LimitKind(Limit(code_rule, grouping.group, cap, used), grouping))

    per_diem = np.array([r.code.unit == "per_diem" for r in profile.codes.values()] + [False])
    applies = candidates & per_diem[code]
    grouping = group_lines([member, code, day], applies)
    known_codes = (members_p >= 0) & (codes_p >= 0)
    used = _prior(grouping, [members_p, codes_p, day_p], units_p, known_codes)
    kinds.append(LimitKind(Limit(PER_DIEM, grouping.group, np.ones(grouping.size, np.int64), used), grouping))

    year = year_of(day)
    year_members, year_codes, year_p = (prior.by_year[c].to_numpy(np.int64) for c in ("member", "code", "year"))
    year_units = prior.by_year["units"].to_numpy(np.float64)
    for annual in profile.annual_caps:
        cap_codes = [i for i, c in enumerate(ctx.services.codes) if c in annual.codes]
        applies = candidates & np.isin(code, cap_codes)
        grouping = group_lines([member, year], applies)
        in_cap = (year_members >= 0) & np.isin(year_codes, cap_codes)
        used = _prior(grouping, [year_members, year_p], year_units, in_cap)
        limit = Limit(ANNUAL, grouping.group, np.full(grouping.size, annual.units, np.int64), used, extendable=True)
        kinds.append(LimitKind(limit, grouping, np.full(grouping.size, annual.name, dtype=object), cap_codes))
    return kinds


def limit_candidates(ctx: Context) -> np.ndarray:
    """Lines the limits count: accepted so far, not voids (a void bills nothing), not the originals that an
    accepted void of the same batch takes out, and not lines of this run that a later run voided or
    replaced (on a re-run: what replaced them is in the ledger and counts in their place), nor the lines
    of the batch that such a replacement took out (it stays as the later run left it, SPEC section 6, so
    they stay out, as the ledger originals of such replacements do: LedgerView.prior_for)."""
    frequency = ctx.lines.text["claim_frequency"]
    voided_here = _batch_originals(ctx, ctx.accepted & frequency.has(VOID)) >= 0
    candidates = ctx.accepted & ~frequency.has(VOID)
    candidates[voided_here] = False
    if ctx.ledger is not None:
        changed_later = ctx.ledger.changed_later_lines(ctx)
        candidates &= ~changed_later
        candidates[_batch_originals(ctx, ctx.accepted & changed_later & frequency.has(REPLACEMENT)) >= 0] = False
    return candidates


def _batch_originals(ctx: Context, changing: np.ndarray) -> np.ndarray:
    """Per line: -1, or for a line of the batch that a `changing` line (void or replacement) names as its
    original, that changing line. An original is an original line (frequency 1), never a void or replacement."""
    frequency = ctx.lines.text["claim_frequency"]
    claims, originals = ctx.lines.text["claim_id"], ctx.lines.text["original_claim_id"]
    rows = np.flatnonzero(changing & originals.present)
    named = claims.codes_of(originals.text(rows).to_pylist())
    by_claim = pd.Series(rows, index=named)
    by_claim = by_claim[(by_claim.index >= 0) & ~by_claim.index.duplicated()]
    changer = np.array(by_claim.reindex(claims.codes).fillna(-1).to_numpy(np.int64))  # a writable copy
    changer[frequency.isin([VOID, REPLACEMENT])] = -1
    return changer


def _releases(ctx: Context, prior: PriorUsage, kinds: list[LimitKind], candidates: np.ndarray) -> Releases:
    """What each candidate replacement frees, per limit, when the pass accepts it: its original's units in
    the original's group (an original in the ledger), or the original line of this batch."""
    frequency = ctx.lines.text["claim_frequency"]
    replacing = candidates & frequency.has(REPLACEMENT)
    ledger = prior.releases[replacing[prior.releases["line"].to_numpy(np.int64)]] if len(prior.releases) else \
        prior.releases
    batch_changer = _batch_originals(ctx, replacing)
    batch_original = np.flatnonzero((batch_changer >= 0) & candidates)
    line = np.concatenate([ledger["line"].to_numpy(np.int64), batch_changer[batch_original]])
    member = np.concatenate([ledger["member"].to_numpy(np.int64), ctx.column("member_key")[batch_original]])
    service = np.concatenate([ledger["service"].to_numpy(np.int64),
                              ctx.services.service_index[batch_original].astype(np.int64)])
    code = np.concatenate([ledger["code"].to_numpy(np.int64), ctx.services.code_index[batch_original].astype(np.int64)])
    day = np.concatenate([ledger["day"].to_numpy(np.int64),
                          ctx.column("service_day")[batch_original].astype(np.int64)])
    units = np.concatenate([ledger["units"].to_numpy(np.int64), np.zeros(batch_original.size, np.int64)])
    original = np.concatenate([np.full(len(ledger), -1, np.int64), batch_original.astype(np.int64)])
    groups = []
    for kind in kinds:
        keys = {DAILY: [member, service, day], MONTHLY: [member, service, month_of(day)],
                PER_DIEM: [member, code, day], ANNUAL: [member, year_of(day)]}[kind.limit.code]
        group = kind.grouping.locate(keys) if line.size else np.empty(0, np.int64)
        if kind.cap_codes is not None:
            group[~np.isin(code, kind.cap_codes)] = -1
        groups.append(group)
    return Releases(line, groups, units, original)


def _per_group(grouping: Grouping, per_line: np.ndarray) -> np.ndarray:
    """A per-line value that is constant within each group, as one value per group."""
    cap = np.zeros(grouping.size, dtype=np.int64)
    applies = grouping.group >= 0
    cap[grouping.group[applies]] = per_line[applies]
    return cap


def _order(ctx: Context):
    member = ctx.column("member_key")
    day = ctx.column("service_day")
    start = ctx.column("start_minute")
    claims = ctx.lines.text["claim_id"]

    def order(rows: np.ndarray) -> np.ndarray:
        if rows.size == 0:
            return rows
        # claim ids compare as text; rank them among these lines only
        claim_rank = pc.rank(claims.text(rows), sort_keys="ascending", tiebreaker="dense").to_numpy()
        return rows[np.lexsort((claim_rank, start[rows], day[rows], member[rows]))]

    return order


def _authorization_pool(ctx: Context, prior: PriorUsage) -> AuthorizationPool | None:
    auths = ctx.side.authorizations
    if auths is None or auths.frame.empty or not ctx.profile.annual_caps:
        return None
    frame = auths.frame
    used = (
        prior.authorizations.groupby("authorization_id")["units"].sum().reindex(frame["authorization_id"]).fillna(0)
    )

    def covering(rows: np.ndarray) -> dict[int, list[int]]:
        lines = pd.DataFrame(
            {
                "line": rows,
                "member_id": ctx.lines.text["member_id"].text(rows).to_pandas(),
                "hcpcs": ctx.lines.text["hcpcs"].text(rows).to_pandas(),
                "day": ctx.column("service_day")[rows],
                "own": ctx.lines.text["authorization_id"].text(rows).to_pandas(),
                "modifiers": ctx.services.modifiers(rows),
            }
        )
        table = frame.reset_index(names="auth")
        pairs = lines.merge(table, on=["member_id", "hcpcs"])
        fits = (pairs["start_day"] <= pairs["day"]) & (pairs["day"] <= pairs["end_day"])
        modifier = pairs["modifier"].fillna("")
        fits &= (modifier == "") | pd.Series(
            [m in str(mods).split() for m, mods in zip(modifier, pairs["modifiers"], strict=True)], index=pairs.index
        )
        pairs = pairs[fits].assign(not_own=lambda p: p["authorization_id"] != p["own"])
        pairs = pairs.sort_values(["line", "not_own", "end_day", "authorization_id"])
        return pairs.groupby("line")["auth"].agg(list).to_dict()

    return AuthorizationPool(frame["units"].to_numpy(), used.to_numpy().astype(np.int64), covering)


@dataclass
class LimitReport:
    """The limits of the batch and the outcome of the sequential pass over them."""
    kinds: list[LimitKind]
    outcome: Outcome


def limit_report(ctx: Context) -> LimitReport:
    """The sequential pass over every limit, run once per batch."""
    return ctx.shared("limit report", lambda: _limit_report(ctx))


def _limit_report(ctx: Context) -> LimitReport:
    prior = ctx.ledger.prior_for(ctx) if ctx.ledger is not None else PriorUsage.none()
    kinds = _build(ctx, prior)
    candidates = limit_candidates(ctx)
    outcome = apply_limits(
        ctx.billable,
        candidates,
        _order(ctx),
        [k.limit for k in kinds],
        _authorization_pool(ctx, prior),
        cutback=ctx.over_limit == "cutback",
        releases=_releases(ctx, prior, kinds, candidates),
    )
    return LimitReport(kinds, outcome)


def _rows_of(ctx: Context, code: str) -> tuple[np.ndarray, LimitReport]:
    """The lines `code`'s limit held back or cut; an annual cap with a covering authorization is CM205."""
    report = limit_report(ctx)
    outcome = report.outcome
    touched = np.flatnonzero(outcome.binding >= 0)  # the few lines a limit cut or held back
    kinds = np.array([k.limit.code for k in report.kinds], dtype=object)[outcome.binding[touched]]
    authorized = outcome.authorization_room[touched] >= 0
    reported_as = np.where((kinds == ANNUAL) & authorized, AUTHORIZATION, kinds)
    return touched[reported_as == code], report


def _limit_flags(ctx: Context, code: str) -> Flags:
    rows, report = _rows_of(ctx, code)
    outcome = report.outcome
    units, allowed = ctx.billable[rows], outcome.allowed[rows]
    limit = np.zeros(rows.size, dtype=np.int64)
    cap_name = np.full(rows.size, "", dtype=object)
    for index, kind in enumerate(report.kinds):
        here = outcome.binding[rows] == index
        group = kind.limit.group[rows[here]]
        limit[here] = kind.limit.cap[group]
        if kind.cap_name is not None:
            cap_name[here] = kind.cap_name[group]
    days = ctx.column("service_day")[rows]
    return Flags(
        rows,
        {
            "units": counted(units, "unit"),
            "date": iso_date(days),
            "month": month_label(days),
            "year": year_label(days),
            "used": outcome.used[rows],
            "used_units": counted(outcome.used[rows], "unit"),
            "limit": limit,
            "cap": cap_name,
            "room": counted(outcome.authorization_room[rows], "unit"),
            "service": ctx.service_text(rows),
            "outcome": np.where(allowed > 0, "billed " + as_text(allowed) + " of " + counted(units, "unit"),
                                "held back"),
        },
        units=allowed,
    )


def _has_daily(profile: Profile) -> bool:
    return any(s.daily_units for s in profile.services)


def _has_monthly(profile: Profile) -> bool:
    return any(s.monthly_units for s in profile.services)


def _has_per_diem(profile: Profile) -> bool:
    return any(r.code.unit == "per_diem" for r in profile.codes.values())


def _has_annual(profile: Profile) -> bool:
    return bool(profile.annual_caps)


@rule(
    DAILY,
    "limits.daily",
    severity="error",
    effect="reject",
    stage="limits",
    applies=_has_daily,
    message="{units} on {date} would go over the daily limit of {limit} for {service} "
    "({used} already billed that day): {outcome}",
)
def daily_limit(ctx: Context) -> Flags:
    """More units for a member in one day than the service's daily limit.

    What it checks:
        Each service (a code with its level modifier) may have a daily limit
        per member, counting every line of that member that day, from all
        staff and programs, in this batch and in earlier runs. Lines are taken
        in order of member, date, start time and claim id, and only accepted
        units count: with a limit of 16, lines of 10, 10 and 5 units bill 10,
        hold back 10, and bill 5. With `--over-limit cutback` the second line
        bills the 6 units left instead.
    Why it matters:
        Units over the daily limit are denied, or paid and recouped in an audit.
    Example:
        17 units of T1017 HE TF for one member on 2026-03-04 (Oklahoma: 16 a day).
    How to fix:
        Check the times of that day's notes; a genuine need above the limit is
        billed only with the payer's approval.
    Source:
        seeds/002 (SoonerCare T1017 modifier table: 16 units a day); SPEC section 5.
    """
    return _limit_flags(ctx, DAILY)


@rule(
    MONTHLY,
    "limits.monthly",
    severity="error",
    effect="reject",
    stage="limits",
    applies=_has_monthly,
    message="{units} on {date} would go over the monthly limit of {limit} for {service} in {month} "
    "({used} already billed that month): {outcome}",
)
def monthly_limit(ctx: Context) -> Flags:
    """More units for a member in one calendar month than the service's monthly limit.

    What it checks:
        Each service may have a monthly limit per member, counted over the
        calendar month of the date of service, in this batch and in earlier
        runs (a late line counts against its own month), accepted units only,
        in the same order as the daily limit.
    Why it matters:
        Units over the monthly limit are denied or recouped.
    Example:
        A member with 22 units of T1017 HE HN billed in March and a new line of
        4 units on 2026-03-30 (Oklahoma: 25 a month).
    How to fix:
        Review the month's services for the member; units above the limit need
        the payer's prior approval.
    Source:
        seeds/002 (SoonerCare T1017 modifier table: 25 or 56 units a month); SPEC section 5.
    """
    return _limit_flags(ctx, MONTHLY)


@rule(
    PER_DIEM,
    "limits.per_diem",
    severity="error",
    effect="reject",
    stage="limits",
    applies=_has_per_diem,
    message="{service} is paid once a day per member and {date} is already billed: {outcome}",
)
def per_diem_limit(ctx: Context) -> Flags:
    """A second per diem unit for the same member and day.

    What it checks:
        A per diem code (Michigan H2036, H0023) bills at most one unit a member
        a day, whatever the number of lines or staff.
    Why it matters:
        The per diem rate pays for the whole day; a second line is duplicate billing.
    Example:
        Two H2036 lines for the same member on 2026-03-04.
    How to fix:
        Keep one line for the day; record the other contacts in its note.
    Source:
        SPEC section 4 (per-diem codes bill at most one unit a member a day);
        seeds/000 (H2036: per diem).
    """
    return _limit_flags(ctx, PER_DIEM)


@rule(
    ANNUAL,
    "limits.annual_cap",
    severity="error",
    effect="reject",
    stage="limits",
    applies=_has_annual,
    message="{units} on {date} would go over the annual cap of {limit} units ({cap}) in {year} "
    "({used_units} billed so far that year, authorized units included) and no authorization covers "
    "the excess: {outcome}",
)
def annual_cap(ctx: Context) -> Flags:
    """More units for a member in a calendar year than the profile's annual cap allows.

    What it checks:
        Units of the cap's codes a member received in the calendar year, in
        this batch and in earlier runs, accepted units only, in order. Units
        beyond the cap are billable only against a prior authorization that
        covers the member, the code and the date (`--authorizations`); this
        rule fires when none does.
    Why it matters:
        Optum Idaho pays 240 units (60 hours) of case management a client a
        calendar year; more must be prior authorized, or it is denied.
    Example:
        A member with 236 units of T1017 and T1016 in 2026 and a new line of 8 units.
    How to fix:
        Request a prior authorization for the additional units, add it to the
        authorizations file, and re-run the line.
    Source:
        seeds/001 (Authorization Type: 240 units per client per calendar year);
        SPEC section 5.
    """
    return _limit_flags(ctx, ANNUAL)


@rule(
    AUTHORIZATION,
    "limits.authorization_used_up",
    severity="error",
    effect="reject",
    stage="limits",
    applies=_has_annual,
    message="{units} on {date} would go over the annual cap of {limit} units ({cap}) in {year} "
    "and the covering authorization has only {room} left: {outcome}",
)
def authorization_used_up(ctx: Context) -> Flags:
    """Units beyond an annual cap, with the covering authorization used up.

    What it checks:
        Units beyond the annual cap bill against a covering authorization, in
        order, until its units are used up; a line that needs more than is left
        is held back (or, with `--over-limit cutback`, billed for what is left).
    Why it matters:
        An authorization grants a number of units; units beyond it are denied.
    Example:
        An authorization of 40 units with 38 used, and a line of 4 units
        beyond the cap.
    How to fix:
        Ask the payer to extend the authorization, or split the service so
        the part beyond it is not billed.
    Source:
        seeds/001 (additional services must be prior authorized); SPEC sections 2 and 5.
    """
    return _limit_flags(ctx, AUTHORIZATION)
