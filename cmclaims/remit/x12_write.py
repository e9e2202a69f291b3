"""Writing an X12 835 (005010X221A1) from claims and lines: the payer side of the tests and of the sample.

cmclaims never sends 835s; this writer lets a new user try the whole loop on
the bundled sample (`cmclaims sample-835`) and lets the tests build
real-shaped remittances that pyx12 checks against the implementation guide.
The shape follows the guide's required segments: ISA/GS/ST, BPR, TRN, the
payer (N1*PR with its PER*BL contact) and payee (N1*PE), then per claim CLP,
NM1*QC, and per line SVC, DTM*472, CAS, REF*6R (our claim_id) and LQ*HE.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

CLAIM_FILING = "MC"  # CLP06: Medicaid


@dataclass
class LineRemit:
    """One service line as the payer answers it. Amounts in dollars (Decimal or str), signed for reversals."""

    line_control: str | None  # REF*6R: the claim_id cmclaims passed
    hcpcs: str
    modifiers: tuple[str, ...]
    service_date: dt.date
    charge: Decimal
    paid: Decimal
    units: int
    units_paid: int | None = None  # SVC05 when it differs from the units billed
    adjustments: list[tuple[str, str, Decimal]] = field(default_factory=list)  # (group, CARC, amount)
    remarks: list[str] = field(default_factory=list)  # RARC (LQ*HE)


@dataclass
class ClaimRemit:
    """One claim (CLP): status 1 processed as primary, 4 denied, 22 reversal of an earlier payment."""

    patient_control: str  # CLP01
    status: str
    member_id: str
    payer_claim_id: str  # CLP07
    lines: list[LineRemit]


def _money(value: Decimal) -> str:
    text = f"{Decimal(value).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def write_835(
    claims: list[ClaimRemit],
    *,
    trace: str,
    paid_on: dt.date,
    payer: str = "SAMPLE MEDICAID PLAN",
    payer_id: str = "1999999999",
    payee: str = "SAMPLE CASE MANAGEMENT AGENCY",
    payee_npi: str = "1234567893",
    control: int = 1,
) -> str:
    """The 835 text: one interchange, one group, one transaction set (one payment)."""
    body: list[str] = []
    total = sum((line.paid for claim in claims for line in claim.lines), Decimal(0))
    method = ("I", "CHK") if total > 0 else ("H", "NON")  # a payment, or a notice without money
    day = paid_on.strftime("%Y%m%d")
    body += [
        f"BPR*{method[0]}*{_money(total)}*C*{method[1]}************{day}",
        f"TRN*1*{trace}*{payer_id}",
        f"DTM*405*{day}",
        f"N1*PR*{payer}",
        "N3*1 PAYER WAY",
        "N4*CAPITAL CITY*OK*73101",
        "PER*BL*PROVIDER SERVICES*TE*8005550100",
        f"N1*PE*{payee}*XX*{payee_npi}",
        "LX*1",
    ]
    for claim in claims:
        charge = sum((line.charge for line in claim.lines), Decimal(0))
        paid = sum((line.paid for line in claim.lines), Decimal(0))
        patient = sum((a[2] for line in claim.lines for a in line.adjustments if a[0] == "PR"), Decimal(0))
        body += [
            f"CLP*{claim.patient_control}*{claim.status}*{_money(charge)}*{_money(paid)}*"
            f"{_money(patient) if patient else ''}*{CLAIM_FILING}*{claim.payer_claim_id}",
            f"NM1*QC*1*MEMBER*SAMPLE****MI*{claim.member_id}",
        ]
        for line in claim.lines:
            procedure = ":".join(["HC", line.hcpcs, *line.modifiers])
            units_paid = line.units if line.units_paid is None else line.units_paid
            original = f"**{line.units}" if units_paid != line.units else ""
            body.append(f"SVC*{procedure}*{_money(line.charge)}*{_money(line.paid)}**{units_paid}{original}")
            body.append(f"DTM*472*{line.service_date.strftime('%Y%m%d')}")
            for group in dict.fromkeys(a[0] for a in line.adjustments):
                # Up to six reason / amount / (empty) quantity triples per group.
                triples = [f"{carc}*{_money(amount)}" for g, carc, amount in line.adjustments if g == group][:6]
                body.append(f"CAS*{group}*" + "**".join(triples))
            if line.line_control:
                body.append(f"REF*6R*{line.line_control}")
            body += [f"LQ*HE*{code}" for code in line.remarks]
    number = f"{control:04d}"
    transaction = [f"ST*835*{number}*005010X221A1", *body]
    transaction.append(f"SE*{len(transaction) + 1}*{number}")
    now = dt.datetime(paid_on.year, paid_on.month, paid_on.day, 12, 0)
    isa = (f"ISA*00*{'':10}*00*{'':10}*ZZ*{payer_id:<15}*ZZ*{payee_npi:<15}*{now:%y%m%d}*{now:%H%M}*^*00501*"
           f"{control:09d}*0*P*:")
    segments = [
        isa,
        f"GS*HP*{payer_id}*{payee_npi}*{now:%Y%m%d}*{now:%H%M}*{control}*X*005010X221A1",
        *transaction,
        f"GE*1*{control}",
        f"IEA*1*{control:09d}",
    ]
    return "~\n".join(segments) + "~\n"
