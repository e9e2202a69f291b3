"""A synthetic payer: an 835 answering a run's clean file, for demos and the README's loop.

Most lines are paid in full; some are cut by the fee schedule (CO-45) or
left to the member (PR-1); some are denied (CO-197 no authorization, CO-16
missing information, CO-18 duplicate), which is what `cmclaims report remit`
shows as edits cmclaims is missing. The first paid claim is reversed and
paid again (CLP02 = 22), and one line the agency never billed through
cmclaims is added, so that the report's unmatched list has something in it.
The same run folder and seed write the same bytes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from cmclaims.errors import ConfigError
from cmclaims.io.writer import commit, temporary_beside
from cmclaims.remit.x12_write import ClaimRemit, LineRemit, write_835

# (share of lines, group, CARC, RARC, share of the charge adjusted)
_FATES = [
    (0.06, "CO", "45", None, Decimal("0.10")),
    (0.03, "PR", "1", None, Decimal("1")),
    (0.04, "CO", "197", "N54", Decimal("1")),
    (0.02, "CO", "16", "N382", Decimal("1")),
    (0.01, "CO", "18", None, Decimal("1")),
]


def _clean_lines(folder: Path) -> pd.DataFrame:
    for name in ("clean.csv", "clean.parquet"):
        path = folder / name
        if path.exists():
            frame = pd.read_csv(path, dtype=str, keep_default_na=False) if name.endswith(".csv") \
                else pd.read_parquet(path).astype(str)
            return frame
    raise ConfigError(f"{folder}: no clean.csv or clean.parquet here", hint="give a `cmclaims validate` --out folder")


def _lines(frame: pd.DataFrame) -> pd.DataFrame:
    """claim_id, member_id, day, hcpcs, modifiers, units and the charge as billed (after adjustments)."""
    modifiers = [c for c in ("modifier1", "modifier2", "modifier3", "modifier4") if c in frame.columns]
    units = pd.to_numeric(frame["billable_units"], errors="coerce").fillna(0).astype(int)
    exported = pd.to_numeric(frame.get("units", units), errors="coerce").fillna(units)
    charge = pd.to_numeric(frame.get("charge", pd.Series("0", index=frame.index)), errors="coerce").fillna(0.0)
    # The charge of a line billed for fewer units: the same rate per unit (as validate bills it).
    charge = np.where((exported > 0) & (exported != units), charge * units / exported.where(exported > 0, 1), charge)
    return pd.DataFrame({
        "claim_id": frame["claim_id"],
        "member_id": frame["member_id"],
        "day": _days(frame["service_date"]),
        "hcpcs": frame["hcpcs"],
        "modifiers": frame[modifiers].apply(lambda row: tuple(m for m in row if m), axis=1) if modifiers
        else [()] * len(frame),
        "units": units,
        "charge": [Decimal(f"{c:.2f}") for c in charge],
    })[lambda f: (f["units"] > 0) & f["day"].notna()]


def _days(text: pd.Series) -> pd.Series:
    """Dates of service as the clean file carries them: ISO, else whatever else the export wrote."""
    days = pd.to_datetime(text, errors="coerce", format="ISO8601")
    odd = days.isna() & (text != "")
    if odd.any():
        days[odd] = pd.to_datetime(text[odd], errors="coerce", format="mixed")
    return days.dt.date


def write_sample_835(folder: Path, out: Path, seed: int, *, corrected: Path | None = None) -> dict:
    """Write the 835 answering `folder`'s clean lines (and `corrected`'s, all paid); returns its totals."""
    billed = _lines(_clean_lines(folder))
    later = _lines(_clean_lines(corrected)) if corrected is not None else billed.iloc[0:0]
    later = later[~later["claim_id"].isin(billed["claim_id"])]
    rng = np.random.default_rng(seed)
    draw = rng.random(len(billed))
    edges = np.cumsum([0.0, *[f[0] for f in _FATES]])
    fate = np.searchsorted(edges, draw, side="right") - 1  # index into _FATES, or len(_FATES): paid in full
    lines = pd.concat([billed.assign(fate=np.where(fate < len(_FATES), fate, -1)), later.assign(fate=-1)],
                      ignore_index=True).sort_values(["member_id", "day", "claim_id"], kind="stable")
    # One claim per member and date of service, as an 837 would have grouped the lines.
    groups: dict[tuple[str, dt.date], list[LineRemit]] = {}
    for row in lines.itertuples(index=False):
        groups.setdefault((str(row.member_id), row.day), []).append(_answer(row))
    claims = [ClaimRemit(f"PCN{number:07d}", "4" if all(x.paid == 0 for x in remits) else "1", member,
                         f"P{seed}{number:08d}", remits)
              for number, ((member, _), remits) in enumerate(groups.items(), start=1)]
    first_paid = next((c for c in claims if c.status == "1"), None)
    if first_paid is not None:
        # A payment taken back and made again: the reversal carries the same lines, negated.
        reversal = ClaimRemit(first_paid.patient_control, "22", first_paid.member_id, first_paid.payer_claim_id, [
            LineRemit(x.line_control, x.hcpcs, x.modifiers, x.service_date, -x.charge, -x.paid, x.units,
                      adjustments=[(g, c, -a) for g, c, a in x.adjustments]) for x in first_paid.lines])
        at = claims.index(first_paid) + 1
        claims[at:at] = [reversal, ClaimRemit(**{**first_paid.__dict__})]
    day = max((c.lines[0].service_date for c in claims), default=dt.date.today()) + dt.timedelta(days=30)
    # A line the agency billed outside cmclaims: the payer answers it, nothing in the ledger matches.
    outside = LineRemit("OUTSIDE-0001", "T1017", ("HE",), day - dt.timedelta(days=40), Decimal("18.50"),
                        Decimal("18.50"), 1)
    claims.append(ClaimRemit("PCN-OUTSIDE", "1", "M-OUTSIDE", f"P{seed}OUTSIDE", [outside]))
    text = write_835(claims, trace=f"SAMPLE{seed:05d}", paid_on=day)
    with temporary_beside(out) as temporary:
        temporary.write_text(text, encoding="ascii")
    commit(temporary, out)
    all_lines = [line for claim in claims for line in claim.lines]
    return {"claims": len(claims), "lines": len(all_lines), "paid": float(sum(x.paid for x in all_lines))}


def _answer(row: object) -> LineRemit:
    """The payer's answer to one billed line, by its drawn fate."""
    charge: Decimal = row.charge  # type: ignore[attr-defined]
    fate: int = row.fate  # type: ignore[attr-defined]
    line = LineRemit(str(row.claim_id), str(row.hcpcs), row.modifiers, row.day, charge, charge,  # type: ignore[attr-defined]
                     int(row.units))  # type: ignore[attr-defined]
    if fate < 0 or charge <= 0:
        return line
    _, group, carc, remark, share = _FATES[fate]
    cut = (charge * share).quantize(Decimal("0.01"))
    line.paid = charge - cut
    line.adjustments = [(group, carc, cut)]
    line.remarks = [remark] if remark else []
    return line
