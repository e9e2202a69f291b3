"""Invariants of a run that must hold for any export (hypothesis).

(a) every input line ends in exactly one place: the clean file, or the exceptions file as rejected;
(b) no member ever gets more accepted units than a limit allows, in reject and cutback mode;
(c) the order of the rows in the export changes no line's fate or billable units.

Batches are small and examples few (each example is a whole run), so the suite stays fast.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import Counter, defaultdict
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmclaims.pipeline.validate import ValidateRequest, validate
from tests.helpers import read_csv, write_csv

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
COLUMNS = ["claim_id", "member_id", "member_dob", "service_date", "start_time", "end_time", "hcpcs", "modifier1",
           "modifier2", "staff_id", "units", "program", "authorization_id"]


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def run(folder: Path, export: Path, profile: str, today: dt.date, **options: object) -> tuple[list, list, dict]:
    result = validate(ValidateRequest(inputs=[export], profile=profile, out=folder / "out", today=today, **options))
    return read_csv(folder / "out" / "clean.csv"), read_csv(folder / "out" / "exceptions.csv"), result.summary


# --- ok-soonercare lines -----------------------------------------------------------------------

OK_DAYS = [dt.date(2026, 3, d) for d in (2, 3, 30, 31)] + [dt.date(2026, 4, 1)]
OK_LEVELS = {"TF": "111", "HN": "110"}  # level -> its program (SPEC section 8)
OK_TODAY = dt.date(2026, 11, 22)


@st.composite
def ok_lines(draw: st.DrawFn, min_size: int = 1, max_size: int = 24, flaws: bool = True) -> list[dict]:
    """ok-soonercare T1017 lines; a member's lines on one day never overlap, and each has its own staff.

    With `flaws`, some lines have a value the CM0 or CM1 rules reject or adjust.
    """
    slots = draw(st.lists(st.tuples(st.integers(1, 3), st.sampled_from(OK_DAYS), st.integers(0, 5)),
                          min_size=min_size, max_size=max_size, unique=True))
    lines = []
    for i, (member, day, slot) in enumerate(slots):
        level = draw(st.sampled_from(sorted(OK_LEVELS)))
        start = 6 * 60 + slot * 120
        minutes = draw(st.integers(1, 120))
        earned = (minutes + 7) // 15
        units = draw(st.sampled_from([str(earned), str(earned), "", str(earned + 1)]))
        line = {
            "claim_id": f"K{i:03d}", "member_id": f"M{member}", "member_dob": "2010-05-01",
            "service_date": day.isoformat(), "start_time": clock(start), "end_time": clock(start + minutes),
            "hcpcs": "T1017", "modifier1": "HE", "modifier2": level, "staff_id": f"S{i}",
            "units": units, "program": OK_LEVELS[level],
        }
        if flaws:
            flaw = draw(st.sampled_from([None] * 6 + ["date", "code", "member", "time"]))
            if flaw == "date":
                line["service_date"] = "2026-02-30"
            elif flaw == "code":
                line["hcpcs"] = "H0038"
            elif flaw == "member":
                line["member_id"] = ""
            elif flaw == "time":
                line["end_time"] = "25:00"
        lines.append(line)
    return lines


GARBAGE = {
    "ragged": "G{0},M1,2010-05-01,2026-03-02,09:00,09:30,T1017,HE,TF,S1,2,111,,surplus",
    "short": "G{0},M1,2010-05-01,2026-03-02",
    "quote": 'G{0},M1,2010-05-01,2026-03-02,09:00,09:30,T1017,HE,TF,"S1,2,111,',
}


def write_with_garbage(path: Path, lines: list[dict], extras: list[str]) -> tuple[dict[str, int], set[int]]:
    """Write the lines with garbage rows and blank lines among them.

    `extras[i]` goes before line i (past the end: after the last line): "" for
    none, "blank", or a GARBAGE kind. Returns each claim's row and the garbage rows.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(COLUMNS)
    row_of, garbage, row = {}, set(), 0
    for i in range(max(len(lines), len(extras))):
        extra = extras[i] if i < len(extras) else ""
        if extra:
            row += 1
            if extra == "blank":
                buffer.write("\n")
            else:
                buffer.write(GARBAGE[extra].format(row) + "\n")
                garbage.add(row)
        if i < len(lines):
            row += 1
            csv.writer(buffer, lineterminator="\n").writerow([lines[i].get(c, "") for c in COLUMNS])
            row_of[lines[i]["claim_id"]] = row
    path.write_text(buffer.getvalue())
    return row_of, garbage


