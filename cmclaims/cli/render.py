"""The run summary as a rich table, for the clerk at the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def _money(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def _signed_money(value: float) -> str:
    """A change in dollars: +$12.50, -$1,905.50."""
    return f"+${value:,.2f}" if value > 0 else _money(value)


def render_summary(summary: dict, console: Console) -> None:
    """Print the run's lines, units and dollars, its findings per rule, and what was skipped."""
    counts, units, dollars = summary["counts"], summary["units"], summary["dollars"]
    profile = summary["profile"]
    console.print(f"[bold]cmclaims validate[/bold] {summary['run_id']}  profile {profile['name']}  "
                  f"code tables {summary['code_table_version']}")
    table = Table(title=None, show_edge=False, pad_edge=False)
    for heading in ("", "lines", "units", "dollars"):
        table.add_column(heading, justify="right" if heading else "left")
    table.add_row("in", f"{counts['lines_in']:,}", f"{units['units_in']:,}", _money(dollars["charge_in"]))
    table.add_row("clean", f"{counts['lines_clean']:,}", f"{units['units_clean']:,}", _money(dollars["charge_clean"]))
    table.add_row(
        "rejected", f"{counts['lines_rejected']:,}", f"{units['units_rejected']:,}", _money(dollars["charge_rejected"])
    )
    table.add_row(
        "adjusted",
        f"{counts['lines_adjusted']:,}",
        f"{units['units_adjustment']:+,}",
        _signed_money(dollars["charge_adjustment"]),
    )
    table.add_row("billable", "", f"{units['units_billable']:,}", _money(dollars["charge_billable"]))
    console.print(table)

    if summary["findings"]:
        rules = Table(show_edge=False, pad_edge=False)
        for heading, justify in (("rule", "left"), ("name", "left"), ("severity", "left"),
                                 ("findings", "right"), ("rejected", "right"), ("adjusted", "right"),
                                 ("held", "right")):
            rules.add_column(heading, justify=justify)  # type: ignore[arg-type]
        for finding in summary["findings"]:
            # A warning rejects nothing: the lines it flagged that are rejected were rejected by another rule,
            # whose row counts them and their dollars.
            warning = finding["severity"] == "warning"
            adjusted = finding.get("lines_adjusted")
            rules.add_row(
                finding["rule"], finding["name"], finding["severity"], f"{finding['findings']:,}",
                "-" if warning else f"{finding['lines_rejected']:,}",
                "" if adjusted is None else f"{adjusted:,}",
                "-" if warning else _money(finding["charge_held"]),
            )
        console.print()
        console.print(rules)
        held = dollars["charge_rejected"] - dollars["charge_adjustment"]
        console.print(f"held back in all, each line once: {_money(held)} ({counts['lines_rejected']:,} lines "
                      f"rejected, {_money(dollars['charge_rejected'])}; {counts['lines_adjusted']:,} cut back, "
                      f"{_money(-dollars['charge_adjustment'])}). A line flagged by two rules counts in both "
                      "rows above, so the rows can add up to more.")
    else:
        console.print("\nno findings: every line is clean")

    for skipped in summary["rules_skipped"]:
        console.print(f"[yellow]skipped[/yellow] {skipped['rule']} {skipped['name']}: {escape(skipped['reason'])}")
    for problem in summary["side_files"]["problems"][:20]:
        # File names and column names come from the user's files: never read as markup.
        console.print(f"[yellow]left out[/yellow] {escape(str(problem['file']))} row {problem['row']}, "
                      f"{escape(str(problem['column']))}: {escape(str(problem['problem']))}")
    column_map = summary.get("column_map")
    if column_map:
        console.print(_column_map_line(column_map))
    ledger = summary.get("ledger", {})
    if ledger.get("mode") not in (None, "off"):
        console.print(_ledger_line(ledger))
    outputs = summary.get("outputs", {})
    if outputs:
        console.print(f"\nclean file: {escape(outputs['clean'])}\nexceptions: {escape(outputs['exceptions'])}")


def _column_map_line(report: dict) -> str:
    """What the column map did tonight: spellings mapped, and what it names that the export lacks."""
    lines = sum(v["lines"] for v in report["values"])
    line = f"column map: {escape(report['file'])}, {len(report['values'])} spellings mapped on {lines:,} lines"
    absent = report["values_not_in_export"]
    if absent:
        line += f"; {len(absent)} spellings it names are in no line tonight"
    for header in report["headers_not_in_export"]:
        line += f"\n[yellow]column map[/yellow] names the header {escape(repr(header['header']))} for " \
                f"{header['column']}, which the export does not have"
    return line


def _ledger_line(ledger: dict) -> str:
    """What the run did with the ledger, in a clerk's words."""
    path = escape(str(ledger.get("path") or "(no ledger file yet)"))
    earlier = f"{ledger.get('earlier_lines_loaded', 0):,} earlier lines read"
    if ledger["mode"] == "dry-run":
        return f"ledger: {path}, {earlier}; dry run, nothing recorded"
    line = f"ledger: {path}, {earlier}, {ledger.get('lines_recorded', 0):,} lines recorded"
    if ledger.get("previous_executions_of_this_run"):
        line += f" (these exports were validated before: execution {ledger.get('execution')} replaces the earlier one)"
    return line
