"""Exports shaped the way EHRs write them, built from lines whose fate SPEC makes plain."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import write_csv

# Our column -> the header a made-up EHR gives it (none of them ours).
EHR_HEADERS = {
    "claim_id": "Service ID",
    "member_id": "Client #",
    "member_dob": "Client DOB",
    "service_date": "Date of Service",
    "start_time": "Time In",
    "end_time": "Time Out",
    "hcpcs": "Procedure Code",
    "modifier1": "Mod 1",
    "modifier2": "Mod 2",
    "staff_id": "Clinician ID",
    "program": "Program Code",
    "contact_type": "Contact Method",
    "note_signed": "Note Status",
    "member_present": "Client Present",
    "units": "Units Billed",
}
# What the EHR writes for our values.
CONTACT = {"face_to_face": ["Face to Face", "F2F", "In Person", "Face-to-Face"], "telephone": ["Phone"],
           "video": ["Telehealth"]}


def ok_line(claim: str, start: str, end: str, **values: object) -> dict:
    """A clean ok-soonercare T1017 HE TF line (a 15-year-old, program 111), in our own column names."""
    return {
        "claim_id": claim, "member_id": "M1", "member_dob": "2010-05-01", "service_date": "2026-03-04",
        "start_time": start, "end_time": end, "hcpcs": "T1017", "modifier1": "HE", "modifier2": "TF",
        "staff_id": "S1", "program": "111", "contact_type": "face_to_face", "note_signed": "Y",
        "member_present": "Y", "units": "", **values,
    }


def good_night() -> list[dict]:
    """Twelve billable lines for six members, 15 to 60 minutes each, face to face, by phone and by video."""
    lines = []
    for i in range(12):
        hour = 8 + i // 2
        minutes = (15, 30, 45, 60)[i % 4]
        end = f"{hour + (minutes // 60):02d}:{minutes % 60:02d}"
        contact = ("face_to_face", "telephone", "face_to_face", "video")[i % 4]
        lines.append(ok_line(f"A{i + 1}", f"{hour:02d}:00", end, member_id=f"M{i % 6}", staff_id=f"S{i}",
                             contact_type=contact))
    return lines


def as_ehr_writes_it(lines: list[dict]) -> list[dict]:
    """The same lines under the EHR's headers, with its spellings of contact type, signature and presence."""
    spelled = []
    for i, line in enumerate(lines):
        row = dict(line)
        if row.get("contact_type") in CONTACT:
            choices = CONTACT[row["contact_type"]]
            row["contact_type"] = choices[(i // 2) % len(choices)]
        row["note_signed"] = {"Y": "Signed", "N": "Draft"}.get(row.get("note_signed", ""), row.get("note_signed"))
        row["member_present"] = {"Y": "Yes", "N": "No"}.get(row.get("member_present", ""), row.get("member_present"))
        spelled.append({EHR_HEADERS.get(k, k): v for k, v in row.items()})
    return spelled


def write_export(path: Path, lines: list[dict], extra: dict[str, str] | None = None) -> Path:
    """Write EHR-shaped lines, with columns of the EHR's own that cmclaims has no use for."""
    rows = [{**row, "Client Name": "Jane Q Public", "Notes": f"visit {i}", **(extra or {})}
            for i, row in enumerate(lines)]
    return write_csv(path, rows)
