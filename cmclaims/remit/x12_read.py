"""Reading an X12 835 remittance with pyx12: every claim (CLP) and service line (SVC), or a clear error.

pyx12 walks the file against the implementation guide's map (005010X221A1,
or 004010X091A1 for older payers) and reports every structural and element
error with its segment and position. A file with any such error, or one that
stops before the IEA that closes its interchange (a truncated download), is
refused whole: InputUnusable (exit 65) names the segment and its position,
and nothing from it is recorded. Messages name segments, elements and error
codes, never a value: an 835 carries member names and ids.

Amounts are kept in cents (integers), so that sums are exact to the cent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import pandas as pd

from cmclaims.errors import InputMissing, InputUnusable

# pyx12 logs the values it complains about; they may be a member's name. Nothing of it reaches stderr.
logging.getLogger("pyx12").addHandler(logging.NullHandler())
logging.getLogger("pyx12").propagate = False

LINE_COLUMNS = [
    "line_no", "segment", "trace", "paid_on", "patient_control", "payer_claim_id", "claim_status",
    "line_control", "member_id", "service_date", "hcpcs", "modifiers", "units_billed", "units_paid",
    "charge_cents", "paid_cents", "patient_cents", "remarks",
]  # fmt: skip
ADJUSTMENT_COLUMNS = ["line_no", "level", "group_code", "carc", "amount_cents", "units"]

# The 999 acknowledgment's codes (IK304, IK403), which pyx12 reports: public X12 code lists.
_SEGMENT_ERRORS = {
    "1": "unrecognized segment", "2": "unexpected segment", "3": "required segment missing",
    "4": "loop occurs more often than allowed", "5": "segment repeated more often than allowed",
    "6": "segment not in the transaction set", "7": "segment out of order", "8": "segment has element errors",
}  # fmt: skip
_ELEMENT_ERRORS = {
    "1": "required element missing", "2": "conditional element missing", "3": "too many elements",
    "4": "value too short", "5": "value too long", "6": "invalid character", "7": "invalid code value",
    "8": "invalid date", "9": "invalid time", "10": "element not allowed here", "12": "too many repetitions",
    "13": "too many components",
}  # fmt: skip
_SERVICE_DATES = ("472", "150", "151")  # 5010 date of service; 4010 service period start and end
_CLAIM_DATES = ("232", "233")  # claim statement period, when the lines carry no date


@dataclass
class Payment:
    """One transaction set (ST-SE): one payment (check or EFT) from one payer."""

    trace: str  # TRN02: the check or EFT trace number
    payer_id: str  # TRN03 (the payer's identifier), else the payer's N1 id
    payer: str  # N1*PR name
    amount_cents: int  # BPR02
    paid_on: str | None  # BPR16 (ISO date)
    method: str  # BPR04: CHK, ACH ...


@dataclass
class Remittance:
    """What one 835 file says: its payments, its service lines and their adjustments."""

    path: Path
    sha256: str
    version: str  # GS08: 005010X221A1 ...
    payments: list[Payment]
    lines: pd.DataFrame  # LINE_COLUMNS, one row per service line (a claim without lines is one line)
    adjustments: pd.DataFrame  # ADJUSTMENT_COLUMNS, CAS groups of each line (and claim-level ones)
    segments: int = 0
    notes: list[str] = field(default_factory=list)


def read_835(path: Path) -> Remittance:
    """Read and check one 835 file; InputMissing (66) when it cannot be read, InputUnusable (65) when malformed."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputMissing(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputMissing(f"{path}: is a folder, not an 835 file") from None
    except OSError as exc:
        raise InputMissing(f"{path}: cannot be read ({exc.strerror})") from exc
    if not data.strip():
        raise InputUnusable(f"{path}: the file is empty; an 835 starts with an ISA segment")
    text = _decode(data)
    if not text.lstrip().startswith("ISA"):
        raise InputUnusable(f"{path}: not an X12 file (an 835 starts with an ISA segment)")
    collector = _Collector(path)
    errh = _error_handler()
    try:
        collector.walk(text, errh)
    except InputUnusable:
        raise
    except Exception as exc:  # pyx12 stops on input it cannot walk at all: the file is the problem
        where = f" after segment {collector.position} ({collector.last_segment})" if collector.position else ""
        raise InputUnusable(f"{path}: not a readable X12 835{where}: {type(exc).__name__}",
                            hint="ask the payer or clearinghouse for the file again") from None
    problems = _errors(errh)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputUnusable(f"{path}: malformed 835: {problems[0]}{more}; nothing from it was recorded",
                            hint="ask the payer or clearinghouse for the file again")
    collector.require_complete(*_last_segment(text))
    lines = pd.DataFrame(collector.lines, columns=LINE_COLUMNS)
    adjustments = pd.DataFrame(collector.adjustments, columns=ADJUSTMENT_COLUMNS)
    # Patient responsibility: the line's adjustments in group PR (deductible, coinsurance, copay).
    patient = adjustments[(adjustments["group_code"] == "PR") & (adjustments["level"] == "line")]
    share = patient.groupby("line_no")["amount_cents"].sum()
    lines["patient_cents"] = lines["line_no"].map(share).fillna(0).astype("int64")
    return Remittance(path=path, sha256=hashlib.sha256(data).hexdigest(), version=collector.version,
                      payments=collector.payments, lines=lines, adjustments=adjustments,
                      segments=collector.position)


