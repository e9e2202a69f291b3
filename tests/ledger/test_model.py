"""The ledger against a plain model (tests/ledger/model.py, from SPEC sections 5 and 6), night after night.

Hypothesis draws sequences of nights for a few members: new lines, late lines,
claim ids re-sent under another month, voids and replacements (accepted or
rejected), re-runs of any earlier night, and rollbacks. After every step:
each line's disposition and units equal the model's; the ledger holds exactly
the model's units per member and day; no member is over a limit; no claim is
billed twice (`ledger check` finds nothing, its running totals included); the
ledger's running totals per member and year equal the model's.

Two payers: Oklahoma's daily and monthly limits (T1017 HE TF), and Idaho's
annual cap of 240 units (id-optum), whose nights fall in two years and several
months, so that the cap counts lines of other months than the night's own
(the running totals, cmclaims/ledger/totals.py).

`make test` runs a small budget; `make soak` runs thousands of histories
(CMCLAIMS_SOAK_EXAMPLES sets how many).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from cmclaims.errors import ConfigError
from cmclaims.ledger.admin import active_lines, check_ledger, import_history, rollback_run
from cmclaims.ledger.lock import LedgerLock
from cmclaims.ledger.store import SqliteLedger
from tests.helpers import new_ledger, run_lines, write_csv
from tests.ledger.model import ANNUAL, DAILY, MONTHLY, OPTUM, SOONER, Ledger, Line, Recorded, Run
from tests.ledger.support import OPTUM as OPTUM_LINE
from tests.ledger.support import SOONER_TF

SOAK = int(os.environ.get("CMCLAIMS_SOAK_EXAMPLES", "0"))


class LedgerMachine(RuleBasedStateMachine):
    """One ledger file and its model, driven night by night (Oklahoma: daily and monthly limits)."""

    PROFILE = "ok-soonercare"
    LIMITS = SOONER
    LINE = SOONER_TF
    DAYS = ("2026-03-30", "2026-03-31", "2026-04-01", "2026-04-02")  # two months, so re-sends cross months
    UNITS = (1, 12)
    MEMBERS = ("M1", "M2")
    HISTORY: tuple[tuple[str, str, str, int], ...] = ()  # claim, member, day, units billed before the first night
    SLOTS = (6 * 60, 200, 99)  # first start, minutes a slot holds, slots a day: lines of one member and day
    # never overlap (a slot holds up to 12 units, 180 minutes)

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="cmclaims-model-"))
        self.ledger = new_ledger(self.folder / "ledger.sqlite3")
        self.model = Ledger(limits=self.LIMITS)
        self.nights: list[tuple[Line, ...]] = []
        self.run_ids: dict[tuple[Line, ...], str] = {}
        self.claims = itertools.count(1)
        self.known: list[Line] = []  # every line any night sent
        self.steps = itertools.count()
        self.cutback = False
        if self.HISTORY:
            self._import_history()

    def _import_history(self) -> None:
        """Seed the ledger with a billing history (`ledger import`): an earlier run, in months no night falls in."""
        history = tuple(Line(claim, member, day, 0, units) for claim, member, day, units in self.HISTORY)
        path = write_csv(self.folder / "history.csv", [
            {"claim_id": line.claim, "member_id": line.member, "service_date": line.day, "hcpcs": self.LINE["hcpcs"],
             "units": line.units} for line in history])
        with LedgerLock(self.ledger):
            store = SqliteLedger(self.ledger)
            try:
                imported = import_history(store, [path], self.PROFILE, None, dt.date(2026, 12, 1))
            finally:
                store.close()
        assert imported["imported"] == len(history)
        self.model.runs[history] = Run(history, [Recorded(line, line.units) for line in history])
        self.model.order.append(history)
        self.run_ids[history] = str(imported["run_id"])
        self.known.extend(history)

    @initialize(cutback=st.booleans())
    def mode(self, cutback: bool) -> None:
        self.cutback = cutback

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def _claim(self) -> str:
        return f"C{next(self.claims):04d}"

    def _export_line(self, line: Line) -> dict:
        first, minutes, _ = self.SLOTS
        start = first + line.slot * minutes
        end = start + line.units * 15
        return {**self.LINE, "claim_id": line.claim, "member_id": line.member, "service_date": line.day,
                "start_time": f"{start // 60:02d}:{start % 60:02d}", "end_time": f"{end // 60:02d}:{end % 60:02d}",
                "units": line.units, "staff_id": f"S-{line.claim}", "claim_frequency": line.frequency,
                "original_claim_id": line.original or ""}

    def _run(self, night: tuple[Line, ...]) -> None:
        expected = self.model.validate(night, self.cutback)
        options = {"over_limit": "cutback"} if self.cutback else {}
        run = run_lines(self.folder / f"step-{next(self.steps)}", [self._export_line(line) for line in night],
                        self.PROFILE, ledger=self.ledger, **options)
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
            member = original.member if original is not None else data.draw(st.sampled_from(self.MEMBERS))
            day = data.draw(st.sampled_from(self.DAYS))
            units = data.draw(st.integers(*self.UNITS))
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
            if slot >= self.SLOTS[2]:
                continue  # the member's day is full
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

    @precondition(lambda self: any(self.model.runs[night].committed for night in self.nights))
    @rule(data=st.data())
    def rollback(self, data: st.DataObject) -> None:
        """Roll back a committed run; refused when a later run voided or replaced its lines, or when its
        originals would come back over a limit."""
        # The imported history stays (the annual cap binds through it); the nights are rolled back.
        committed = [night for night in self.nights if self.model.runs[night].committed]
        night = data.draw(st.sampled_from(committed))
        allowed = self.model.rollback(night)
        run_id = self.run_ids[night]
        with LedgerLock(self.ledger):
            store = SqliteLedger(self.ledger)
            try:
                rollback_run(store, run_id)
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
            problems = check_ledger(store)
            assert problems == [], problems
            lines = active_lines(store, ["member_id", "service_day", "units"])
        finally:
            store.close()
        lines = lines.assign(day=lines["service_day"].astype("datetime64[D]").astype(str))
        held = lines.groupby(["member_id", "day"])["units"].sum()
        held = {key: int(units) for key, units in held.items() if units}
        assert held == self.model.usage()
        for kind, limit in self.LIMITS:
            assert all(units <= limit for units in self.model.usage(kind).values())
        # The running totals the annual caps read: exactly the model's units per member and year.
        store = SqliteLedger(self.ledger, read_only=True)
        try:
            totals = store.totals(self.PROFILE, [2025, 2026]).to_pandas()
        finally:
            store.close()
        totals = totals.groupby(["member_id", "year"])["units"].sum()
        totals = [(member, str(year), int(units)) for (member, year), units in totals.items() if units]
        assert {(member, year): units for member, year, units in totals} == self.model.usage("year")


class AnnualCapMachine(LedgerMachine):
    """The same, for Idaho's annual cap of 240 units a member a calendar year (id-optum: no daily or monthly
    limit), over two years and several months, with lines long enough to reach the cap in a few nights."""

    PROFILE = "id-optum"
    LIMITS = OPTUM
    LINE = OPTUM_LINE
    DAYS = ("2025-12-30", "2026-01-05", "2026-02-11", "2026-03-02")
    UNITS = (8, 44)
    MEMBERS = ("M1", "M2")
    # Most of each member's year billed before, in months no night falls in: only the running totals know it.
    HISTORY = (("H1", "M1", "2026-06-10", 40), ("H2", "M1", "2026-06-11", 40), ("H3", "M1", "2026-07-01", 40),
               ("H4", "M1", "2026-08-03", 40), ("H5", "M1", "2026-09-07", 30),
               ("H6", "M2", "2025-10-06", 40), ("H7", "M2", "2025-10-07", 40), ("H8", "M2", "2025-11-04", 40),
               ("H9", "M2", "2025-11-05", 40), ("H10", "M2", "2025-12-01", 40))
    SLOTS = (30, 720, 2)  # 00:30 and 12:30, up to 11 hours each


assert DAILY == 16 and MONTHLY == 56 and ANNUAL == 240  # the profiles' limits the model is written for

LedgerMachine.TestCase.settings = settings(
    max_examples=SOAK or 8,
    stateful_step_count=7 if not SOAK else 14,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not SOAK,
)
TestLedgerAgainstTheModel = LedgerMachine.TestCase
AnnualCapMachine.TestCase.settings = settings(
    max_examples=SOAK or 6,
    stateful_step_count=8 if not SOAK else 14,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=not SOAK,
)
TestAnnualCapAgainstTheModel = AnnualCapMachine.TestCase


class _Draws:
    """A `data` that gives back logged draws, in order: a history the long run found, replayed exactly."""

    def __init__(self, draws: list) -> None:
        self.draws = list(draws)

    def draw(self, strategy: object) -> object:
        return self.draws.pop(0)


def test_the_history_soak3_found() -> None:
    """The draws of a long run's failing history (seed 2048545...7269, reject mode): nights re-sending, voiding and
    replacing the imported lines, then night 1 validated again after night 3 voided its replacement of H2.
    The re-run counted H2 again, held back its replacement of H4, and H4's 40 units came back: 249 of 240."""
    h = {claim: Line(claim, member, day, 0, units) for claim, member, day, units in AnnualCapMachine.HISTORY}
    nights = [
        (4, ["resent", h["H1"], "2025-12-30", 15, "replace", h["H4"], "2026-03-02", 12, True,
             "replace", h["H2"], "2025-12-30", 35, True, "void", h["H1"], "M1", "2025-12-30", 8]),
        (3, ["resent", h["H3"], "2026-02-11", 17, "new", "M1", "2026-02-11", 34, "new", "M2", "2026-01-05", 12]),
        (4, ["replace", h["H7"], "2025-12-30", 33, True,
             "void", Line("H2", "M1", "2025-12-30", 1, 35, "7", "H2"), "2025-12-30", 26, False,
             "new", "M1", "2026-01-05", 30, "resent", h["H2"], "M1", "2026-02-11", 42]),
        (1, ["resent", Line("H3", "M1", "2026-02-11", 0, 17), "2026-02-11", 25]),
        (3, ["replace", h["H10"], "2026-01-05", 22, True,
             "replace", Line("H7", "M2", "2025-12-30", 0, 33, "7", "H7"), "2026-02-11", 28, False,
             "replace", Line("H3", "M1", "2026-02-11", 0, 25), "2026-03-02", 33, True]),
        (3, ["new", "M1", "2026-01-05", 43, "replace", Line("H3", "M1", "2026-03-02", 0, 33, "7", "H3"), "2026-02-11",
             33, False, "resent", Line("H3", "M1", "2026-03-02", 0, 33, "7", "H3"), "M2", "2025-12-30", 8]),
    ]
    machine = AnnualCapMachine()
    try:
        machine.mode(cutback=False)
        for size, draws in nights:
            data = _Draws(draws)
            machine.night(data, size)  # type: ignore[arg-type]
            assert not data.draws
            machine.ledger_matches_the_model()
        assert [line.claim for line in machine.nights[5]] == ["C0008", "C0009", "C0010"]  # the log's claim ids
        for night in (3, 0):  # night 4 validated again, then night 1
            machine.rerun(_Draws([machine.nights[night]]))  # type: ignore[arg-type]
            machine.ledger_matches_the_model()
        assert machine.model.usage("year")[("M1", "2026")] == 221
    finally:
        machine.teardown()


