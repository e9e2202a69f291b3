"""Running the rules in their stages and deciding each line's fate.

Stages run in order: input (CM0, every line), line (rules over lines whose
values are usable), ledger (against earlier runs), limits (the sequential
pass over the lines still accepted). A rejecting finding takes the line out
of every later stage; an adjusting one changes its billable units; a warning
changes nothing. Each line ends `rejected`, `adjusted`, `warning` or `pass`:
a line whose units any rule changed is `adjusted` (SPEC section 3), even when a
limit then cut it back to exactly the export's units.

Messages are rendered once every stage has run, so that a message may name
what the clean file really bills (`{clean_units}`): a CM102 correction that a
limit later cut says the units the line ends with, not the ones before the cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from cmclaims.normalize.services import OK
from cmclaims.rules import rules_in_order
from cmclaims.rules.context import Context
from cmclaims.rules.data import missing_data
from cmclaims.rules.registry import Rule
from cmclaims.rules.words import counted, per_distinct, render

STAGES = ("input", "line", "ledger", "limits")
# A line's fate, kept as a small integer per line; DISPOSITIONS gives the words the outputs use.
PASS, WARNING, ADJUSTED, REJECTED = 0, 1, 2, 3
DISPOSITIONS = ("pass", "warning", "adjusted", "rejected")


@dataclass
class Finding:
    """One rule's findings: the lines, and the fields its messages are filled from.

    Messages are rendered only when they are written, a slice of findings at a
    time (`messages(positions)`), so a night with millions of findings never
    holds millions of message strings at once.
    """

    rule: Rule
    rows: np.ndarray
    fields: dict[str, object]  # arrays aligned with `rows`, or scalars
    rendered: pa.Array | None = None  # messages decided elsewhere (checks.Given), aligned with `rows`

    def messages(self, positions: np.ndarray | None = None) -> pa.Array:
        """The messages of the findings at `positions` (indices into `rows`; all by default)."""
        if self.rendered is not None:
            return self.rendered if positions is None else self.rendered.take(pa.array(positions))
        if positions is None:
            return render(self.rule.message, self.fields, self.rows.size)
        fields = {name: _take(value, positions, self.rows.size) for name, value in self.fields.items()}
        return render(self.rule.message, fields, positions.size)


def _take(value: object, positions: np.ndarray, size: int) -> object:
    """A message field at `positions` (scalars as they are)."""
    if isinstance(value, np.ndarray) and value.shape[:1] == (size,):
        return value[positions]
    if isinstance(value, pa.Array | pa.ChunkedArray) and len(value) == size:
        return value.take(pa.array(positions))
    return value


@dataclass
class Outcome:
    """Every finding, each line's disposition and billable units, and the rules that could not run."""

    findings: list[Finding]
    disposition: np.ndarray  # int8 per line: PASS, WARNING, ADJUSTED or REJECTED
    billable: np.ndarray  # int32 units the clean file bills (0 when rejected)
    # dollars the clean file bills: pro rata to the units, 0 when rejected, NaN without a charge
    charge_allowed: np.ndarray
    applied: list[Rule]
    skipped: list[tuple[Rule, str]]


@dataclass
class Given:
    """Findings of rules decided outside this batch's own lines, by rule code.

    A check that crosses members (CM010: one claim_id on lines of several
    members; CM403: one staff member with two members at once) cannot be
    decided on a partition holding some members' lines. The engine decides it
    where all the lines concerned are together and hands the result in here:
    the lines (positions in this batch) and their messages. The rule keeps
    its stage, its domain and its effect; only its check is not run again.
    """

    findings: dict[str, tuple[np.ndarray, pa.Array]] = field(default_factory=dict)


def _subset(value: object, inside: np.ndarray) -> object:
    """A message field restricted to the flagged lines inside the stage's domain (scalars as they are)."""
    if inside.all():
        return value
    if isinstance(value, np.ndarray) and value.shape[:1] == inside.shape:
        return value[inside]
    if isinstance(value, pa.Array | pa.ChunkedArray) and len(value) == inside.size:
        return value.filter(pa.array(inside))
    return value