def _last_segment(text: str) -> tuple[int, str]:
    """How many segments the file holds and the id of its last one, by the separators its ISA declares."""
    text = text.lstrip()
    if len(text) < 106:
        return 1, "ISA"
    element, terminator = text[3], text[105]  # the ISA segment has a fixed length
    segments = [s.strip() for s in text.split(terminator) if s.strip()]
    return len(segments), segments[-1].split(element)[0][:3] if segments else ""


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _error_handler() -> Any:
    import pyx12.error_handler

    return pyx12.error_handler.err_handler()


def _errors(errh: Any) -> list[str]:
    """Every error pyx12 found, as 'segment CLP (segment 28 of the file): ...', without values."""
    import pyx12.errh_json

    buffer = io.StringIO()
    errh.accept(pyx12.errh_json.errh_json_visitor(buffer, indent=None))
    document = json.loads(buffer.getvalue())
    found: list[str] = []  # envelope errors, listed after the segments' (they are their consequence)
    segments: list[str] = []
    for isa in document.get("interchanges", []):
        found += [f"interchange (ISA, segment {isa.get('cur_line')}): error {e.get('err_cde')}"
                  for e in isa.get("errors", [])]
        for group in isa.get("groups", []):
            found += [f"functional group (GS, near segment {group.get('cur_line')}): error {e.get('err_cde')}"
                      for e in group.get("errors", [])]
            for st in group.get("transactions", []):
                found += [f"transaction set (ST, segment {st.get('cur_line')}): error {e.get('err_cde')}"
                          for e in st.get("errors", [])]
                for seg in st.get("segments", []):
                    where = f"segment {seg.get('seg_id')} (segment {seg.get('cur_line')} of the file)"
                    for error in seg.get("errors", []):
                        code = str(error.get("err_cde"))
                        segments.append(f"{where}: {_SEGMENT_ERRORS.get(code, f'error {code}')}")
                    for element in seg.get("elements", []):
                        name = f"{seg.get('seg_id')}{int(element.get('ele_pos') or 0):02d}"
                        for error in element.get("errors", []):
                            code = str(error.get("err_cde"))
                            segments.append(f"{where}: element {name} ({element.get('name')}): "
                                            f"{_ELEMENT_ERRORS.get(code, f'error {code}')}")
    return segments + found


def _cents(text: str | None) -> int:
    """An X12 amount (R type) in cents; a malformed one is 0 here, and pyx12's element error refuses the file."""
    if text is None or text == "":
        return 0
    try:
        return int((Decimal(text) * 100).to_integral_value())
    except InvalidOperation:
        return 0


def _number(text: str | None, default: float | None) -> float | None:
    if text is None or text == "":
        return default
    try:
        return float(text)
    except ValueError:
        return default