def _line(claim: str, day: str, slot: int, units: int, frequency: str = "1", original: str | None = None,
          member: str = "M1") -> Line:
    return Line(claim, member, day, slot, units, frequency, original)


def test_the_history_soak7_found() -> None:
    """The draws of a long run's failing history (`make soak SOAK_EXAMPLES=300`, 2026-12-01, LedgerMachine,
    reject mode), as hypothesis shrank it. Night 2 voids C0003 and, under a new id C0004, C0002. A later night
    bills C0004 as a claim of its own, another bills C0002 again (a voided claim may be billed again). Night 2
    validated again found its void C0004 already billed and rejected it (CM402), so C0002's original came back
    beside the later C0002: billed twice. The void is now left as it was."""
    c1, c2, c3 = _line("C0001", "2026-03-30", 0, 3), _line("C0002", "2026-03-30", 1, 6), \
        _line("C0003", "2026-03-30", 2, 6)
    steps: list[tuple[str, object]] = [
        ("night", (3, ["new", "M1", "2026-03-30", 3, "new", "M1", "2026-03-30", 6, "new", "M1", "2026-03-30", 6])),
        ("night", (2, ["void", c3, "2026-03-30", 5, True, "void", c2, "2026-03-31", 4, False])),
        ("night", (1, ["new", "M1", "2026-04-02", 5])),
        ("rollback", (_line("C0005", "2026-04-02", 0, 5),)),
        ("night", (2, ["resent", _line("C0004", "2026-03-31", 0, 4, "8", "C0002"), "2026-03-30", 7,
                       "replace", c2, "2026-04-02", 7, True])),
        ("night", (2, ["resent", c1, "2026-04-01", 7, "resent", c2, "2026-04-02", 5])),
        ("night", (3, ["void", c3, "2026-04-01", 9, True, "new", "M2", "2026-04-02", 8,
                       "void", _line("C0001", "2026-04-01", 0, 7), "2026-03-30", 4, False])),
        ("night", (1, ["new", "M1", "2026-03-31", 11])),
        ("rerun", (c1, c2, c3)),
        ("rerun", (c1, c2, c3)),
        ("night", (4, ["resent", c1, "2026-04-01", 9, "resent", _line("C0008", "2026-03-31", 0, 11), "2026-03-31", 1,
                       "new", "M2", "2026-04-01", 8, "replace", _line("C0005", "2026-04-02", 0, 5), "2026-04-02", 3,
                       False])),
        ("rerun", (_line("C0001", "2026-04-01", 0, 7), _line("C0002", "2026-04-02", 0, 5))),
        ("rerun", (_line("C0003", "2026-03-30", 0, 5, "8", "C0003"), _line("C0004", "2026-03-31", 0, 4, "8", "C0002"))),
    ]
    _replay(LedgerMachine(), False, steps)