@given(
    ok_lines(min_size=0),
    st.lists(st.sampled_from(["", "", "", "blank", "ragged", "short", "quote"]), max_size=26),
    st.sampled_from(["reject", "cutback"]),
)
@SETTINGS
def test_every_line_ends_in_exactly_one_place(tmp_path_factory, lines: list[dict], extras: list[str],
                                              mode: str) -> None:
    folder = tmp_path_factory.mktemp("run")
    row_of, garbage = write_with_garbage(folder / "export.csv", lines, extras)
    clean, exceptions, summary = run(folder, folder / "export.csv", "ok-soonercare", OK_TODAY, over_limit=mode)

    clean_claims = [r["claim_id"] for r in clean]
    assert len(clean_claims) == len(set(clean_claims)), "a line is in the clean file twice"
    rejected_rows = {int(r["source_row"]) for r in exceptions if r["disposition"] == "rejected"}
    clean_rows = {row_of[c] for c in clean_claims}
    assert not clean_rows & rejected_rows, "a line is both clean and rejected"
    assert clean_rows | rejected_rows == set(row_of.values()) | garbage, "a line is in neither file"
    assert garbage <= rejected_rows
    assert {r["rule"] for r in exceptions if int(r["source_row"]) in garbage} == ({"CM001"} if garbage else set())

    # a line's findings all carry its one fate, which matches where it ended
    fates: dict[int, set[str]] = defaultdict(set)
    for r in exceptions:
        fates[int(r["source_row"])].add(r["disposition"])
    assert all(len(f) == 1 for f in fates.values())
    for claim, row in row_of.items():
        if row in fates:
            fate = next(iter(fates[row]))
            assert (fate == "rejected") == (claim not in clean_claims)
    for r in clean:
        finding = fates.get(row_of[r["claim_id"]])
        assert r["disposition"] == (next(iter(finding)) if finding else "pass")
        if r["disposition"] == "pass":
            assert finding is None

    counts = summary["counts"]
    assert counts["lines_in"] == len(row_of) + len(garbage)
    assert counts["lines_clean"] == len(clean)
    assert counts["lines_rejected"] == len(rejected_rows)


# --- limits ------------------------------------------------------------------------------------


@given(ok_lines(min_size=4, max_size=30, flaws=False), st.sampled_from(["reject", "cutback"]))
@SETTINGS
def test_no_member_exceeds_a_daily_or_monthly_limit(tmp_path_factory, lines: list[dict], mode: str) -> None:
    folder = tmp_path_factory.mktemp("run")
    write_csv(folder / "export.csv", lines, COLUMNS)
    clean, _, _ = run(folder, folder / "export.csv", "ok-soonercare", OK_TODAY, over_limit=mode)
    daily: Counter = Counter()
    monthly: Counter = Counter()
    for r in clean:
        units = int(r["billable_units"])
        assert units > 0
        daily[(r["member_id"], r["modifier2"], r["service_date"])] += units
        monthly[(r["member_id"], r["modifier2"], r["service_date"][:7])] += units
    assert all(units <= 16 for units in daily.values()), daily
    month_cap = {"TF": 56, "HN": 25}
    assert all(units <= month_cap[level] for (_, level, _), units in monthly.items()), monthly


def test_the_limit_generator_does_cross_limits(tmp_path: Path) -> None:
    """The property above is only worth something if its batches reach the limits."""
    lines = [{"claim_id": f"K{s}", "member_id": "M1", "member_dob": "2010-05-01", "service_date": "2026-03-02",
              "start_time": clock(360 + s * 120), "end_time": clock(360 + s * 120 + 120), "hcpcs": "T1017",
              "modifier1": "HE", "modifier2": "HN", "staff_id": f"S{s}", "units": "8", "program": "110"}
             for s in range(6)]
    write_csv(tmp_path / "export.csv", lines, COLUMNS)
    clean, exceptions, _ = run(tmp_path, tmp_path / "export.csv", "ok-soonercare", OK_TODAY)
    assert sum(int(r["billable_units"]) for r in clean) == 16
    assert {r["rule"] for r in exceptions} == {"CM201"}


ID_TODAY = dt.date(2027, 2, 1)
ID_DAYS = [dt.date(2026, 1, 1) + dt.timedelta(days=d) for d in range(0, 365, 30)] + [dt.date(2026, 12, 31),
                                                                                      dt.date(2027, 1, 1)]


@st.composite
def id_batches(draw: st.DrawFn) -> tuple[list[dict], list[dict]]:
    """id-optum lines of up to 48 units (two half-day slots a day) and authorizations."""
    slots = draw(st.lists(st.tuples(st.integers(1, 2), st.sampled_from(ID_DAYS), st.integers(0, 1)),
                          min_size=3, max_size=20, unique=True))
    lines = []
    for i, (member, day, slot) in enumerate(slots):
        minutes = draw(st.integers(30, 700))
        start = slot * 720
        lines.append({
            "claim_id": f"I{i:03d}", "member_id": f"M{member}", "member_dob": "1980-05-01",
            "service_date": day.isoformat(), "start_time": clock(start), "end_time": clock(start + minutes),
            "hcpcs": draw(st.sampled_from(["T1017", "T1016"])), "staff_id": f"S{i}",
            "authorization_id": draw(st.sampled_from(["", "PA0", "PA1"])),
        })
    authorizations = []
    for i in range(draw(st.integers(0, 3))):
        first, last = sorted((draw(st.sampled_from(ID_DAYS)), draw(st.sampled_from(ID_DAYS))))
        authorizations.append({
            "authorization_id": f"PA{i}", "member_id": f"M{draw(st.integers(1, 2))}",
            "hcpcs": draw(st.sampled_from(["T1017", "T1016"])), "start_date": first.isoformat(),
            "end_date": last.isoformat(), "units": draw(st.integers(0, 120)),
        })
    return lines, authorizations


