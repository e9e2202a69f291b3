"""One case file per rule (tests/rules/cases/CMxxx.yaml), run by one parametrised test.

A case file names its rule and profile, `defaults` merged into every line, and
cases: lines in, and `expect`, the exact findings of that rule (claim_id ->
the line's disposition). Optional per case: `options` (over_limit ...),
`side` (authorizations / stays / staff rows), `today`, `earlier` (a list of
earlier nights, each a list of lines: they are validated first with a ledger,
and the case's own lines after them against the same ledger), `dispositions`
(claim_id -> disposition for lines the rule must not flag), `units`
(claim_id -> billable units in the clean file), `messages` (claim_id -> a
phrase the message must contain), `profile` and `defaults` overrides.
Files with `kind: compliance` (requirements over time, CM81x-CM82x) are run by
tests/compliance/test_compliance_cases.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from cmclaims.rules import rules_in_order
from cmclaims.rules.registry import DOC_SECTIONS
from tests.helpers import TODAY, new_ledger, run_lines

CASES = Path(__file__).parent / "cases"


def _load(path: Path) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _cases() -> list[pytest.param]:
    params = []
    for path in sorted(CASES.glob("CM*.yaml")):
        document = _load(path)
        if document.get("kind") == "compliance":  # requirements over time: tests/compliance/
            continue
        for index, case in enumerate(document["cases"]):
            params.append(pytest.param(document, case, id=f"{document['rule']}-{index + 1}-{case['name'][:40]}"))
    return params


def _lines(document: dict, case: dict) -> list[dict]:
    defaults = {**document.get("defaults", {}), **case.get("defaults", {})}
    return [{**defaults, **line} for line in case["lines"]]


@pytest.mark.parametrize(("document", "case"), _cases())
def test_rule_case(document: dict, case: dict, tmp_path: Path) -> None:
    rule = document["rule"]
    today = case.get("today", document.get("today", TODAY))
    if isinstance(today, str):
        today = dt.date.fromisoformat(today)
    profile = case.get("profile", document["profile"])
    options = dict(case.get("options", {}))
    if "earlier" in case:
        options["ledger"] = new_ledger(tmp_path / "ledger.sqlite3")
        for night, lines in enumerate(case["earlier"]):
            run_lines(tmp_path / f"night-{night}", _lines(document, {**case, "lines": lines}), profile,
                      side=case.get("side"), today=today, **options)
    run = run_lines(tmp_path / "tonight", _lines(document, case), profile, side=case.get("side"), today=today,
                    **options)
    expected = {str(k): v for k, v in (case.get("expect") or {}).items()}
    assert run.flagged(rule) == expected, f"{rule} findings"
    fates = run.dispositions()
    for claim, disposition in (case.get("dispositions") or {}).items():
        assert fates[str(claim)] == disposition, f"disposition of {claim}"
    clean_units = {row["claim_id"]: int(row["billable_units"]) for row in run.clean}
    for claim, units in (case.get("units") or {}).items():
        assert clean_units.get(str(claim)) == units, f"billable units of {claim}"
    messages = run.messages(rule)
    for claim, phrase in (case.get("messages") or {}).items():
        assert phrase in messages[str(claim)], f"message of {claim}"
    counts = run.summary["counts"]
    assert counts["lines_in"] == counts["lines_clean"] + counts["lines_rejected"]


def test_every_rule_has_passing_and_failing_cases() -> None:
    """A rule without cases that make it fire and cases that let a line through is untested."""
    files = {path.stem: _load(path) for path in CASES.glob("CM*.yaml")}
    for rule in rules_in_order():
        assert rule.code in files, f"{rule.code} has no case file tests/rules/cases/{rule.code}.yaml"
        document = files[rule.code]
        assert document["rule"] == rule.code
        cases = document["cases"]
        assert any(case.get("expect") for case in cases), f"{rule.code}: no case where it fires"
        if rule.stage == "compliance":  # a requirement over time: members or staff it finds in compliance
            assert document.get("kind") == "compliance", f"{rule.code}: its cases are `kind: compliance`"
            passing = any(case.get("met") for case in cases)
        else:
            passing = any(len(case["lines"]) > len(case.get("expect") or {}) for case in cases)
        assert passing, f"{rule.code}: no case with a line it lets through"


def test_every_rule_is_fully_documented() -> None:
    for rule in rules_in_order():
        for section in DOC_SECTIONS:
            assert rule.section(section).strip(), f"{rule.code} lacks '{section}'"
        assert rule.summary.endswith("."), f"{rule.code}: the summary is a sentence"
