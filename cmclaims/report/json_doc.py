"""A report as one JSON document: facts, verdict, and every table's rows with numbers as numbers."""

from __future__ import annotations

import json

import pandas as pd

from cmclaims import __version__
from cmclaims.report.model import Report


def _records(frame: pd.DataFrame) -> list[dict]:
    # pandas writes NaN as null and numpy numbers as JSON numbers, in C: no loop over the rows here.
    plain = frame.astype({c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
    return json.loads(plain.to_json(orient="records", date_format="iso", double_precision=10))


def report_document(report: Report) -> dict:
    """Everything the report holds, for scripts and dashboards."""
    return {
        "report": report.kind,
        "title": report.title,
        "generated_at": report.generated_at,
        "cmclaims_version": __version__,
        "facts": dict(report.facts),
        "verdict": None if report.verdict is None else {
            "reconciled": report.verdict.ok, "line": report.verdict.line, "failed_checks": report.verdict.failed},
        "notes": report.notes,
        "tables": {
            table.key: {"title": table.title, "note": table.note, "rows": _records(table.frame)}
            for table in report.tables
        },
    }


def report_json(report: Report) -> str:
    """The document as indented JSON text."""
    return json.dumps(report_document(report), indent=2) + "\n"
