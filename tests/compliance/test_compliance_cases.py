"""The case files of the requirements over time (tests/rules/cases/CM81x.yaml, CM82x.yaml: `kind: compliance`).

A case gives billed lines (validated into a ledger, as a night would), side
files as rows, --from and --as-of, and `expect`: the exact findings, each as
rule, who (member_id or staff_id) and period_start, with an optional phrase
its message must contain. `met` lists members or staff that must have none.
`repeat` builds many lines from one (`times` lines, each for its own member
`<member_id>-k`, on consecutive days from `from`, or `cycle` days round and
then an hour later; each `minutes` long from 08:00).
Every line of a case must be accepted by validate: the ledger holds only what
was billed, and a rejected line would make the case test something else.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from cmclaims.compliance.engine import ComplianceRequest, run_compliance
from tests.helpers import new_ledger, run_lines, write_csv

CASES = Path(__file__).parents[1] / "rules" / "cases"


def _documents() -> list[dict]:
    documents = []
    for path in sorted(CASES.glob("CM*.yaml")):
        with path.open(encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
        if document.get("kind") == "compliance":
            documents.append(document)
    return documents


def _params() -> list:
    return [pytest.param(d, c, id=f"{d['rule']}-{i + 1}-{c['name'][:40]}")
            for d in _documents() for i, c in enumerate(d["cases"])]


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _repeated(block: dict) -> list[dict]:
    start, cycle, minutes = _date(block["from"]), block.get("cycle", 366), block.get("minutes", 30)
    lines = []
    for k in range(block["times"]):
        begin = 8 * 60 + (k // cycle) * 60
        lines.append({**block["line"], "claim_id": f"{block['line']['claim_id']}-{k}",
                      "member_id": f"{block['line']['member_id']}-{k}",
                      "service_date": (start + dt.timedelta(days=k % cycle)).isoformat(),
                      "start_time": f"{begin // 60:02d}:{begin % 60:02d}",
                      "end_time": f"{(begin + minutes) // 60:02d}:{(begin + minutes) % 60:02d}"})
    return lines


def run_case(document: dict, case: dict, folder: Path):
    """Validate the case's lines into a ledger, then check compliance; the report."""
    profile = case.get("profile", document["profile"])
    defaults = {**document.get("defaults", {}), **case.get("defaults", {})}
    given = list(case.get("lines") or []) + [line for block in case.get("repeat") or [] for line in _repeated(block)]
    lines = [{**defaults, **line} for line in given]
    side = case.get("side") or {}
    ledger = new_ledger(folder / "ledger.sqlite3")
    validate_side = {k: v for k, v in side.items() if k in ("staff",)}
    run = run_lines(folder / "night", lines, profile, side=validate_side, today=dt.date(2027, 1, 1), ledger=ledger)
    rejected = {c: d for c, d in run.dispositions().items() if d == "rejected"}
    assert not rejected, f"the case's lines must all be billed: {run.exceptions}"
    paths = {name: write_csv(folder / f"{name}.csv", rows) for name, rows in side.items()}
    request = ComplianceRequest(profile=profile, as_of=_date(case["as_of"]), ledger=ledger,
                                first=_date(case["from"]) if "from" in case else None, today=dt.date(2027, 1, 1),
                                **paths)
    return run_compliance(request)


@pytest.mark.parametrize(("document", "case"), _params())
def test_compliance_case(document: dict, case: dict, tmp_path: Path) -> None:
    rule = document["rule"]
    report = run_case(document, case, tmp_path)
    findings = report.findings
    mine = findings[findings["rule"] == rule]
    found = {(row["member_id"] or row["staff_id"], row["period_start"]): row["message"]
             for row in mine.to_dict("records")}
    expected = {(str(e["who"]), str(e["period_start"])): e.get("message", "") for e in case.get("expect") or []}
    assert set(found) == set(expected), f"{rule} findings: {list(mine['message'])}"
    for key, phrase in expected.items():
        assert phrase in found[key], f"message of {key}: {found[key]!r}"
    for who in case.get("met") or []:
        assert who not in {k[0] for k in found}, f"{who} must meet {rule}"
    outcome = next(o for o in report.outcomes if o.rule == rule)
    assert outcome.skipped == case.get("skipped"), outcome.skipped
    assert report.exit_code == (1 if len(findings) else 0)
