"""Real-shaped 835s for the tests, written with cmclaims' template writer and read back through pyx12."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from cmclaims.remit.x12_write import ClaimRemit, LineRemit, write_835

DAY = dt.date(2026, 3, 2)


def svc(claim_id: str | None, charge: str, paid: str, *adjustments: tuple[str, str, str], units: int = 4,
        hcpcs: str = "T1017", modifiers: tuple[str, ...] = (), day: dt.date = DAY,
        remarks: tuple[str, ...] = ()) -> LineRemit:
    return LineRemit(claim_id, hcpcs, modifiers, day, Decimal(charge), Decimal(paid), units,
                     adjustments=[(g, c, Decimal(a)) for g, c, a in adjustments], remarks=list(remarks))


def clp(control: str, status: str, *lines: LineRemit, member: str = "MBR1001") -> ClaimRemit:
    return ClaimRemit(control, status, member, f"PAYER-{control}", list(lines))


def write(path: Path, *claims: ClaimRemit, trace: str = "TRACE1", paid_on: dt.date = dt.date(2026, 4, 1)) -> Path:
    path.write_text(write_835(list(claims), trace=trace, paid_on=paid_on), encoding="ascii")
    return path
