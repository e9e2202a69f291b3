"""A report at the terminal: rich tables of the first --top rows, and the verdict as the last line.

The verdict of a run comes last so that it is what the eye lands on (and
what `tail -1` of cron's mail shows): green when the run reconciles, bold red
when it does not. Of the checks only those that fail are listed; every
check is in the JSON, CSV, XLSX and HTML formats.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cmclaims.report.display import formatted, heading, is_numeric_column, shown_rows
from cmclaims.report.model import Report, ReportTable


def _rich_table(table: ReportTable, top: int | None) -> tuple[Table, int]:
    frame, left_out = shown_rows(table, top)
    text = formatted(table, frame)
    rich = Table(title=f"[bold]{escape(table.title)}[/bold]", title_justify="left", show_edge=False,
                 pad_edge=False)
    for column in frame.columns:
        rich.add_column(escape(heading(column)) or " ", justify="right" if is_numeric_column(table, column) else "left")
    for values in text.itertuples(index=False):
        cells = [escape(str(v)) for v in values]
        if "result" in text.columns and values[list(text.columns).index("result")] == "FAILS":
            cells = [f"[bold red]{c}[/bold red]" for c in cells]
        rich.add_row(*cells)
    return rich, left_out


def render_terminal(report: Report, console: Console, top: int | None = 20) -> None:
    """Print the report: facts, tables (first `top` rows each), notes, and the verdict last."""
    console.print(f"[bold]{escape(report.title)}[/bold]")
    for name, value in report.facts:
        console.print(f"  {escape(name)}: {escape(value)}")
    for table in report.tables:
        console.print()
        if table.key == "checks":
            _print_checks(table, console)
            continue
        if table.frame.empty:
            console.print(f"[bold]{escape(table.title)}[/bold]: none")
            continue
        rich, left_out = _rich_table(table, top)
        console.print(rich)
        if table.note:
            console.print(f"[dim]{escape(table.note)}[/dim]")
        if left_out:
            rows = "row" if left_out == 1 else "rows"
            console.print(f"[dim]... and {left_out:,} more {rows} (--top N shows more; CSV and XLSX have all)[/dim]")
    for note in report.notes:
        console.print(f"[yellow]note[/yellow] {escape(note)}")
    if report.verdict is not None:
        console.print()
        style = "bold green" if report.verdict.ok else "bold red"
        console.print(f"[{style}]{escape(report.verdict.line)}[/{style}]", soft_wrap=True)  # one line for `tail -1`


def _print_checks(table: ReportTable, console: Console) -> None:
    failing = table.frame[table.frame["result"] == "FAILS"]
    if failing.empty:
        frame = table.frame
        compared = int((frame["result"] == "ok").sum())
        sources = ["counted from the lines"] + [name for name, column in (("summary.json", "summary_json"),
                                                                          ("the ledger", "ledger_record"))
                                                 if frame[column].notna().any()]
        console.print(f"[bold]Checks[/bold]: all {compared} pass ({' = '.join(sources)})")
        return
    shown = ReportTable(table.key, "Checks that fail", failing, table.money, table.percent)
    rich, _ = _rich_table(shown, None)
    console.print(rich)
