"""The command line a person expects: --version, -h everywhere, an example in every help, readable names."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.main import get_command

from cmclaims import __version__
from cmclaims.cli import app, main
from cmclaims.cli.help import readable_metavars

REPO = Path(__file__).resolve().parents[2]


def _commands() -> list[list[str]]:
    """Every command and group, as the words that name it."""
    root = get_command(app)
    found: list[list[str]] = [[]]

    def walk(command: object, path: list[str]) -> None:
        for name, sub in getattr(command, "commands", {}).items():
            found.append([*path, name])
            walk(sub, [*path, name])

    walk(root, [])
    return found


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"cmclaims {__version__}"


@pytest.mark.parametrize("words", _commands(), ids=lambda words: " ".join(words) or "cmclaims")
def test_every_command_answers_dash_h_with_an_example_and_readable_names(
    words: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    assert main([*words, "-h"]) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"Usage: cmclaims {' '.join(words)}".rstrip())
    assert re.search(r"^  Examples?:\s+cmclaims ", text, re.MULTILINE), text
    # no Python types or braces where a person expects a name: <str>, <list[Path]>, {inputs}...
    assert not re.search(r"<[a-z]+(\[.*?\])?>|\{\w+", text), text


def test_validate_lists_the_choices_of_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "-h"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Usage: cmclaims validate [OPTIONS] INPUT..." in text
    for profile in ("az-ahcccs", "id-optum", "mi-dwihn", "ok-soonercare", "pa-performcare"):
        assert profile in text
    assert "--over-limit reject|cutback" in text
    assert "--format csv|parquet" in text
    assert "--max-input-errors FRACTION" in text


def test_an_option_without_its_own_metavar_is_named_in_capitals() -> None:
    command = get_command(app)
    readable_metavars(command)
    usage = command.commands["ledger"].commands["usage"]  # type: ignore[attr-defined]
    member = next(p for p in usage.params if p.name == "member")
    assert member.metavar == "MEMBER"


def test_python_cli_py_without_the_libraries_says_how_to_install(tmp_path: Path) -> None:
    """A checkout without its .venv, run by a Python that lacks typer: a message, not a traceback."""
    shutil.copy(REPO / "cli.py", tmp_path / "cli.py")
    (tmp_path / "cmclaims").symlink_to(REPO / "cmclaims")
    # -S: no site-packages, so none of cmclaims' libraries can be imported
    done = subprocess.run([sys.executable, "-S", str(tmp_path / "cli.py"), "validate", "x.csv"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "is not installed" in done.stderr and "make install" in done.stderr


def test_python_cli_py_runs_cmclaims() -> None:
    done = subprocess.run([sys.executable, str(REPO / "cli.py"), "--version"], capture_output=True, text=True,
                          timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, f"cmclaims {__version__}")