def _date(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return dt.datetime.strptime(text[:8], "%Y%m%d").date().isoformat()
    except ValueError:
        return None


class _Collector:
    """Walks pyx12's tree once: payments from the header, a row per service line, their adjustments."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.position = 0
        self.last_segment = ""
        self.version = ""
        self.payments: list[Payment] = []
        self.lines: list[list[object]] = []
        self.adjustments: list[list[object]] = []
        self.transactions = 0
        self._payment: dict[str, Any] = {}

    def walk(self, text: str, errh: Any) -> None:
        import pyx12.params
        import pyx12.x12context

        reader = pyx12.x12context.X12ContextReader(pyx12.params.params(), errh, io.StringIO(text))
        for node in reader.iter_segments("2100"):
            self.position = reader.src.get_cur_line()
            if node.id == "2100":
                self.last_segment = "CLP"
                self._claim(node)
                continue
            segment = node.seg_data
            self.last_segment = segment.get_seg_id() if segment is not None else ""
            if segment is not None:
                self._header(segment)

    def _header(self, segment: Any) -> None:
        seg_id = segment.get_seg_id()
        value = segment.get_value
        if seg_id == "GS":
            self.version = value("GS08") or ""
        elif seg_id == "ST":
            if value("ST01") != "835":
                raise InputUnusable(f"{self.path}: segment ST (segment {self.position} of the file) opens a "
                                    f"{value('ST01')} transaction, not an 835 remittance")
            self.transactions += 1
            self._payment = {"trace": "", "payer_id": "", "payer": "", "amount_cents": 0, "paid_on": None,
                             "method": ""}
        elif seg_id == "BPR":
            self._payment["amount_cents"] = _cents(value("BPR02"))
            self._payment["method"] = value("BPR04") or ""
            self._payment["paid_on"] = _date(value("BPR16"))
        elif seg_id == "TRN":
            self._payment["trace"] = value("TRN02") or ""
            self._payment["payer_id"] = value("TRN03") or ""
        elif seg_id == "N1" and value("N101") == "PR":
            self._payment["payer"] = value("N102") or ""
            self._payment["payer_id"] = self._payment["payer_id"] or value("N104") or ""
        elif seg_id == "SE":
            self.payments.append(Payment(**self._payment))

    def _where(self, segment: str) -> str:
        return f"{self.path}: segment {segment} (segment {self.position} of the file)"

    def _claim(self, claim: Any) -> None:
        get = claim.get_value
        member = None
        for name in claim.select("NM1"):
            if name.get_value("NM101") == "QC":
                member = name.get_value("NM109")
        claim_date = None
        for date in claim.select("DTM"):
            if date.get_value("DTM01") in _CLAIM_DATES and claim_date is None:
                claim_date = _date(date.get_value("DTM02"))
        head = {
            "trace": self._payment.get("trace", ""),
            "paid_on": self._payment.get("paid_on"),
            "patient_control": get("CLP01"),
            "payer_claim_id": get("CLP07"),
            "claim_status": get("CLP02"),
            "member_id": member,
        }
        services = list(claim.select("2110"))
        first_line = len(self.lines) + 1
        for service in services:
            self._service(service, head, claim_date)
        if not services:
            # A claim paid or denied as a whole: one line, its id the patient control number.
            self._line(head, {
                "segment": self.position, "line_control": get("CLP01"), "service_date": claim_date,
                "hcpcs": None, "modifiers": "", "units_billed": 1.0, "units_paid": 1.0,
                "charge_cents": _cents(get("CLP03")), "paid_cents": _cents(get("CLP04")),
                "remarks": "",
            })
        # Adjustments of the claim as a whole stay with its first line, marked as the claim's.
        for cas in claim.select("CAS"):
            self._adjust(first_line, "claim" if services else "line", cas)

    def _service(self, service: Any, head: dict, claim_date: str | None) -> None:
        get = service.get_value
        composite = (get("SVC01") or "").split(":") if get("SVC01") else []
        # pyx12 gives the composite with ':' whatever the file's separator; [qualifier, code, modifiers...]
        code = composite[1] if len(composite) > 1 else None
        modifiers = ":".join(m for m in composite[2:6] if m)
        line_control = None
        for ref in service.select("REF"):
            if ref.get_value("REF01") == "6R":
                line_control = ref.get_value("REF02")
        service_date = None
        for date in service.select("DTM"):
            if date.get_value("DTM01") in _SERVICE_DATES and service_date is None:
                service_date = _date(date.get_value("DTM02"))
        remarks = [lq.get_value("LQ02") for lq in service.select("LQ") if lq.get_value("LQ02")]
        units_paid = _number(get("SVC05"), 1.0)
        line_no = self._line(head, {
            "segment": service.cur_line_number or self.position, "line_control": line_control,
            "service_date": service_date or claim_date, "hcpcs": code, "modifiers": modifiers,
            "units_billed": _number(get("SVC07"), units_paid), "units_paid": units_paid,
            "charge_cents": _cents(get("SVC02")), "paid_cents": _cents(get("SVC03")),
            "remarks": " ".join(remarks),
        })
        for cas in service.select("CAS"):
            self._adjust(line_no, "line", cas)

    def _line(self, head: dict, body: dict) -> int:
        line_no = len(self.lines) + 1
        row = {**head, **body, "line_no": line_no, "patient_cents": 0}  # PR adjustments, summed at the end
        self.lines.append([row[c] for c in LINE_COLUMNS])
        return line_no

    def _adjust(self, line_no: int, level: str, cas: Any) -> None:
        """A CAS segment holds a group code and up to six reason / amount / quantity triples."""
        group = cas.get_value("CAS01")
        for first in range(2, 20, 3):
            reason = cas.get_value(f"CAS{first:02d}")
            if not reason:
                continue
            amount = _cents(cas.get_value(f"CAS{first + 1:02d}"))
            units = _number(cas.get_value(f"CAS{first + 2:02d}"), None)
            self.adjustments.append([line_no, level, group, reason, amount, units])

    def require_complete(self, segments: int, last: str) -> None:
        """A download cut short has no IEA: refuse it, naming where it stops."""
        if last != "IEA":
            raise InputUnusable(
                f"{self.path}: the file stops at segment {segments} ({last or 'none'}) without "
                f"the IEA segment that closes the interchange: it is truncated; nothing from it was recorded",
                hint="download the 835 again from the payer or clearinghouse")
        if not self.transactions:
            raise InputUnusable(f"{self.path}: the interchange holds no 835 transaction (ST*835)")
