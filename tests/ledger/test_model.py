"""The ledger against a plain model (tests/ledger/model.py, from SPEC sections 5 and 6), night after night.

Hypothesis draws sequences of nights for a few members: new lines, late lines,
claim ids re-sent under another month, voids and replacements (accepted or
rejected), re-runs of any earlier night, and rollbacks. After every step:
each line's disposition and units equal the model's; the ledger holds exactly
the model's units per member and day; no member is over a limit; no claim is
billed twice (`ledger check` finds nothing).

`make test` runs a small budget; `make soak` runs thousands of histories
(CMCLAIMS_SOAK_EXAMPLES sets how many).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from cmclaims.errors import ConfigError
from cmclaims.ledger.admin import active_lines, check_ledger
from cmclaims.ledger.lock import LedgerLock
from cmclaims.ledger.store import SqliteLedger
from tests.helpers import new_ledger, run_lines
from tests.ledger.model import DAILY, MONTHLY, Ledger, Line
from tests.ledger.support import SOONER_TF

SOAK = int(os.environ.get("CMCLAIMS_SOAK_EXAMPLES", "0"))
MEMBERS = ("M1", "M2")
DAYS = ("2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02")  # two months, so re-sends cross months
SLOT_MINUTES = 200  # a slot holds up to 12 units (180 minutes): lines of one member and day never overlap


def _export_line(line: Line) -> dict:
    start = 6 * 60 + line.slot * SLOT_MINUTES
    end = start + line.units * 15
    return {**SOONER_TF, "claim_id": line.claim, "member_id": line.member, "service_date": line.day,
            "start_time": f"{start // 60:02d}:{start % 60:02d}", "end_time": f"{end // 60:02d}:{end % 60:02d}",
            "units": line.units, "staff_id": f"S-{line.claim}", "claim_frequency": line.frequency,
            "original_claim_id": line.original or ""}


class LedgerMachine(RuleBasedStateMachine):
    """One ledger file and its model, driven night by night."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="cmclaims-model-"))
        self.ledger = new_ledger(self.folder / "ledger.sqlite3")
        self.model = Ledger()
        self.nights: list[tuple[Line, ...]] = []
        self.run_ids: dict[tuple[Line, ...], str] = {}
        self.claims = itertools.count(1)
        self.known: list[Line] = []  # every line any night sent
        self.steps = itertools.count()
        self.cutback = False

    @initialize(cutback=st.booleans())
    def mode(self, cutback: bool) -> None:
        self.cutback = cutback

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _claim(self) -> str:
        return f"C{next(self.claims):04d}"

    def _run(self, night: tuple[Line, ...]) -> None:
        expected = self.model.validate(night, self.cutback)
        options = {"over_limit": "cutback"} if self.cutback else {}
        run = run_lines(self.folder / f"step-{next(self.steps)}", [_export_line(line) for line in night],
                        "ok-soonercare", ledger=self.ledger, **options)
        clean = {row["claim_id"]: (row["disposition"], int(row["billable_units"])) for row in run.clean}
        got = {claim: clean.get(claim, (fate, 0)) for claim, fate in run.dispositions().items()}
        assert got == expected, (night, got, expected)
        if night not in self.nights:
            self.nights.append(night)
        self.run_ids[night] = run.summary["run_id"]
        self.known.extend(line for line in night if line not in self.known)

    @rule(data=st.data(), size=st.integers(1, 4))
    def night(self, data: st.DataObject, size: int) -> None:
        """A new night: new lines, late lines, re-sent claims, voids and replacements of earlier claims."""
        lines: list[Line] = []
        used_claims: set[str] = set()
        changed: set[str] = set()
        slots: dict[tuple[str, str], int] = {}
        for _ in range(size):
            kind = data.draw(st.sampled_from(["new", "new", "resent", "void", "replace"]) if self.known
                             else st.just("new"))
            original = data.draw(st.sampled_from(self.known)) if kind != "new" else None
            if original is not None and (original.claim in used_claims or original.claim in changed):
                kind, original = "new", None
            member = original.member if original is not None else data.draw(st.sampled_from(MEMBERS))
            day = data.draw(st.sampled_from(DAYS))
            units = data.draw(st.integers(1, 12))
            if kind == "new":
                claim, frequency, named = self._claim(), "1", None
            elif kind == "resent":
                assert original is not None
                claim, frequency, named = original.claim, "1", None
            else:
                assert original is not None
                keep_id = data.draw(st.booleans())
                claim = original.claim if keep_id else self._claim()
                frequency, named = ("8" if kind == "void" else "7"), original.claim
                changed.add(original.claim)
            if claim in used_claims or claim in changed - {named}:
                continue
            slot = slots.get((member, day), 0)
            slots[(member, day)] = slot + 1
            used_claims.add(claim)
            lines.append(Line(claim, member, day, slot, units, frequency, named))
        if lines:
            self._run(tuple(lines))

    @precondition(lambda self: bool(self.nights))
    @rule(data=st.data())
    def rerun(self, data: st.DataObject) -> None:
        """Any earlier night, validated again with the same input."""
        self._run(data.draw(st.sampled_from(self.nights)))

    @precondition(lambda self: any(run.committed for run in self.model.runs.values()))
    @rule(data=st.data())
    def rollback(self, data: st.DataObject) -> None:
        """Roll back a committed run; refused when a later run voided or replaced its lines."""
        committed = [night for night in self.model.order if self.model.runs[night].committed]
        night = data.draw(st.sampled_from(committed))
        allowed = self.model.rollback(night)
        run_id = self.run_ids[night]
        with LedgerLock(self.ledger):
            store = SqliteLedger(self.ledger)
            try:
                store.rollback(run_id)
                refused = False
            except ConfigError:
                refused = True
            finally:
                store.close()
        assert refused == (not allowed)

    @invariant()
    def ledger_matches_the_model(self) -> None:
        store = SqliteLedger(self.ledger, read_only=True)
        try:
            assert check_ledger(store) == []
            lines = active_lines(store, ["member_id", "service_day", "units"])
        finally:
            store.close()
        lines = lines.assign(day=lines["service_day"].astype("datetime64[D]").astype(str))
        held = lines.groupby(["member_id", "day"])["units"].sum()
        held = {key: int(units) for key, units in held.items() if units}
        assert held == self.model.usage()
        assert all(units <= DAILY for units in held.values())
        months: dict[tuple[str, str], int] = {}
        for (member, day), units in held.items():
            months[(member, day[:7])] = months.get((member, day[:7]), 0) + units
        assert all(units <= MONTHLY for units in months.values())


LedgerMachine.TestCase.settings = settings(
    max_examples=SOAK or 8,
    stateful_step_count=7 if not SOAK else 14,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not SOAK,
)
TestLedgerAgainstTheModel = LedgerMachine.TestCase
