"""An EHR export as a clerk receives it: its own headers, its own spellings."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _workplace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in a temporary folder with a ledger of its own and no colour."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CMCLAIMS_LEDGER", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("CMCLAIMS_DEBUG", raising=False)
