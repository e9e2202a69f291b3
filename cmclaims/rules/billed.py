"""CM4 against earlier runs: claims already billed, and voids or replacements of unknown originals.

These rules read the ledger (stage "ledger"); with --no-ledger they are
skipped and listed under rules_skipped.
"""

from __future__ import annotations

import numpy as np

from cmclaims.normalize.lines import MISSING
from cmclaims.rules.context import Context
from cmclaims.rules.registry import Flags, rule
from cmclaims.rules.words import iso_date

VOID, REPLACEMENT = "8", "7"


def _claims(ctx: Context, rows: np.ndarray, column: str) -> np.ndarray:
    return np.asarray(ctx.lines.text[column].text(rows).to_pylist(), dtype=object)


@rule(
    "CM402",
    "duplicates.already_billed",
    severity="error",
    stage="ledger",
    needs=("ledger",),
    message="claim_id {claim_id} was already billed by {run} ({when}); it is not billed twice",
)
def already_billed(ctx: Context) -> Flags:
    """A line whose claim_id an earlier run already billed.

    What it checks:
        Every accepted line's claim_id against the lines earlier runs recorded
        in the ledger for the same service months, whatever their payer. A
        replacement (claim_frequency 7) that keeps its original's claim_id is
        not a duplicate; a claim that was voided may be billed again.
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
    runs = {r["run_id"]: r["finished_at"][:10] for r in view.store.runs()} if view.store else {}  # type: ignore[union-attr]
    when = np.array([f"run of {runs.get(r, '?')}" for r in billed.run_ids], dtype=object)
    dated = billed.days != MISSING
    when[dated] = when[dated] + ", service date " + iso_date(billed.days[dated]).astype(object)
    return Flags(
        billed.rows,
        {"claim_id": _claims(ctx, billed.rows, "claim_id"), "run": billed.run_ids, "when": when},
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
        a replacement puts its own units in their place.
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
    batch_claims = ctx.lines.text["claim_id"]
    in_batch = np.isin(batch_claims.codes_of(originals.tolist()), batch_claims.codes[ctx.accepted])
    problem = np.full(rows.size, "", dtype=object)
    problem[~active & ~in_batch] = "no earlier run billed"
    problem[retired_by != ""] = "was already voided or replaced by " + retired_by[retired_by != ""]
    problem[missing] = "is empty: name the claim it voids or replaces"
    flagged = problem != ""
    kind = np.where(frequency.codes[rows] == frequency.code_of(VOID), "void", "replacement")
    return Flags(
        rows[flagged],
        {"kind": kind[flagged], "original": np.where(missing, "(none)", originals)[flagged], "problem": problem[flagged]},
    )
