"""Reading 835s: every claim and line with its adjustments, or an error naming the segment and its position."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmclaims.errors import InputMissing, InputUnusable
from cmclaims.remit.x12_read import read_835
from tests.remit.builders import clp, svc, write

DATA = Path(__file__).parent / "data"


def _mixed(path: Path) -> Path:
    return write(
        path,
        clp("P1", "1", svc("A1", "80", "80"), svc("A2", "80", "72", ("CO", "45", "8"))),  # paid; fee schedule cut
        clp("P2", "4", svc("A3", "80", "0", ("CO", "197", "80"), remarks=("N54",))),  # denied: no authorization
        clp("P3", "1", svc("A4", "80", "60", ("PR", "1", "20"), ("CO", "45", "0"))),  # member's deductible
        clp("P4", "22", svc("A1", "-80", "-80")),  # the payment of A1 taken back
    )


def test_every_line_with_its_adjustments_remarks_dates_and_control_numbers(tmp_path: Path) -> None:
    remit = read_835(_mixed(tmp_path / "mixed.835"))
    assert remit.version == "005010X221A1"
    assert [(p.trace, p.amount_cents) for p in remit.payments] == [("TRACE1", 8000 + 7200 + 6000 - 8000)]
    lines = remit.lines.set_index("line_no")
    assert lines["line_control"].tolist() == ["A1", "A2", "A3", "A4", "A1"]
    assert lines["claim_status"].tolist() == ["1", "1", "4", "1", "22"]
    assert lines["paid_cents"].tolist() == [8000, 7200, 0, 6000, -8000]
    assert lines["charge_cents"].tolist() == [8000, 8000, 8000, 8000, -8000]
    assert lines["patient_cents"].tolist() == [0, 0, 0, 2000, 0]
    assert lines["service_date"].unique().tolist() == ["2026-03-02"]
    assert lines["member_id"].unique().tolist() == ["MBR1001"]
    assert lines.loc[3, "remarks"] == "N54"
    adjustments = remit.adjustments
    assert adjustments[["line_no", "group_code", "carc", "amount_cents"]].values.tolist() == [
        [2, "CO", "45", 800], [3, "CO", "197", 8000], [4, "PR", "1", 2000], [4, "CO", "45", 0]]


def test_a_public_sample_835_from_pyx12_reads_whole() -> None:
    """pyx12's own 4010 sample (BSD; see data/README.md): case management, reversals, no REF*6R."""
    remit = read_835(DATA / "pyx12_835_simple.txt")
    assert remit.version == "004010X091A1"
    assert remit.payments[0].amount_cents == 595021 and remit.payments[0].paid_on == "2009-02-20"
    lines = remit.lines
    assert lines["claim_status"].tolist() == ["22", "1", "22"]
    assert lines["hcpcs"].tolist() == ["T1017"] * 3
    assert lines["modifiers"].tolist() == ["", "", "TG"]
    assert lines["paid_cents"].tolist() == [-21000, 20000, -50025]
    assert lines["units_paid"].tolist() == [6, 6, 6]
    assert lines["service_date"].tolist() == ["2008-01-11", "2008-01-11", "2008-04-02"]
    assert lines["line_control"].isna().all()
    assert remit.adjustments[["group_code", "carc", "amount_cents"]].values.tolist() == [
        ["CR", "45", -10000], ["CR", "45", 10000]]


def test_a_truncated_file_names_where_it_stops(tmp_path: Path) -> None:
    whole = _mixed(tmp_path / "whole.835").read_text()
    cut = tmp_path / "cut.835"
    cut.write_text(whole[: whole.index("CLP*P3")])
    with pytest.raises(InputUnusable) as error:
        read_835(cut)
    message = error.value.message
    assert "truncated" in message and "without the IEA" in message
    assert "stops at segment 28 (LQ)" in message  # the remark of claim P2, the last segment before the cut
    assert error.value.exit_code == 65


def test_a_malformed_element_names_the_segment_element_and_position(tmp_path: Path) -> None:
    text = _mixed(tmp_path / "whole.835").read_text().replace("SVC*HC:T1017*80*0**4", "SVC*HC:T1017*80*X0**4")
    bad = tmp_path / "bad.835"
    bad.write_text(text)
    with pytest.raises(InputUnusable) as error:
        read_835(bad)
    message = error.value.message
    assert "segment SVC (segment 24 of the file)" in message
    assert "element SVC03" in message and "invalid character" in message
    assert "X0" not in message  # the value itself is never quoted (an 835 carries names and ids)


def test_a_segment_out_of_place_and_a_wrong_trailer_count_are_malformed(tmp_path: Path) -> None:
    text = _mixed(tmp_path / "whole.835").read_text()
    broken = tmp_path / "broken.835"
    broken.write_text(text.replace("SE*39*0001", "SE*12*0001"))
    with pytest.raises(InputUnusable, match="malformed 835"):
        read_835(broken)
    stray = tmp_path / "stray.835"
    stray.write_text(text.replace("LX*1~\n", "LX*1~\nZZZ*1~\n"))
    with pytest.raises(InputUnusable, match=r"segment ZZZ \(segment 13 of the file\)"):
        read_835(stray)


def test_not_an_835_empty_and_missing_files(tmp_path: Path) -> None:
    other = tmp_path / "claims.csv"
    other.write_text("claim_id,member_id\nC1,M1\n")
    with pytest.raises(InputUnusable, match="not an X12 file"):
        read_835(other)
    empty = tmp_path / "empty.835"
    empty.write_text("")
    with pytest.raises(InputUnusable, match="empty"):
        read_835(empty)
    with pytest.raises(InputMissing):
        read_835(tmp_path / "nowhere.835")
    claim = (DATA / "pyx12_835_simple.txt").read_text().replace("ST*835*", "ST*837*")
    wrong = tmp_path / "wrong.835"
    wrong.write_text(claim)
    with pytest.raises(InputUnusable):
        read_835(wrong)