def _replay(machine: LedgerMachine, cutback: bool, steps: list[tuple[str, object]]) -> None:
    """Drive `machine` through a logged history: ("night", (size, draws)), or ("rerun" | "rollback", the night's
    lines, or its place among the nights run so far), the model checked after every step."""
    try:
        machine.mode(cutback=cutback)
        machine.ledger_matches_the_model()
        for step, argument in steps:
            if step == "night":
                size, draws = argument  # type: ignore[misc]
                data = _Draws(draws)
                machine.night(data, size)  # type: ignore[arg-type]
                assert not data.draws
            else:
                night = machine.nights[argument] if isinstance(argument, int) else argument
                getattr(machine, step)(_Draws([night]))
            machine.ledger_matches_the_model()
    finally:
        machine.teardown()


def test_the_history_soak14_found() -> None:
    """The draws of a long run's failing history (`make soak`, 2026-12-01, AnnualCapMachine, cutback mode), as
    hypothesis shrank it. Night 3 voids the imported H4 (40 units) as C0006; a later night bills C0006 as a claim
    of its own (a void bills nothing, so its id may be billed after it) and fills M1's year to 220. Night 3
    validated again found its void's id already billed and rejected it (CM402): H4 came back, 246 of 240.
    The void is now left as it was."""
    h = {claim: Line(claim, member, day, 0, units) for claim, member, day, units in AnnualCapMachine.HISTORY}
    steps: list[tuple[str, object]] = [
        ("night", (3, ["new", "M1", "2025-12-30", 37, "replace", h["H1"], "2026-02-11", 41, False,
                       "new", "M1", "2025-12-30", 25])),
        ("rerun", 0), ("rerun", 0),
        ("night", (1, ["new", "M1", "2025-12-30", 13])),
        ("night", (4, ["new", "M1", "2026-01-05", 14, "void", h["H4"], "2026-03-02", 21, False,
                       "void", h["H4"], "M2", "2026-03-02", 12,
                       "void", _line("C0004", "2025-12-30", 0, 13), "2025-12-30", 37, True])),
        ("rerun", 0),
        ("night", (3, ["new", "M1", "2026-02-11", 29, "new", "M2", "2025-12-30", 44,
                       "resent", _line("C0006", "2026-03-02", 0, 21, "8", "H4"), "2026-03-02", 26])),
        ("rerun", 2),
    ]
    _replay(AnnualCapMachine(), True, steps)
