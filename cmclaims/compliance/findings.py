"""A requirement's findings: one row per member or staff member and period not in compliance.

Every check returns the same columns, so the report, the CSV and the XLSX
show all requirements in one table. `member_id` is PHI: it goes to files
only, never to the terminal or stdout.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cmclaims.compliance.calendar import days_text

COLUMNS = ("rule", "requirement", "subject", "member_id", "staff_id", "period_start", "period_end",
           "observed", "expected", "message", "source")


def findings_frame(
    rule: str,
    requirement: str,
    source: str,
    *,
    subject: str,
    member_id: np.ndarray | None = None,
    staff_id: np.ndarray | None = None,
    start: np.ndarray,
    end: np.ndarray,
    observed: np.ndarray | object,
    expected: np.ndarray | object,
    message: np.ndarray,
) -> pd.DataFrame:
    """Findings of one requirement in the shared columns; dates as day numbers become ISO dates."""
    size = len(message)
    blank = np.full(size, "", dtype=object)
    return pd.DataFrame({
        "rule": rule,
        "requirement": requirement,
        "subject": subject,
        "member_id": blank if member_id is None else np.asarray(member_id, dtype=object),
        "staff_id": blank if staff_id is None else np.asarray(staff_id, dtype=object),
        "period_start": days_text(start),
        "period_end": days_text(end),
        "observed": observed,
        "expected": expected,
        "message": np.asarray(message, dtype=object),
        "source": source,
    }, columns=list(COLUMNS), index=pd.RangeIndex(size))


def empty_findings() -> pd.DataFrame:
    """No finding."""
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in COLUMNS})


@dataclass
class Outcome:
    """What one requirement found: the findings, how much it checked, or why it could not run."""

    rule: str
    name: str
    source: str
    findings: pd.DataFrame = field(default_factory=empty_findings)
    checked: int = 0  # members' months, discharges, staff members' years ... that were looked at
    checked_what: str = ""
    skipped: str | None = None  # why the requirement could not be checked
    notes: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        """Whether nothing was found (a skipped requirement is not met: it was not checked)."""
        return self.skipped is None and self.findings.empty


def text(values: np.ndarray) -> np.ndarray:
    """Any array as an object array of str, ready for `+` with other text."""
    return np.asarray(values).astype(str).astype(object)
