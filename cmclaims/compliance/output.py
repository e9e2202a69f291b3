"""The compliance report as JSON (no member ids), and as a CSV or XLSX file (with them).

Files are written beside their name and renamed into place whole, owner-only
(they hold member ids); every cell is safe to open in a spreadsheet.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from cmclaims.compliance.calendar import day_text
from cmclaims.compliance.engine import ComplianceReport
from cmclaims.errors import ConfigError
from cmclaims.io.writer import commit, ensure_folder, temporary_beside, write_table

FILE_KINDS = (".csv", ".xlsx")


def requirements_frame(report: ComplianceReport) -> pd.DataFrame:
    """One row per requirement: what it is, its source, what was checked and found (no PHI)."""
    return pd.DataFrame([
        {
            "rule": o.rule,
            "requirement": o.name,
            "status": "not checked" if o.skipped else "met" if o.findings.empty else "not met",
            "checked": o.checked if o.skipped is None else None,
            "checked_what": o.checked_what,
            "findings": len(o.findings),
            "source": o.source,
            "note": o.skipped or "; ".join(o.notes),
        }
        for o in report.outcomes
    ], columns=["rule", "requirement", "status", "checked", "checked_what", "findings", "source", "note"])


def summary_document(report: ComplianceReport) -> dict[str, object]:
    """The report as one JSON document: findings without member ids (stdout is not a file)."""
    findings = report.findings.drop(columns=["member_id"])
    return {
        "profile": report.profile.name,
        "from": day_text(report.window.first),
        "as_of": day_text(report.window.last),
        "met": report.met,
        "ledger_lines_read": report.lines_read,
        "seconds": round(report.seconds, 3),
        "requirements": requirements_frame(report).astype(object).where(lambda f: f.notna(), None)
        .to_dict("records"),
        "side_files": {
            "files": [{"file": f.name, "sha256": f.source.sha256, "rows": int(f.rows.size)} for f in report.files],
            "problems": [p.__dict__ for f in report.files for p in f.problems],
        },
        "findings": findings.to_dict("records"),
    }


def check_out_path(out: Path) -> None:
    """--out must end .csv or .xlsx (exit 2 otherwise), checked before any work."""
    if out.suffix.lower() not in FILE_KINDS:
        raise ConfigError(f"--out {out.name}: the file must end .csv or .xlsx")


def write_findings(report: ComplianceReport, out: Path) -> None:
    """Write the findings (member ids included) as CSV, or as XLSX with a sheet of the requirements."""
    check_out_path(out)
    ensure_folder(out.parent)
    findings = report.findings
    with temporary_beside(out) as temporary:
        if out.suffix.lower() == ".csv":
            write_table(pa.Table.from_pandas(findings.astype(str), preserve_index=False), temporary, "csv")
        else:
            _write_xlsx(report, findings, temporary)
    commit(temporary, out)


def _write_xlsx(report: ComplianceReport, findings: pd.DataFrame, path: Path) -> None:
    from cmclaims.report.model import Report, ReportTable
    from cmclaims.report.xlsx import write_xlsx

    facts = [("profile", report.profile.name), ("from", day_text(report.window.first)),
             ("as of", day_text(report.window.last)), ("all requirements met", "yes" if report.met else "no")]
    workbook = Report(kind="compliance", title=f"Compliance over time: {report.profile.name}", facts=facts, tables=[
        ReportTable("requirements", "Requirements", requirements_frame(report)),
        ReportTable("findings", "Findings (member ids: PHI)", findings, phi=True),
    ])
    write_xlsx(workbook, path)
