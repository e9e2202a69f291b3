"""Outputs safe in every cell and on every screen, whatever the input holds (SPEC section 3)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from cmclaims.io.safe_text import excel_text, printable
from tests.helpers import new_ledger
from tests.test_report_support import cli, isolated, line, night  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")

# What a terminal must never receive from an input: C0 (but tab and newline), DEL, C1, bidi overrides.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = [
    "\x1b[2J\x1b[H",  # clear the screen
    "\x1b]0;owned\x07",  # set the window title
    "S\rOVERWRITE",
    "\x9b31m",  # a C1 control sequence introducer
    "abc\u202edcba",  # right-to-left override
    "vt\x0bff\x0cbell\x07",
]
FORMULAS = ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", '=HYPERLINK("http://x","y")', "\t=1", "\r=1"]


def _night_with(tmp_path: Path, values: list[str]) -> tuple[Path, Path]:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    lines = [line("OK1")]
    for i, value in enumerate(values):
        lines.append(line(f"C{i}", start=f"{(8 + i) % 24:02d}:00", date=f"2026-03-{i % 27 + 2:02d}",
                          activity="transport", staff_id=value, program=value))
    run = night(tmp_path / "night", lines, ledger)
    return run.out, ledger


@pytest.mark.parametrize("command", [["report"], ["report", "open"], ["report", "open", "--detail"],
                                     ["report", "--json"], ["report", "open", "--detail", "--json"]])
def test_no_control_character_reaches_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   command: list[str]) -> None:
    out, ledger = _night_with(tmp_path, HOSTILE)
    capsys.readouterr()
    from cmclaims.cli import main

    args = [*command[:1], *([str(out)] if command[1:2] != ["open"] else []), *command[1:], "--ledger", str(ledger)]
    code = main(args)
    printed = capsys.readouterr()
    assert code in (0, 1), printed.err
    assert CONTROL.findall(printed.out + printed.err) == []
    assert "Traceback" not in printed.err


@pytest.mark.parametrize("command", [["report"], ["report", "open", "--detail"], ["report", "open"]])
def test_every_xlsx_cell_is_text_or_a_number_never_a_formula(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                             command: list[str]) -> None:
    out, ledger = _night_with(tmp_path, HOSTILE + FORMULAS)
    book_path = tmp_path / "book.xlsx"
    args = [*command[:1], *([str(out)] if command[1:2] != ["open"] else []), *command[1:], "--ledger", str(ledger),
            "--out", str(book_path)]
    code, _ = cli(capsys, *args)
    assert code in (0, 1)
    book = load_workbook(book_path)
    seen = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                seen += 1
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.value == excel_text(cell.value)
                    assert not str(cell.value).startswith("=") or cell.data_type == "s"
    assert seen > 10


def test_a_hostile_column_name_is_escaped_in_the_clean_files_header(tmp_path: Path) -> None:
    hostile = '=HYPERLINK("http://x","y")'
    run = night(tmp_path / "night", [line("A1", **{hostile: "=1+1", "-note": "-2"})])
    with (run.out / "clean.csv").open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    assert f"'{hostile}" in header and hostile not in header
    assert "'-note" in header
    risky = [cell for row in [header, *rows] for cell in row if cell[:1] in ("=", "+", "@", "\t", "\r")]
    assert risky == []


def test_printable_replaces_every_control_character_and_keeps_text() -> None:
    assert printable("naïve 日本 ok\tx\ny") == "naïve 日本 ok\tx\ny"
    assert CONTROL.findall(printable("".join(chr(c) for c in range(0x20)) + "\x7f\x85\x9b\u202e")) == []


def test_excel_text_replaces_what_xml_cannot_hold_and_cuts_at_excels_limit() -> None:
    assert excel_text("a\x00b\x1bc\ufffe") == "a?b?c?"
    assert len(excel_text("x" * 40_000)) == 32_767
