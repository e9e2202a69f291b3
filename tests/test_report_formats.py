"""The report formats: XLSX, HTML, CSV and JSON files: safe to open, owner-only, the same numbers."""

from __future__ import annotations

import codecs
import csv
import json
import stat
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.helpers import Run, new_ledger, read_csv
from tests.test_report_support import cli, isolated, line, night  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")


def _nights(tmp_path: Path) -> tuple[Run, Path]:
    """A night whose rejected lines carry text a spreadsheet would run: a staff id and a claim id."""
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    run = night(tmp_path / "n1", [
        line("A1"),
        line("A2", start="10:00", activity="transport", staff_id="=1+1"),
        line("@SUM(A1)", start="12:00", activity="education", staff_id="+cmd|' /C calc'!A0"),
    ], ledger)
    return run, ledger


def _owner_only(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o600


def test_validate_escapes_formulas_in_its_own_csv(tmp_path: Path) -> None:
    run, _ = _nights(tmp_path)
    staff = {row["claim_id"]: row["staff_id"] for row in read_csv(run.out / "exceptions.csv")}
    assert staff["A2"] == "'=1+1"
    assert "'@SUM(A1)" in staff


def test_xlsx_sheets_have_a_frozen_header_an_autofilter_and_text_stays_text(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, ledger = _nights(tmp_path)
    out = tmp_path / "reports" / "night.xlsx"
    code, printed = cli(capsys, "report", run.out, "--ledger", ledger, "--out", out)
    assert code == 0 and "RECONCILED" in printed
    assert _owner_only(out)
    book = load_workbook(out)
    assert book.sheetnames[:3] == ["Overview", "Balance", "Checks"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
    staff = book["By staff"]
    cells = {cell.value: cell for cell in staff["A"][1:]}
    assert cells["=1+1"].data_type == "s"  # text, not a formula
    assert cells["+cmd|' /C calc'!A0"].data_type == "s"
    balance = book["Balance"]
    assert [c.value for c in balance[1]] == ["what", "lines", "units", "dollars"]
    assert balance["D2"].value == 240.0 and "$" in balance["D2"].number_format


def test_xlsx_open_items_detail_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, ledger = _nights(tmp_path)
    plain, detailed = tmp_path / "open.xlsx", tmp_path / "open-detail.xlsx"
    assert cli(capsys, "report", "open", "--ledger", ledger, "--out", plain)[0] == 0
    assert cli(capsys, "report", "open", "--ledger", ledger, "--detail", "--out", detailed)[0] == 0
    book = load_workbook(plain)
    assert "Detail" not in book.sheetnames
    assert all("MBR1001" not in str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row)
    detail = load_workbook(detailed)["Detail"]
    header = [c.value for c in detail[1]]
    claims = {row[header.index("claim_id")].value: row for row in detail.iter_rows(min_row=2)}
    assert set(claims) == {"A2", "@SUM(A1)"}
    assert claims["@SUM(A1)"][header.index("claim_id")].data_type == "s"
    assert claims["A2"][header.index("staff_id")].value == "=1+1"
    assert claims["A2"][header.index("member_id")].value == "MBR1001"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [value or "" for name, value in attrs if name in ("src", "href", "xlink:href", "action")]


def test_html_is_self_contained_with_charts_and_no_member_ids(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    run, ledger = _nights(tmp_path)
    pages = {"run": tmp_path / "run.html", "open": tmp_path / "open.html", "period": tmp_path / "period.html"}
    assert cli(capsys, "report", run.out, "--ledger", ledger, "--out", pages["run"])[0] == 0
    assert cli(capsys, "report", "open", "--ledger", ledger, "--out", pages["open"])[0] == 0
    assert cli(capsys, "report", "period", "--ledger", ledger, "--format", "html", "--out", pages["period"])[0] == 0
    for name, path in pages.items():
        text = path.read_text(encoding="utf-8")
        page = _Page()
        page.feed(text)
        assert "script" not in page.tags, name
        assert "http" not in text.lower(), name  # nothing loaded from a network, not even a namespace URL
        assert page.links == [], name
        assert "svg" in page.tags, name
        assert "MBR1001" not in text, name
        assert "=1+1" in text or name == "period", name  # staff ids are shown, escaped as text
        assert _owner_only(path)
    assert "RECONCILED" in pages["run"].read_text(encoding="utf-8")


def test_csv_reports_have_a_bom_escape_formulas_and_are_owner_only(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    run, ledger = _nights(tmp_path)
    folder = tmp_path / "csv"
    assert cli(capsys, "report", run.out, "--ledger", ledger, "--format", "csv", "--out", folder)[0] == 0
    names = {p.name for p in folder.iterdir()}
    assert {"overview.csv", "balance.csv", "checks.csv", "by_rule.csv", "by_staff.csv"} <= names
    for path in folder.iterdir():
        assert path.read_bytes().startswith(codecs.BOM_UTF8), path.name
        assert _owner_only(path)
    with (folder / "by_staff.csv").open(encoding="utf-8-sig", newline="") as handle:
        staff = [row["staff_id"] for row in csv.DictReader(handle)]
    assert "'=1+1" in staff and "'+cmd|' /C calc'!A0" in staff


def test_json_to_a_file_and_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run, ledger = _nights(tmp_path)
    out = tmp_path / "night.json"
    assert cli(capsys, "report", run.out, "--ledger", ledger, "--out", out)[0] == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["report"] == "run" and document["verdict"]["reconciled"] is True
    assert _owner_only(out)
    code, printed = cli(capsys, "report", run.out, "--ledger", ledger, "--format", "json")
    assert code == 0 and json.loads(printed)["tables"].keys() == document["tables"].keys()


@pytest.mark.parametrize("options", [
    ["--format", "xlsx"],  # a file format needs --out
    ["--out", "report.txt"],  # the name says no format
    ["--format", "csv", "--out", "report.csv"],  # CSV goes to a folder
    ["--format", "pdf", "--out", "x.pdf"],
    ["--json", "--format", "html", "--out", "x.html"],
])
def test_format_mistakes_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          options: list[str]) -> None:
    run, ledger = _nights(tmp_path)
    assert cli(capsys, "report", run.out, "--ledger", ledger, *options)[0] == 2