def run_checks(ctx: Context, given: Given | None = None, chosen: Callable[[Rule], bool] | None = None,
               before_stage: Callable[[str], None] | None = None) -> Outcome:
    """Run every rule the profile enforces over the batch, stage by stage.

    `given` holds rules already decided elsewhere (their findings are taken as
    they are); `chosen` runs only the rules it accepts (a partial pass);
    `before_stage(stage)` is called as each stage starts (the local run hands
    the rules the ledger there, read meanwhile on a thread).
    """
    given = given or Given()
    n = ctx.lines.size
    rejected = np.zeros(n, dtype=bool)
    warned = np.zeros(n, dtype=bool)
    ctx.billable = ctx.units.billed.copy()
    ctx.accepted = np.ones(n, dtype=bool)
    ctx.checkable = np.zeros(n, dtype=bool)
    # per finding: its rule, its lines, and its message fields (rendered at the end) or its messages
    found: list[tuple[Rule, np.ndarray, dict[str, object] | pa.Array]] = []
    changed = np.zeros(n, dtype=bool)  # lines whose units a rule changed
    applied: list[Rule] = []
    skipped: list[tuple[Rule, str]] = []

    for stage in STAGES:
        if before_stage is not None:
            before_stage(stage)
        if stage == "line":
            # Line rules see only lines whose values all parsed and whose service resolved.
            ctx.checkable = ctx.accepted & ctx.column("parsed") & (ctx.services.problem == OK)
        domain = {"input": np.ones(n, dtype=bool), "line": ctx.checkable}.get(stage, ctx.accepted)
        domain = domain.copy()
        for rule in (r for r in rules_in_order() if r.stage == stage):
            if not rule.applies_to(ctx.profile) or (chosen is not None and not chosen(rule)):
                continue
            reason = missing_data(ctx, rule.needs)
            if reason is not None:
                skipped.append((rule, reason))
                continue
            applied.append(rule)
            if rule.code in given.findings:
                decided, messages = given.findings[rule.code]
                inside = domain[decided]
                rows, new_units = decided[inside], None
                if rows.size:
                    found.append((rule, rows, messages.filter(pa.array(inside))))
            else:
                assert rule.check is not None
                flags = rule.check(ctx)
                inside = domain[flags.rows]
                rows = flags.rows[inside]
                if rows.size == 0:
                    continue
                found.append((rule, rows, {name: _subset(value, inside) for name, value in flags.fields.items()}))
                new_units = flags.units[inside] if flags.units is not None else None
            if rows.size == 0:
                continue
            if rule.effect_in(ctx.profile) == "reject" and new_units is None:
                rejected[rows] = True
            elif new_units is not None:
                changed[rows[new_units != ctx.billable[rows]]] = True
                ctx.billable[rows] = new_units
                rejected[rows[new_units <= 0]] = True
            else:
                warned[rows] = True
        if stage in ("input", "line"):
            ctx.accepted = ~rejected
        else:
            ctx.accepted &= ~rejected
        ctx.forget_shared()

    billable = np.where(rejected, 0, ctx.billable).astype(np.int32)
    disposition = np.full(n, PASS, dtype=np.int8)
    disposition[warned] = WARNING
    disposition[((billable != ctx.units.billed) | changed) & ~rejected] = ADJUSTED
    disposition[rejected] = REJECTED
    findings = [
        Finding(rule, rows, {}, rendered=fields) if not isinstance(fields, dict) else
        Finding(rule, rows, {**fields, "clean_units": per_distinct(lambda b: counted(b, "unit"), billable[rows])}
                if "clean_units" in rule.fields else fields)
        for rule, rows, fields in found
    ]
    charge_allowed = _charge_allowed(ctx.column("charge_amount"), ctx.units.billed, billable, rejected)
    ctx.release_rule_state()
    return Outcome(findings, disposition, billable, charge_allowed, applied, skipped)


def disposition_text(disposition: np.ndarray) -> pa.Array:
    """The dispositions as the words the clean and exceptions files carry."""
    return pa.array(DISPOSITIONS, pa.string()).take(pa.array(disposition, pa.int8()))


def _charge_allowed(charge: np.ndarray, billed: np.ndarray, billable: np.ndarray, rejected: np.ndarray) -> np.ndarray:
    """A line's charge after its units changed: the same rate per unit, to the cent."""
    ratio = np.divide(billable, billed, out=np.ones(billed.size), where=(billed > 0) & (billable != billed))
    return np.where(rejected & ~np.isnan(charge), 0.0, np.round(charge * ratio, 2))
