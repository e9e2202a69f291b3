"""The validate summary at the terminal: dollars with `$`, warnings that reject nothing, held counted once."""

from __future__ import annotations

from rich.console import Console

from cmclaims.cli.render import render_summary


def _summary() -> dict:
    return {
        "run_id": "run-1", "profile": {"name": "id-optum"}, "code_table_version": "t1",
        "counts": {"lines_in": 10, "lines_clean": 7, "lines_rejected": 3, "lines_adjusted": 2},
        "units": {"units_in": 40, "units_clean": 28, "units_rejected": 12, "units_adjustment": -3,
                  "units_billable": 25},
        "dollars": {"charge_in": 800.0, "charge_clean": 560.0, "charge_rejected": 240.0,
                    "charge_adjustment": -60.0, "charge_billable": 500.0},
        "findings": [
            {"rule": "CM102", "name": "units.differ_from_time", "severity": "warning", "findings": 4,
             "lines_rejected": 2, "lines_adjusted": 2, "lines_warned": 0, "charge_held": 220.0},
            {"rule": "CM201", "name": "limits.daily", "severity": "error", "findings": 3, "lines_rejected": 3,
             "lines_adjusted": 0, "lines_warned": 0, "charge_held": 240.0},
            {"rule": "CM302", "name": "activity.not_billable", "severity": "error", "findings": 1,
             "lines_rejected": 1, "lines_adjusted": 0, "lines_warned": 0, "charge_held": 80.0},
        ],
        "rules_skipped": [], "side_files": {"problems": []},
    }


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.split("│")]


def _rendered() -> list[str]:
    console = Console(record=True, width=200)
    render_summary(_summary(), console)
    return console.export_text().splitlines()


def test_the_adjusted_row_shows_dollars_with_a_dollar_sign() -> None:
    [adjusted] = [row for row in _rendered() if row.startswith("adjusted")]
    assert "-$60.00" in adjusted and "-3" in adjusted


def test_a_warning_row_does_not_say_it_rejected_anything() -> None:
    [warning] = [_cells(row) for row in _rendered() if row.startswith("CM102")]
    assert warning[3:] == ["4", "-", "2", "-"]  # findings, rejected, adjusted, held
    [error] = [_cells(row) for row in _rendered() if row.startswith("CM201")]
    assert error[3:] == ["3", "3", "0", "$240.00"]


def test_the_held_total_counts_each_line_once_and_says_why_rows_add_up_to_more() -> None:
    text = "\n".join(_rendered())
    # Rule rows hold $320.00 (CM201 and CM302 share a line); the lines held $240.00 + $60.00 once each.
    assert "held back in all, each line once: $300.00" in text
    assert "counts in both" in text