@given(id_batches(), st.sampled_from(["reject", "cutback"]))
@SETTINGS
def test_no_member_exceeds_the_annual_cap_beyond_their_authorizations(
    tmp_path_factory, batch: tuple[list[dict], list[dict]], mode: str
) -> None:
    lines, authorizations = batch
    folder = tmp_path_factory.mktemp("run")
    write_csv(folder / "export.csv", lines)
    side = {}
    if authorizations:
        side["authorizations"] = write_csv(folder / "authorizations.csv", authorizations)
    clean, _, _ = run(folder, folder / "export.csv", "id-optum", ID_TODAY, over_limit=mode, **side)
    yearly: Counter = Counter()
    for r in clean:
        yearly[(r["member_id"], r["service_date"][:4])] += int(r["billable_units"])
    for (member, year), units in yearly.items():
        granted = sum(a["units"] for a in authorizations
                      if a["member_id"] == member and a["start_date"][:4] <= year <= a["end_date"][:4])
        assert units <= 240 + granted, (member, year, units, granted)
        # every unit beyond the cap was billed on a day an authorization of the member covers
        if units > 240:
            assert granted > 0


@given(id_batches())
@SETTINGS
def test_without_authorizations_the_annual_cap_is_hard(tmp_path_factory,
                                                      batch: tuple[list[dict], list[dict]]) -> None:
    lines, _ = batch
    folder = tmp_path_factory.mktemp("run")
    write_csv(folder / "export.csv", lines)
    for mode in ("reject", "cutback"):
        clean, exceptions, _ = run(folder / mode, folder / "export.csv", "id-optum", ID_TODAY, over_limit=mode)
        yearly: Counter = Counter()
        for r in clean:
            yearly[(r["member_id"], r["service_date"][:4])] += int(r["billable_units"])
        assert all(units <= 240 for units in yearly.values()), yearly
        assert "CM205" not in {r["rule"] for r in exceptions}


# --- order ------------------------------------------------------------------------------------


def fates(clean: list[dict], exceptions: list[dict]) -> Counter:
    """The multiset of (claim_id, disposition, billable units) over every line."""
    result: Counter = Counter((r["claim_id"], r["disposition"], int(r["billable_units"])) for r in clean)
    rejected = {(r["claim_id"], r["source_row"]) for r in exceptions if r["disposition"] == "rejected"}
    result.update((claim, "rejected", 0) for claim, _ in rejected)
    return result


@given(ok_lines(min_size=2, max_size=24), st.integers(0, 2**32 - 1), st.sampled_from(["reject", "cutback"]),
       st.lists(st.integers(0, 23), max_size=3))
@SETTINGS
def test_row_order_changes_no_fate(tmp_path_factory, lines: list[dict], seed: int, mode: str,
                                   copies: list[int]) -> None:
    # some claim ids twice: exact copies (CM010 keeps one) or a conflicting second line (both held)
    for k, index in enumerate(copies):
        original = lines[index % len(lines)]
        lines.append(dict(original) if k % 2 == 0 else {**original, "units": "99"})
    shuffled = list(lines)
    random.Random(seed).shuffle(shuffled)
    folder = tmp_path_factory.mktemp("run")
    write_csv(folder / "first.csv", lines, COLUMNS)
    write_csv(folder / "second.csv", shuffled, COLUMNS)
    first = run(folder / "a", folder / "first.csv", "ok-soonercare", OK_TODAY, over_limit=mode)
    second = run(folder / "b", folder / "second.csv", "ok-soonercare", OK_TODAY, over_limit=mode)
    assert fates(*first[:2]) == fates(*second[:2])
    assert first[2]["counts"] == second[2]["counts"]
    assert first[2]["units"] == second[2]["units"]


@given(id_batches(), st.integers(0, 2**32 - 1), st.sampled_from(["reject", "cutback"]))
@SETTINGS
def test_row_order_changes_no_fate_under_an_annual_cap(tmp_path_factory, batch: tuple[list[dict], list[dict]],
                                                       seed: int, mode: str) -> None:
    lines, authorizations = batch
    shuffled = list(lines)
    random.Random(seed).shuffle(shuffled)
    folder = tmp_path_factory.mktemp("run")
    side = {}
    if authorizations:
        side["authorizations"] = write_csv(folder / "authorizations.csv", authorizations)
    write_csv(folder / "first.csv", lines)
    write_csv(folder / "second.csv", shuffled, list(lines[0]))
    first = run(folder / "a", folder / "first.csv", "id-optum", ID_TODAY, over_limit=mode, **side)
    second = run(folder / "b", folder / "second.csv", "id-optum", ID_TODAY, over_limit=mode, **side)
    assert fates(*first[:2]) == fates(*second[:2])
