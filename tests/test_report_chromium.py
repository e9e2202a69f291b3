"""The HTML report rendered by a real browser (headless Chromium) to a PNG.

Skipped where Chromium is not installed (CI has none): `apt-get install chromium`
to run it. The browser runs without network, sandbox or GPU, with a fresh profile.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import new_ledger
from tests.test_report_support import cli, isolated, line, night  # noqa: F401

pytestmark = pytest.mark.usefixtures("isolated")


def _chromium() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    return shutil.which("chromium") or shutil.which("chromium-browser")


CHROMIUM = _chromium()


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (looked for /usr/bin/chromium and "
                                              "`chromium` on PATH); the HTML is still checked by test_report_formats")
def test_the_html_report_renders_to_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = new_ledger(tmp_path / "ledger.sqlite3")
    night(tmp_path / "n1", [line("A1"), line("A2", start="10:00", activity="transport"),
                            {**line("A3", start="12:00"), "units": 5}], ledger, days_ago=1)
    night(tmp_path / "n2", [line("A2", start="10:00"), line("B1", date="2026-03-03", activity="education")], ledger)
    page = tmp_path / "period.html"
    assert cli(capsys, "report", "period", "--ledger", ledger, "--out", page)[0] == 0
    png = tmp_path / "period.png"
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         "--window-size=1200,1800", f"--screenshot={png}", page.as_uri()],
        capture_output=True, timeout=90, check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000  # a page of tables and charts, not a blank screen
